"""The chat status machine.

``created → processing → userInput ⇄ processing → complete``; any state may go
to ``failed``. A closed (``complete``) or ``failed`` chat never changes again.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import ChatError, ErrorCode


class ChatStatus(StrEnum):
    """Where a chat is in its life; stored as ``chats/{id}.status``."""

    CREATED = "created"
    PROCESSING = "processing"
    USER_INPUT = "userInput"
    COMPLETE = "complete"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """Whether the chat can no longer change."""
        return self in (ChatStatus.COMPLETE, ChatStatus.FAILED)


_ALLOWED: dict[ChatStatus, frozenset[ChatStatus]] = {
    ChatStatus.CREATED: frozenset({ChatStatus.PROCESSING, ChatStatus.COMPLETE}),
    ChatStatus.PROCESSING: frozenset({ChatStatus.PROCESSING, ChatStatus.USER_INPUT, ChatStatus.COMPLETE}),
    ChatStatus.USER_INPUT: frozenset({ChatStatus.PROCESSING, ChatStatus.COMPLETE}),
    ChatStatus.COMPLETE: frozenset(),
    ChatStatus.FAILED: frozenset(),
}


def can_transition(current: ChatStatus, target: ChatStatus) -> bool:
    """Whether ``current → target`` is allowed (``failed`` is reachable from any live state)."""
    if target is ChatStatus.FAILED:
        return not current.is_final
    return target in _ALLOWED[current]


def check_transition(current: ChatStatus, target: ChatStatus) -> None:
    """Raise ``failed-precondition`` unless ``current → target`` is allowed."""
    if not can_transition(current, target):
        raise ChatError(
            ErrorCode.FAILED_PRECONDITION,
            f"The chat is {current.value} and cannot become {target.value}.",
        )
