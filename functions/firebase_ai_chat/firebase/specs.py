"""What a ``ChatApp``'s functions declare about themselves when ``main.py`` is imported: each callable's
spec (its OpenAPI entry, built from it on request by ``openapi``), the error statuses they answer and
the methods its HTTP functions answer.

Apart from ``openapi`` (which imports the event models and pydantic's JSON Schema generation) so that
declaring the functions, which every cold instance of every function does, loads none of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}
"""The error statuses the library's callables answer, with the HTTP status of the callable protocol."""

CALLABLE_ERRORS = ("INVALID_ARGUMENT", "UNAUTHENTICATED", "INTERNAL")
CHAT_ERRORS = (*CALLABLE_ERRORS, "FAILED_PRECONDITION", "PERMISSION_DENIED", "NOT_FOUND", "UNAVAILABLE")
LIMIT_ERRORS = ("RESOURCE_EXHAUSTED", "UNAVAILABLE")
"""What a post or a new chat may also answer: a user's limit reached, the app paused (``limits``)."""

ALLOWED_METHODS = ("GET",)
"""What ``chatEvents`` and ``openapi`` answer (``OPTIONS``, the browsers' CORS preflight, is answered
before them)."""


@dataclass(frozen=True)
class CallableSpec:
    """One callable: its name, what it takes and returns, the error statuses it can answer."""

    name: str
    summary: str
    data: type[BaseModel]
    result: type[BaseModel] | None
    errors: Sequence[str] = CALLABLE_ERRORS
