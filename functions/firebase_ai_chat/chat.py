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
another message is ``invalid-argument``.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from .engines.base import UserInput
from .errors import ChatError, ErrorCode
from .handover import hand_back, hand_over
from .models import (
    AssistantConfig,
    Author,
    ChatCommand,
    ChatConfig,
    ChatMessage,
    ChatMeta,
    ChatResult,
    ChatState,
)
from .run_state import RunState, run_path
from .status import ChatStatus, check_transition
from .store import ChatSnapshot, ChatStore, ChatWrite
from .task_queue import TaskQueue

logger = logging.getLogger(__name__)


def new_dispatch_id() -> str:
    """A fresh dispatch id (also the Cloud Task name suffix, so letters, digits and dashes only)."""
    return uuid.uuid4().hex


def _owned(current: ChatState | None, user_id: str) -> ChatState:
    if current is None:
        raise ChatError(ErrorCode.NOT_FOUND, "Chat not found.")
    if current.user_id != user_id:
        raise ChatError(ErrorCode.PERMISSION_DENIED, "This chat belongs to another user.")
    return current


def _data_dict(data: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    return data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)


def _command_meta(meta: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(meta) if meta is not None else None


def _result(chat_id: str, state: ChatState) -> ChatResult:
    return ChatResult(chat_document=f"chats/{chat_id}", status=state.status, data=state.data)


def keyed_id(*parts: str) -> str:
    """A document id derived from ``parts`` (a user and a client's key): the same parts, the same id."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _replayed(
    snapshot: ChatSnapshot, first_message_id: str, text: str, user_id: str
) -> tuple[ChatState, ChatMessage] | None:
    """The chat and message stored by an earlier call with the same client key, if there was one."""
    found = snapshot.record(f"messages/{first_message_id}")
    if found is None:
        return None
    message = ChatMessage.model_validate(found)
    if message.user_id != user_id or message.text != text:
        raise ChatError(ErrorCode.INVALID_ARGUMENT, "clientMessageId was already used for another message.")
    return _owned(snapshot.state, user_id), message


def _rerun(chat_id: str, chat: ChatState, message: ChatMessage, meta: dict[str, Any] | None) -> ChatCommand | None:
    """The run of a replayed call's message, when it is the chat's live one (enqueuing it again is harmless)."""
    if not chat.is_running(message.dispatch_id):
        return None
    return ChatCommand(
        chat_id=chat_id, dispatch_id=message.dispatch_id, meta=meta, assistant_id=chat.config.assistant_id
    )


def _message_id(user_id: str, key: str | None, index: int) -> str:
    return f"{keyed_id(user_id, 'message', key or '')}-{index}"


class AssistantChat:
    """Creates chats and posts to them on behalf of an authenticated user."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        dispatch_ids: Callable[[], str] = new_dispatch_id,
    ) -> None:
        self._store = store
        self._queue = queue
        self._dispatch_ids = dispatch_ids

    def _user_messages(
        self, *, user_id: str, dispatch_id: str, texts: Sequence[str], meta: ChatMeta | None, key: str | None
    ) -> dict[str, ChatMessage]:
        message_meta = meta.user_message_meta if meta else None
        ids = [_message_id(user_id, key, index) if key else self._store.new_id() for index in range(len(texts))]
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
    ) -> ChatResult:
        """Create a chat owned by ``user_id``; with ``messages`` it starts a run at once.

        With ``client_message_id`` (and messages) a retried call returns the chat the first one created.
        """
        return self._create(
            user_id=user_id,
            assistant=assistant,
            data=data,
            messages=messages,
            meta=meta,
            command_meta=command_meta,
            key=client_message_id if messages else None,
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
    ) -> ChatResult:
        """Create a chat that answers ``messages`` once and ends ``complete`` (it takes no more posts)."""
        if not messages:
            raise ChatError(ErrorCode.INVALID_ARGUMENT, "A single run needs a message.")
        return self._create(
            user_id=user_id,
            assistant=assistant,
            data=data,
            messages=messages,
            meta=meta,
            command_meta=command_meta,
            single_run=True,
        )

    def _create(
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
    ) -> ChatResult:
        chat_id = keyed_id(user_id, "chat", key) if key else self._store.new_id()
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
        written = self._user_messages(user_id=user_id, dispatch_id=dispatch_id, texts=messages, meta=meta, key=key)
        command_data = _command_meta(command_meta)

        def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
            if snapshot.state is not None:
                replay = _replayed(snapshot, _message_id(user_id, key, 0), messages[0], user_id) if key else None
                if replay is None:
                    raise ChatError(ErrorCode.FAILED_PRECONDITION, "Chat already exists.")
                return ChatWrite(), (replay[0], _rerun(chat_id, *replay, command_data))
            command = (
                ChatCommand(
                    chat_id=chat_id,
                    dispatch_id=dispatch_id,
                    meta=command_data,
                    input=list(messages),
                    assistant_id=assistant.assistant_id,
                )
                if messages
                else None
            )
            return ChatWrite(state=state, messages=written), (state, command)

        stored, command = self._store.update(chat_id, change)
        logger.info("chat created", extra={"chatId": chat_id, "dispatchId": stored.latest_dispatch_id})
        if command is not None:
            self._queue.enqueue(command)
        return _result(chat_id, stored)

    def post_message(
        self,
        *,
        user_id: str,
        chat_id: str,
        messages: Sequence[str],
        command_meta: Mapping[str, Any] | None = None,
        client_message_id: str | None = None,
    ) -> ChatResult:
        """Add user messages; they are answered now, or after the run in progress.

        With ``client_message_id`` a retried call stores and runs nothing new and returns the chat."""
        if not messages:
            raise ChatError(ErrorCode.INVALID_ARGUMENT, "No message to post.")
        fresh_dispatch = self._dispatch_ids()
        key = client_message_id

        def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
            chat = _owned(snapshot.state, user_id)
            replay = _replayed(snapshot, _message_id(user_id, key, 0), messages[0], user_id) if key else None
            if replay is not None:
                return ChatWrite(), (chat, _rerun(chat_id, *replay, _command_meta(command_meta)))
            if chat.status.is_final or chat.single_run:
                raise ChatError(
                    ErrorCode.FAILED_PRECONDITION, f"The chat is {chat.status.value}: it takes no more messages."
                )
            if chat.status is ChatStatus.PROCESSING:
                dispatch_id = chat.next_dispatch_id or fresh_dispatch
                new_state = chat.model_copy(update={"next_dispatch_id": dispatch_id})
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
            written = self._user_messages(
                user_id=user_id, dispatch_id=dispatch_id, texts=messages, meta=chat.meta, key=key
            )
            return ChatWrite(state=new_state, messages=written), (new_state, command)

        state, command = self._store.update(chat_id, change)
        if command is not None:
            self._queue.enqueue(command)
        logger.info(
            "message posted",
            extra={"chatId": chat_id, "dispatchId": state.next_dispatch_id or state.latest_dispatch_id},
        )
        return _result(chat_id, state)

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

        def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
            chat = _owned(snapshot.state, user_id)
            if chat.status not in (ChatStatus.CREATED, ChatStatus.USER_INPUT):
                raise ChatError(
                    ErrorCode.FAILED_PRECONDITION, f"The chat is {chat.status.value}: it cannot change assistant now."
                )
            config = switch(chat.config)
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

        state, command = self._store.update(chat_id, change)
        if command is not None:
            self._queue.enqueue(command)
        logger.info("assistant is now %s", state.config.assistant_id, extra={"chatId": chat_id})
        return _result(chat_id, state)

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

        def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, tuple[ChatState, bool]]:
            chat = _owned(snapshot.state, user_id)
            if chat.status.is_final:
                return ChatWrite(), (chat, False)
            check_transition(chat.status, ChatStatus.COMPLETE)
            new_state = chat.model_copy(
                update={"status": ChatStatus.COMPLETE, "latest_dispatch_id": dispatch_id, "next_dispatch_id": None}
            )
            return ChatWrite(state=new_state), (new_state, True)

        state, closed = self._store.update(chat_id, change)
        if closed:
            self._queue.enqueue(
                ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, action="close", meta=_command_meta(command_meta))
            )
            logger.info("chat closed", extra={"chatId": chat_id, "dispatchId": dispatch_id})
        return _result(chat_id, state)
