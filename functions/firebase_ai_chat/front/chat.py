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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ..errors import ChatError, ErrorCode
from ..handover import hand_back, hand_over
from ..limits import Limits
from ..models import AssistantConfig, ChatMeta, ChatResult
from ..store.claims import CLAIM_PATIENCE
from ..store.port import ChatStore
from ..tasks.port import TaskQueue
from ..tasks.watchdog_timer import WatchdogTimer
from ..usage import Gate
from .creating import start
from .parts import FrontParts, new_dispatch_id
from .posting import post
from .stop import CommittedStop, cannot_stop
from .stop_call import stop
from .switching import change_assistant, close

STOP_WAIT = 1.5
"""Seconds ``stop`` gives the worker running an answer to stop it (it hears the stop at once)."""


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
        self._parts = FrontParts(
            store=store,
            queue=queue,
            dispatch_ids=dispatch_ids,
            stop_wait=stop_wait,
            gate=gate,
            paused=paused,
            claim_patience=claim_patience,
            watchdog=watchdog or WatchdogTimer(queue=queue),
            committed_stop=committed_stop or cannot_stop,
        )

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
        return start(
            self._parts,
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
        return start(
            self._parts,
            user_id=user_id,
            assistant=assistant,
            data=data,
            messages=messages,
            meta=meta,
            command_meta=command_meta,
            single_run=True,
            limits=limits,
        )

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
        return post(
            self._parts,
            user_id=user_id,
            chat_id=chat_id,
            messages=messages,
            command_meta=command_meta,
            client_message_id=client_message_id,
            limits=limits,
        )

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
        return change_assistant(
            self._parts,
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
        return change_assistant(
            self._parts,
            user_id=user_id,
            chat_id=chat_id,
            messages=messages,
            command_meta=command_meta,
            switch=hand_back,
        )

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
        return close(self._parts, user_id=user_id, chat_id=chat_id, command_meta=command_meta)

    def stop(self, *, user_id: str, chat_id: str) -> ChatResult:
        """Stop the answer in progress (``stop.py``): the chat returns to ``userInput`` (a single run:
        ``complete``) with what was said so far kept. The worker running it stops it at once; when
        none does within ``stop_wait`` seconds (a suspended call, a run not started, a worker busy in
        a long tool call), this call stops it from what is committed. A chat that is not
        ``processing`` is returned unchanged."""

        return stop(self._parts, user_id=user_id, chat_id=chat_id)
