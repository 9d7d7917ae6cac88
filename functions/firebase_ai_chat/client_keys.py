"""Client retries: what makes ``create`` and ``post_message`` idempotent per ``clientMessageId``.

The chat id (for ``create``) and the message ids derive from the user and the
client's key, so a repeated call finds what the first one stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .errors import ChatError, ErrorCode
from .models import ChatCommand, ChatMessage, ChatState
from .store import ChatSnapshot


def owned(current: ChatState | None, user_id: str) -> ChatState:
    """The chat if ``user_id`` owns it; ``not-found`` or ``permission-denied`` else."""
    if current is None:
        raise ChatError(ErrorCode.NOT_FOUND, "Chat not found.")
    if current.user_id != user_id:
        raise ChatError(ErrorCode.PERMISSION_DENIED, "This chat belongs to another user.")
    return current


def keyed_id(*parts: str) -> str:
    """A document id derived from ``parts`` (a user and a client's key): the same parts, the same id."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def replayed(
    snapshot: ChatSnapshot, first_message_id: str, text: str, user_id: str
) -> tuple[ChatState, ChatMessage] | None:
    """The chat and message stored by an earlier call with the same client key, if there was one."""
    found = snapshot.record(f"messages/{first_message_id}")
    if found is None:
        return None
    message = ChatMessage.model_validate(found)
    if message.user_id != user_id or message.text != text:
        raise ChatError(ErrorCode.INVALID_ARGUMENT, "clientMessageId was already used for another message.")
    return owned(snapshot.state, user_id), message


def rerun(chat_id: str, chat: ChatState, message: ChatMessage, meta: dict[str, Any] | None) -> ChatCommand | None:
    """The run of a replayed call's message, when it is the chat's live one (enqueuing it again is harmless)."""
    if not chat.is_running(message.dispatch_id):
        return None
    return ChatCommand(
        chat_id=chat_id, dispatch_id=message.dispatch_id, meta=meta, assistant_id=chat.config.assistant_id
    )


def message_id(user_id: str, key: str | None, index: int) -> str:
    return f"{keyed_id(user_id, 'message', key or '')}-{index}"
