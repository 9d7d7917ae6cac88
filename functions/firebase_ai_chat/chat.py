"""``AssistantChat``: the front API that callables use.

Every call checks the owner, changes the chat in one transaction, enqueues at
most one task and returns at once; it never waits for the model.

Posting while the chat is ``processing`` never loses the message: it is stored
at once with the id of the *next* dispatch (``chats/{id}.nextDispatchId``) and
answered by the run that starts when the current one ends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from .errors import ChatError, ErrorCode
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
from .status import ChatStatus, check_transition
from .store import ChatStore, ChatWrite
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


def _result(chat_id: str, state: ChatState) -> ChatResult:
    return ChatResult(chat_document=f"chats/{chat_id}", status=state.status, data=state.data)


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
        self, *, user_id: str, dispatch_id: str, texts: Sequence[str], meta: ChatMeta | None
    ) -> dict[str, ChatMessage]:
        message_meta = meta.user_message_meta if meta else None
        return {
            self._store.new_id(): ChatMessage(
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
    ) -> ChatResult:
        """Create a chat owned by ``user_id``; with ``messages`` it starts a run at once."""
        chat_id = self._store.new_id()
        dispatch_id = self._dispatch_ids()
        status = ChatStatus.PROCESSING if messages else ChatStatus.CREATED
        state = ChatState(
            user_id=user_id,
            status=status,
            data=_data_dict(data),
            config=ChatConfig(**assistant.model_dump()),
            meta=meta,
            latest_dispatch_id=dispatch_id,
        )
        written = self._user_messages(user_id=user_id, dispatch_id=dispatch_id, texts=messages, meta=meta)

        def change(current: ChatState | None) -> tuple[ChatWrite, ChatState]:
            if current is not None:
                raise ChatError(ErrorCode.FAILED_PRECONDITION, "Chat already exists.")
            return ChatWrite(state=state, messages=written), state

        self._store.update(chat_id, change)
        logger.info("chat created", extra={"chatId": chat_id, "dispatchId": dispatch_id})
        if messages:
            self._queue.enqueue(ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, meta=command_meta))
        return _result(chat_id, state)

    def post_message(
        self,
        *,
        user_id: str,
        chat_id: str,
        messages: Sequence[str],
        command_meta: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """Add user messages; they are answered now, or after the run in progress."""
        if not messages:
            raise ChatError(ErrorCode.INVALID_ARGUMENT, "No message to post.")
        fresh_dispatch = self._dispatch_ids()

        def change(current: ChatState | None) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
            chat = _owned(current, user_id)
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
                command = ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, meta=command_meta)
            written = self._user_messages(user_id=user_id, dispatch_id=dispatch_id, texts=messages, meta=chat.meta)
            return ChatWrite(state=new_state, messages=written), (new_state, command)

        state, command = self._store.update(chat_id, change)
        if command is not None:
            self._queue.enqueue(command)
        logger.info(
            "message posted",
            extra={"chatId": chat_id, "dispatchId": state.next_dispatch_id or state.latest_dispatch_id},
        )
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

        def change(current: ChatState | None) -> tuple[ChatWrite, tuple[ChatState, bool]]:
            chat = _owned(current, user_id)
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
                ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, action="close", meta=command_meta)
            )
            logger.info("chat closed", extra={"chatId": chat_id, "dispatchId": dispatch_id})
        return _result(chat_id, state)
