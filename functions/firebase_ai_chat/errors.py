"""One error type for the library, with a code a client can act on.

Codes are the callable-function error codes of Firebase, so the callable
adapter maps them one to one onto ``HttpsError``. Each code knows its two
other spellings on the wire: the callable protocol's status name
(``INVALID_ARGUMENT``) and its HTTP status (400), the one table every HTTP
answer of the library uses. ``permanent`` tells the worker whether retrying
the task could help.
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

    @property
    def status(self) -> str:
        """The callable protocol's name of the code: ``{"error": {"status": "INVALID_ARGUMENT", ...}}``."""
        return self.name

    @property
    def http_status(self) -> int:
        """The HTTP status the callable protocol answers with this code."""
        return _HTTP_STATUS[self]

    @classmethod
    def of(cls, name: str) -> ErrorCode:
        """The code of a status name (``NOT_FOUND``) or of a value (``not-found``)."""
        return cls[name] if name in cls.__members__ else cls(name)


_HTTP_STATUS = {
    ErrorCode.INVALID_ARGUMENT: 400,
    ErrorCode.FAILED_PRECONDITION: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.DEADLINE_EXCEEDED: 504,
}
"""The callable protocol's table (Firebase's ``FunctionsErrorCode`` to HTTP)."""

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


class CallError(Exception):
    """What a client of the library's endpoints raises when one answers with an error: ``status`` is
    the callable protocol's name (``INVALID_ARGUMENT``), ``http_status`` the HTTP status
    (``firebase_ai_chat.client.ChatClient`` and ``firebase_ai_chat.testing.EmulatorClient``)."""

    def __init__(self, status: str, message: str, http_status: int) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message, self.http_status = status, message, http_status

    @property
    def code(self) -> ErrorCode | None:
        """The library's code for ``status`` (``None``: a status the library never answers)."""
        return ErrorCode[self.status] if self.status in ErrorCode.__members__ else None
