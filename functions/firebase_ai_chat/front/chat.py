"""``AssistantChat``: the front API that callables use.

Every call checks the owner, changes the chat in one transaction, enqueues at
most one task and returns at once; it never waits for the model.

Posting while the chat is ``processing`` never loses the message: it is stored
at once with the id of the *next* dispatch (``chats/{id}.nextDispatchId``) and
answered by the run that starts when the current one ends.

A ``client_message_id`` (the client's idempotency key) makes ``create`` and
``post_message`` safe to retry: the chat id (for ``create``) and the message
ids derive from the user and the key, so a repeated call finds what the first
one stored and returns the chat as it is, storing and running nothing new (it
enqueues the first call's run again, harmlessly, in case the first call died
between its commit and its enqueue). Two racing calls with one key meet in
the same transaction: one writes, the other replays. The same key with
another message is ``invalid-argument``. A key's scope is the user for
``create`` and the user and the chat for a post: the key that created a chat
may name a post to it too, a call of its own (``client_keys.py``).
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ..engines.base import UserInput
from ..errors import ChatError, ErrorCode
from ..handover import hand_back, hand_over
from ..limits import Limits, UsageDocument
from ..models import (
    AssistantConfig,
    Author,
    ChatCommand,
    ChatConfig,
    ChatMessage,
    ChatMeta,
    ChatResult,
    ChatState,
)
from ..records import RunState, run_path
from ..status import ChatStatus, check_transition
from ..store.claims import CLAIM_PATIENCE, Patience
from ..store.port import ChatSnapshot, ChatStore, ChatWrite, Held
from ..tasks.port import TaskQueue
from ..tasks.watchdog_timer import WatchdogTimer
from ..usage import Gate, guarded
from .client_keys import CREATED, created_chat_id, message_id, owned, post_namespace, replayed, rerun
from .stop import CommittedStop, Messages, StopOutcome, request_stop

logger = logging.getLogger(__name__)

STOP_WAIT = 1.5
"""Seconds ``stop`` gives the worker running an answer to stop it (it hears the stop at once)."""


def new_dispatch_id() -> str:
    """A fresh dispatch id (also the Cloud Task name suffix, so letters, digits and dashes only)."""
    return uuid.uuid4().hex


def _data_dict(data: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    return data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)


def _command_meta(meta: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(meta) if meta is not None else None


def _metered(command: ChatCommand, usage: list[UsageDocument]) -> ChatCommand:
    """``command`` carrying the usage its post wrote (the last attempt's: the one committed), so the
    worker meters the run without reading it again."""
    return command.model_copy(update={"usage": usage[-1]}) if usage else command


def _result(collection: str, chat_id: str, state: ChatState) -> ChatResult:
    return ChatResult(chat_document=f"{collection}/{chat_id}", status=state.status, data=state.data)


def user_messages(
    *,
    new_id: Callable[[], str],
    user_id: str,
    dispatch_id: str,
    texts: Sequence[str],
    meta: ChatMeta | None,
    key: str | None,
    namespace: str = CREATED,
) -> dict[str, ChatMessage]:
    """The user's messages of one call, by id (derived from the client's key in ``namespace`` when there
    is a key)."""
    message_meta = meta.user_message_meta if meta else None
    ids = [message_id(user_id, key, index, namespace) if key else new_id() for index in range(len(texts))]
    return {
        ids[index]: ChatMessage(
            user_id=user_id,
            author=Author.USER,
            text=text,
            meta=message_meta,
            dispatch_id=dispatch_id,
            in_batch_sort_index=index,
        )
        for index, text in enumerate(texts)
    }


def _post(
    snapshot: ChatSnapshot,
    *,
    chat_id: str,
    user_id: str,
    messages: Sequence[str],
    fresh_dispatch: str,
    key: str | None,
    command_meta: Mapping[str, Any] | None,
    new_id: Callable[[], str],
    patience: Patience,
) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
    """Store the messages: answered by a new run, or by the one after the run in progress (after its
    next commit if it holds the chat: ``claims.py``)."""
    chat = owned(snapshot.state, user_id)
    namespace = post_namespace(user_id, chat_id, key) if key else CREATED
    replay = replayed(snapshot, message_id(user_id, key, 0, namespace), messages[0], user_id) if key else None
    if replay is not None:
        return ChatWrite(), (chat, rerun(chat_id, *replay, _command_meta(command_meta)))
    if chat.status.is_final or chat.single_run:
        raise ChatError(ErrorCode.FAILED_PRECONDITION, f"The chat is {chat.status.value}: it takes no more messages.")
    if chat.status is ChatStatus.PROCESSING:
        if patience.waits_for(chat):
            raise Held()
        dispatch_id = chat.next_dispatch_id or fresh_dispatch
        new_state = chat.model_copy(update={"next_dispatch_id": dispatch_id, "run_claim": None})
        command = None
    else:
        check_transition(chat.status, ChatStatus.PROCESSING)
        dispatch_id = fresh_dispatch
        new_state = chat.model_copy(update={"status": ChatStatus.PROCESSING, "latest_dispatch_id": dispatch_id})
        command = ChatCommand(
            chat_id=chat_id,
            dispatch_id=dispatch_id,
            meta=_command_meta(command_meta),
            input=list(messages),
            assistant_id=chat.config.assistant_id,
        )
    written = user_messages(
        new_id=new_id,
        user_id=user_id,
        dispatch_id=dispatch_id,
        texts=messages,
        meta=chat.meta,
        key=key,
        namespace=namespace,
    )
    return ChatWrite(state=new_state, messages=written), (new_state, command)


def _create(
    snapshot: ChatSnapshot,
    *,
    state: ChatState,
    messages: dict[str, ChatMessage],
    command: ChatCommand | None,
    key: str | None,
) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
    """Create the chat with its first messages; a retry with the same client key finds it instead."""
    if snapshot.state is None:
        return ChatWrite(state=state, messages=messages), (state, command)
    first = next(iter(messages.values()), None)
    replay = replayed(snapshot, next(iter(messages)), first.text, state.user_id) if key and first else None
    if replay is None or command is None:
        raise ChatError(ErrorCode.FAILED_PRECONDITION, "Chat already exists.")
    return ChatWrite(), (replay[0], rerun(command.chat_id, *replay, command.meta))


def _switched(
    snapshot: ChatSnapshot,
    *,
    chat_id: str,
    user_id: str,
    dispatch_id: str,
    messages: Sequence[str],
    command_meta: Mapping[str, Any] | None,
    switch: Callable[[ChatConfig], ChatConfig],
) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
    """Change the assistant while the chat waits for the user; with messages, run the new one."""
    chat = owned(snapshot.state, user_id)
    if chat.status not in (ChatStatus.CREATED, ChatStatus.USER_INPUT):
        raise ChatError(
            ErrorCode.FAILED_PRECONDITION, f"The chat is {chat.status.value}: it cannot change assistant now."
        )
    config = switch(chat.config)
    if messages:
        check_transition(chat.status, ChatStatus.PROCESSING)
    if not messages:
        switched = chat.model_copy(update={"config": config})
        return ChatWrite(state=switched), (switched, None)
    state = chat.model_copy(
        update={"config": config, "status": ChatStatus.PROCESSING, "latest_dispatch_id": dispatch_id}
    )
    run = RunState(dispatch_id=dispatch_id, input=[UserInput(text=text) for text in messages])
    command = ChatCommand(
        chat_id=chat_id,
        dispatch_id=dispatch_id,
        meta=_command_meta(command_meta),
        assistant_id=config.assistant_id,
    )
    return ChatWrite(state=state, records={run_path(dispatch_id): run.to_record()}), (state, command)


def _closed(snapshot: ChatSnapshot, *, user_id: str, dispatch_id: str) -> tuple[ChatWrite, tuple[ChatState, bool]]:
    """Close the chat unless it is closed or failed already."""
    chat = owned(snapshot.state, user_id)
    if chat.status.is_final:
        return ChatWrite(), (chat, False)
    check_transition(chat.status, ChatStatus.COMPLETE)
    new_state = chat.model_copy(
        update={
            "status": ChatStatus.COMPLETE,
            "latest_dispatch_id": dispatch_id,
            "next_dispatch_id": None,
            "stop_requested": None,
        }
    )
    return ChatWrite(state=new_state), (new_state, True)


def _cannot_stop(
    snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, messages: Messages
) -> tuple[ChatWrite, StopOutcome]:
    """The committed stop of a front API built without one: refused, saying how to give it."""
    raise ChatError(
        ErrorCode.FAILED_PRECONDITION,
        "No worker stopped this answer, and this AssistantChat cannot stop it itself: "
        "build it with committed_stop=firebase_ai_chat.runtime.stop_committed (ChatApp does).",
    )


class AssistantChat:
    """Creates chats and posts to them on behalf of an authenticated user."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        dispatch_ids: Callable[[], str] = new_dispatch_id,
        stop_wait: float = STOP_WAIT,
        gate: Gate | None = None,
        paused: Callable[[], bool] = lambda: False,
        claim_patience: float = CLAIM_PATIENCE,
        watchdog: WatchdogTimer | None = None,
        committed_stop: CommittedStop | None = None,
    ) -> None:
        """``stop_wait``: how long ``stop`` lets the worker stop a run before stopping it itself;
        ``gate`` counts posts and new chats in the users' usage documents (for ``limits``);
        ``paused`` is the global switch: while it is on, posts are refused (``unavailable``);
        ``claim_patience``: seconds a post waits for a run's claim on the chat (``claims.py``);
        ``watchdog`` arms the delayed check of each run a call may start, before its commit
        (``watchdog.py``; default: on this store and queue); ``committed_stop`` stops a run no
        worker stops (``firebase_ai_chat.runtime.stop_committed``, which ``ChatApp`` passes): without
        it ``stop`` refuses such a run (``failed-precondition``)."""
        self._store = store
        self._queue = queue
        self._dispatch_ids = dispatch_ids
        self._stop_wait = stop_wait
        self._gate = gate
        self._paused = paused
        self._claim_patience = claim_patience
        self._watchdog = watchdog or WatchdogTimer(queue=queue)
        self._committed_stop = committed_stop or _cannot_stop

    def create(
        self,
        *,
        user_id: str,
        assistant: AssistantConfig,
        data: BaseModel | Mapping[str, Any],
        messages: Sequence[str] = (),
        meta: ChatMeta | None = None,
        command_meta: Mapping[str, Any] | None = None,
        client_message_id: str | None = None,
        limits: Limits | None = None,
    ) -> ChatResult:
        """Create a chat owned by ``user_id``; with ``messages`` it starts a run at once.

        With ``client_message_id`` (and messages) a retried call returns the chat the first one created.
        Under ``limits`` it counts as a new chat and (with messages) a post.
        """
        return self._start(
            user_id=user_id,
            assistant=assistant,
            data=data,
            messages=messages,
            meta=meta,
            command_meta=command_meta,
            key=client_message_id if messages else None,
            limits=limits,
        )

    def single_run(
        self,
        *,
        user_id: str,
        assistant: AssistantConfig,
        data: BaseModel | Mapping[str, Any],
        messages: Sequence[str],
        meta: ChatMeta | None = None,
        command_meta: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> ChatResult:
        """Create a chat that answers ``messages`` once and ends ``complete`` (it takes no more posts)."""
        if not messages:
            raise ChatError(ErrorCode.INVALID_ARGUMENT, "A single run needs a message.")
        return self._start(
            user_id=user_id,
            assistant=assistant,
            data=data,
            messages=messages,
            meta=meta,
            command_meta=command_meta,
            single_run=True,
            limits=limits,
        )

    def _start(
        self,
        *,
        user_id: str,
        assistant: AssistantConfig,
        data: BaseModel | Mapping[str, Any],
        messages: Sequence[str],
        meta: ChatMeta | None,
        command_meta: Mapping[str, Any] | None,
        single_run: bool = False,
        key: str | None = None,
        limits: Limits | None = None,
    ) -> ChatResult:
        chat_id = created_chat_id(user_id, key) if key else self._store.new_id()
        dispatch_id = self._dispatch_ids()
        status = ChatStatus.PROCESSING if messages else ChatStatus.CREATED
        state = ChatState(
            user_id=user_id,
            status=status,
            data=_data_dict(data),
            config=ChatConfig(**assistant.model_dump()),
            meta=meta,
            latest_dispatch_id=dispatch_id,
            single_run=single_run,
        )
        written = user_messages(
            new_id=self._store.new_id, user_id=user_id, dispatch_id=dispatch_id, texts=messages, meta=meta, key=key
        )
        first_run = ChatCommand(
            chat_id=chat_id,
            dispatch_id=dispatch_id,
            meta=_command_meta(command_meta),
            input=list(messages),
            assistant_id=assistant.assistant_id,
        )
        change = functools.partial(
            _create, state=state, messages=written, command=first_run if messages else None, key=key
        )
        usage: list[UsageDocument] = []
        limited, outside = guarded(
            change,
            self._gate,
            self._paused,
            user_id=user_id,
            limits=limits,
            posts=int(bool(messages)),
            chats=1,
            written=usage,
        )
        if messages:
            self._watchdog.arm(chat_id, dispatch_id)
        stored, command = self._store.update(chat_id, limited, outside=outside)
        logger.info("chat created", extra={"chatId": chat_id, "dispatchId": stored.latest_dispatch_id})
        if command is not None:
            self._queue.enqueue(_metered(command, usage))
        return _result(self._store.collection, chat_id, stored)

    def post_message(
        self,
        *,
        user_id: str,
        chat_id: str,
        messages: Sequence[str],
        command_meta: Mapping[str, Any] | None = None,
        client_message_id: str | None = None,
        limits: Limits | None = None,
    ) -> ChatResult:
        """Add user messages; they are answered now, or after the run in progress.

        With ``client_message_id`` a retried call stores and runs nothing new and returns the chat.
        Under ``limits`` the call counts as one post."""
        if not messages:
            raise ChatError(ErrorCode.INVALID_ARGUMENT, "No message to post.")
        fresh_dispatch = self._dispatch_ids()
        self._watchdog.arm(chat_id, fresh_dispatch)  # the run that answers the post, now or after the live one
        change = functools.partial(
            _post,
            chat_id=chat_id,
            user_id=user_id,
            messages=messages,
            fresh_dispatch=fresh_dispatch,
            key=client_message_id,
            command_meta=command_meta,
            new_id=self._store.new_id,
            patience=Patience(self._claim_patience),
        )
        usage: list[UsageDocument] = []
        limited, outside = guarded(
            change, self._gate, self._paused, user_id=user_id, limits=limits, posts=1, chats=0, written=usage
        )
        state, command = self._store.update(chat_id, limited, outside=outside)
        if command is not None:
            self._queue.enqueue(_metered(command, usage))
        logger.info(
            "message posted",
            extra={"chatId": chat_id, "dispatchId": state.next_dispatch_id or state.latest_dispatch_id},
        )
        return _result(self._store.collection, chat_id, state)

    def hand_over(
        self,
        *,
        user_id: str,
        chat_id: str,
        assistant: AssistantConfig,
        messages: Sequence[str] = (),
        command_meta: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """Switch the chat to ``assistant``, stacking the current one; ``messages`` go to the new
        assistant (they instruct it; they are not shown as the user's). Only while the chat waits
        for the user (``created`` or ``userInput``): else ``failed-precondition``."""
        return self._switch(
            user_id=user_id,
            chat_id=chat_id,
            messages=messages,
            command_meta=command_meta,
            switch=lambda config: hand_over(config, assistant),
        )

    def hand_back(
        self,
        *,
        user_id: str,
        chat_id: str,
        messages: Sequence[str] = (),
        command_meta: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """Return the chat to the assistant it was handed over from (``failed-precondition`` if none)."""
        return self._switch(
            user_id=user_id, chat_id=chat_id, messages=messages, command_meta=command_meta, switch=hand_back
        )

    def _switch(
        self,
        *,
        user_id: str,
        chat_id: str,
        messages: Sequence[str],
        command_meta: Mapping[str, Any] | None,
        switch: Callable[[ChatConfig], ChatConfig],
    ) -> ChatResult:

        dispatch_id = self._dispatch_ids()
        if messages:
            self._watchdog.arm(chat_id, dispatch_id)
        change = functools.partial(
            _switched,
            chat_id=chat_id,
            user_id=user_id,
            dispatch_id=dispatch_id,
            messages=messages,
            command_meta=command_meta,
            switch=switch,
        )
        state, command = self._store.update(chat_id, change)
        if command is not None:
            self._queue.enqueue(command)
        logger.info("assistant is now %s", state.config.assistant_id, extra={"chatId": chat_id})
        return _result(self._store.collection, chat_id, state)

    def close_chat(
        self,
        *,
        user_id: str,
        chat_id: str,
        command_meta: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """Close the chat (``complete``); a run in progress is abandoned, queued messages too.

        Closing a chat that is already closed or failed returns it unchanged.
        """
        dispatch_id = self._dispatch_ids()

        change = functools.partial(_closed, user_id=user_id, dispatch_id=dispatch_id)
        state, closed = self._store.update(chat_id, change)
        if closed:
            self._queue.enqueue(
                ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, action="close", meta=_command_meta(command_meta))
            )
            logger.info("chat closed", extra={"chatId": chat_id, "dispatchId": dispatch_id})
        return _result(self._store.collection, chat_id, state)

    def stop(self, *, user_id: str, chat_id: str) -> ChatResult:
        """Stop the answer in progress (``stop.py``): the chat returns to ``userInput`` (a single run:
        ``complete``) with what was said so far kept. The worker running it stops it at once; when
        none does within ``stop_wait`` seconds (a suspended call, a run not started, a worker busy in
        a long tool call), this call stops it from what is committed. A chat that is not
        ``processing`` is returned unchanged."""

        def messages(dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
            return self._store.messages(chat_id, dispatch_id=dispatch_id, author=author)

        change = functools.partial(
            request_stop, chat_id=chat_id, user_id=user_id, messages=messages, committed=self._committed_stop
        )
        outcome = self._store.update(chat_id, change)
        state = outcome.state
        if not outcome.done:
            dispatch_id = state.latest_dispatch_id
            stopped = self._stopped_by_worker(chat_id, dispatch_id)
            if stopped is None:
                at_once = functools.partial(
                    self._committed_stop, chat_id=chat_id, dispatch_id=dispatch_id, messages=messages
                )
                outcome = self._store.update(chat_id, at_once)
                stopped = outcome.state
            state = stopped
        if outcome.follow is not None:
            self._queue.enqueue(outcome.follow)
        logger.info("stop: the chat is %s", state.status.value, extra={"chatId": chat_id})
        return _result(self._store.collection, chat_id, state)

    def _stopped_by_worker(self, chat_id: str, dispatch_id: str) -> ChatState | None:
        """The chat once its run of ``dispatch_id`` is over, if that happens within ``stop_wait`` s."""
        deadline = time.monotonic() + self._stop_wait
        while time.monotonic() < deadline:
            time.sleep(0.1)
            chat = self._store.load(chat_id).state
            if chat is None:
                raise ChatError(ErrorCode.NOT_FOUND, "Chat not found.")
            if not chat.is_running(dispatch_id):
                return chat
        return None
