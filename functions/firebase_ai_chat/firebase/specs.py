"""What a ``ChatApp``'s functions declare about themselves when ``main.py`` is imported: each callable's
spec (its OpenAPI entry, built from it on request by ``openapi``), the error statuses they answer and
the methods its HTTP functions answer.

Apart from ``openapi`` (which imports the event models and pydantic's JSON Schema generation) so that
declaring the functions, which every cold instance of every function does, loads none of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from ..errors import ErrorCode

CALLABLE_ERRORS = (ErrorCode.INVALID_ARGUMENT, ErrorCode.UNAUTHENTICATED, ErrorCode.INTERNAL)
CHAT_ERRORS = (
    *CALLABLE_ERRORS,
    ErrorCode.FAILED_PRECONDITION,
    ErrorCode.PERMISSION_DENIED,
    ErrorCode.NOT_FOUND,
    ErrorCode.UNAVAILABLE,
)
LIMIT_ERRORS = (ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.UNAVAILABLE)
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
    errors: Sequence[ErrorCode] = CALLABLE_ERRORS


@dataclass
class Catalog:
    """What an app declared, for its OpenAPI document: its callables, its events and openapi functions."""

    callables: list[CallableSpec] = field(default_factory=list)
    events: str | None = None
    openapi: str | None = None
