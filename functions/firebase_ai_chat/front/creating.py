"""A new chat: created with its first messages (a run starts at once) or without (it waits for a
post); a retried create with its client key finds the chat the first call created."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ..commands import ChatCommand
from ..errors import ChatError, ErrorCode
from ..limits import Limits, UsageDocument
from ..models import AssistantConfig, ChatConfig, ChatMessage, ChatMeta, ChatResult, ChatState
from ..status import ChatStatus
from ..store.documents import ChatSnapshot, ChatWrite
from ..usage import guarded
from .client_keys import created_chat_id, replayed, rerun
from .messages import user_messages
from .parts import FrontParts, data_dict, metered

logger = logging.getLogger(__name__)


def created(
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


def start(
    parts: FrontParts,
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
    """``AssistantChat.create`` and ``single_run``."""
    chat_id = created_chat_id(user_id, key) if key else parts.store.new_id()
    dispatch_id = parts.dispatch_ids()
    status = ChatStatus.PROCESSING if messages else ChatStatus.CREATED
    config = ChatConfig(**assistant.model_dump())
    state = ChatState(user_id=user_id, status=status, data=data_dict(data), config=config, meta=meta,
                      latest_dispatch_id=dispatch_id, single_run=single_run)  # fmt: skip
    written = user_messages(
        new_id=parts.store.new_id, user_id=user_id, dispatch_id=dispatch_id, texts=messages, meta=meta, key=key
    )
    first_run = ChatCommand.run(
        chat_id, dispatch_id, assistant_id=assistant.assistant_id, texts=messages, meta=command_meta
    )
    change = functools.partial(created, state=state, messages=written, command=first_run if messages else None, key=key)
    usage: list[UsageDocument] = []
    posts = int(bool(messages))
    limited, outside = guarded(
        change, parts.gate, parts.paused, user_id=user_id, limits=limits, posts=posts, chats=1, written=usage
    )
    if messages:
        parts.watchdog.arm(chat_id, dispatch_id)
    stored, command = parts.store.update(chat_id, limited, outside=outside)
    logger.info("chat created", extra={"chatId": chat_id, "dispatchId": stored.latest_dispatch_id})
    if command is not None:
        parts.queue.enqueue(metered(command, usage))
    return parts.result(chat_id, stored)
