"""Client retries: what makes ``create`` and ``post_message`` idempotent per ``clientMessageId``.

The chat id (for ``create``) and the message ids derive from the user and the
client's key, so a repeated call finds what the first one stored.

A key's scope is the user for ``create`` and the user and the chat for a post,
and the two scopes are kept apart: a key that created a chat (its first
messages are ``keyed_id(user, "message", key)-{i}`` in the chat
``keyed_id(user, "chat", key)``) may name a post to that chat too, which is
another call. In every other chat a post's messages derive as a create's do
(the create's live in another chat, so they never meet); in the chat its own
key created, a post's messages derive from ``(user, "post", key)``. Ids stored
before this rule keep their meaning: no post was ever stored in the chat its
key created (it was taken for a replay of the create), and every other id is
derived as it was, so retries of calls made before it are still recognized.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..commands import ChatCommand
from ..errors import ChatError, ErrorCode
from ..models import ChatMessage, ChatState
from ..store.documents import ChatSnapshot


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
    return ChatCommand.run(chat_id, message.dispatch_id, assistant_id=chat.config.assistant_id, meta=meta)


CREATED = "message"
"""The namespace of a ``create``'s messages (and of a post's, outside the chat its key created)."""

POSTED = "post"
"""The namespace of a post's messages in the chat that the same key created."""


def created_chat_id(user_id: str, key: str) -> str:
    """The id of the chat ``create`` makes for ``user_id`` with the client's ``key``."""
    return keyed_id(user_id, "chat", key)


def post_namespace(user_id: str, chat_id: str, key: str) -> str:
    """The namespace of a post's message ids: ``POSTED`` in the chat ``key`` created, ``CREATED`` elsewhere."""
    return POSTED if chat_id == created_chat_id(user_id, key) else CREATED


def message_id(user_id: str, key: str | None, index: int, namespace: str = CREATED) -> str:
    """The id of the ``index``-th message of a call with the client's ``key``, in ``namespace``."""
    return f"{keyed_id(user_id, namespace, key or '')}-{index}"
