"""One error type for the library, with a code a client can act on.

Codes are the callable-function error codes of Firebase, so the callable
adapter maps them one to one onto ``HttpsError``. ``permanent`` tells the
worker whether retrying the task could help.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The subset of Firebase ``FunctionsErrorCode`` values the library raises."""

    UNAUTHENTICATED = "unauthenticated"
    INVALID_ARGUMENT = "invalid-argument"
    NOT_FOUND = "not-found"
    PERMISSION_DENIED = "permission-denied"
    FAILED_PRECONDITION = "failed-precondition"
    RESOURCE_EXHAUSTED = "resource-exhausted"
    UNAVAILABLE = "unavailable"
    DEADLINE_EXCEEDED = "deadline-exceeded"
    INTERNAL = "internal"


_TRANSIENT = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.RESOURCE_EXHAUSTED})


class ChatError(Exception):
    """A failure with a client-facing ``code`` and ``message``.

    ``permanent`` defaults from the code: ``unavailable``, ``deadline-exceeded``
    and ``resource-exhausted`` are transient (a retry may succeed), the rest are not.
    """

    def __init__(self, code: ErrorCode, message: str, *, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = code not in _TRANSIENT if permanent is None else permanent

    def __repr__(self) -> str:
        return f"ChatError({self.code.value!r}, {self.message!r})"
