"""What a user sees when the model service fails: the messages every engine gives (never the
provider's raw text, which may hold details), and which failures are worth a retry."""

from __future__ import annotations

from ..errors import ChatError, ErrorCode

UNAVAILABLE_MESSAGE = "The AI service is busy or unavailable. Please try again later."
REJECTED_MESSAGE = "The AI service rejected the request."
BLOCKED_MESSAGE = "The AI service declined to answer this message."


def unavailable(code: ErrorCode = ErrorCode.UNAVAILABLE) -> ChatError:
    """A failure worth a retry (the task retry; after the last attempt the chat fails with it)."""
    return ChatError(code, UNAVAILABLE_MESSAGE, permanent=False)


def rejected() -> ChatError:
    """The service refused the request itself: retrying would not help."""
    return ChatError(ErrorCode.FAILED_PRECONDITION, REJECTED_MESSAGE, permanent=True)


def blocked() -> ChatError:
    """The service answered with no answer (its safety filters blocked the prompt or the reply)."""
    return ChatError(ErrorCode.FAILED_PRECONDITION, BLOCKED_MESSAGE, permanent=True)
