"""Changing a chat's assistant (hand-over and hand-back, while it waits for the user) and closing it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..commands import ChatCommand
from ..engines.base import Instruction
from ..errors import ChatError, ErrorCode
from ..models import ChatConfig, ChatResult, ChatState
from ..records import RunState, run_path
from ..status import ChatStatus, check_transition
from ..store.documents import ChatSnapshot, ChatWrite
from .client_keys import owned
from .parts import FrontParts

logger = logging.getLogger(__name__)


def switched(
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
        changed = chat.model_copy(update={"config": config})
        return ChatWrite(state=changed), (changed, None)
    state = chat.model_copy(
        update={"config": config, "status": ChatStatus.PROCESSING, "latest_dispatch_id": dispatch_id}
    )
    run = RunState(dispatch_id=dispatch_id, input=[Instruction(text=text) for text in messages], request=[])
    command = ChatCommand.run(chat_id, dispatch_id, assistant_id=config.assistant_id, meta=command_meta)
    return ChatWrite(state=state, records={run_path(dispatch_id): run.to_record()}), (state, command)


def closed(snapshot: ChatSnapshot, *, user_id: str, dispatch_id: str) -> tuple[ChatWrite, tuple[ChatState, bool]]:
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


def change_assistant(
    parts: FrontParts,
    *,
    user_id: str,
    chat_id: str,
    messages: Sequence[str],
    command_meta: Mapping[str, Any] | None,
    switch: Callable[[ChatConfig], ChatConfig],
) -> ChatResult:
    """``AssistantChat.hand_over`` and ``hand_back``."""
    dispatch_id = parts.dispatch_ids()
    if messages:
        parts.watchdog.arm(chat_id, dispatch_id)
    change = functools.partial(
        switched,
        chat_id=chat_id,
        user_id=user_id,
        dispatch_id=dispatch_id,
        messages=messages,
        command_meta=command_meta,
        switch=switch,
    )
    state, command = parts.store.update(chat_id, change)
    if command is not None:
        parts.queue.enqueue(command)
    logger.info("assistant is now %s", state.config.assistant_id, extra={"chatId": chat_id})
    return parts.result(chat_id, state)


def close(parts: FrontParts, *, user_id: str, chat_id: str, command_meta: Mapping[str, Any] | None) -> ChatResult:
    """``AssistantChat.close_chat``."""
    dispatch_id = parts.dispatch_ids()
    change = functools.partial(closed, user_id=user_id, dispatch_id=dispatch_id)
    state, closing = parts.store.update(chat_id, change)
    if closing:
        parts.queue.enqueue(ChatCommand.close(chat_id, dispatch_id, meta=command_meta))
        logger.info("chat closed", extra={"chatId": chat_id, "dispatchId": dispatch_id})
    return parts.result(chat_id, state)
