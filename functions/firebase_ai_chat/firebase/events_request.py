"""A ``chatEvents`` request, checked before anything is read: method, query, ID token, cursor.

Each refusal is an ``EventsError``: answered with its HTTP status and the callables' envelope
``{"error": {"status", "message"}}``, and nothing is read or written. The OpenAPI document states
the same rules (``openapi.py`` builds it from ``ChatEventsQuery`` and ``LAST_EVENT_ID_PATTERN``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ..errors import ErrorCode
from ..events.cursor import EventCursor
from ..models import CHAT_DOCUMENT_PATTERN, chat_document_pattern
from .callables import readable
from .specs import ALLOWED_METHODS as ALLOWED_METHODS


class EventsError(Exception):
    """A request refused before any stream: answered with ``status`` and a JSON error body."""

    def __init__(
        self, code: ErrorCode, message: str, *, http_status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.http_status = http_status or code.http_status
        self.headers = headers or {}


class ChatEventsQuery(BaseModel):
    """The query string of ``chatEvents``; any other parameter is refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, regex_engine="python-re")
    chat: str = Field(pattern=CHAT_DOCUMENT_PATTERN.pattern, description="The chat, as `chats/{chatId}`.")
    follow: bool = Field(default=False, description="Keep streaming across turns until the chat ends.")
    max_seconds: int | None = Field(
        default=None, alias="maxSeconds", ge=1, description="End the stream sooner (a retry: hint follows)."
    )

    @field_validator("follow", mode="before")
    @classmethod
    def _boolean(cls, value: object) -> object:
        """A boolean in a query string is ``true`` or ``false`` (not ``yes``, ``1``, ``on``...)."""
        if isinstance(value, str) and value not in ("true", "false"):
            raise PydanticCustomError("boolean", "must be true or false")
        return value

    @field_validator("max_seconds", mode="before")
    @classmethod
    def _integer(cls, value: object) -> object:
        """An integer in a query string is digits (not `` 1``, ``+1``, ``1.0`` or ``1_000``)."""
        if isinstance(value, str) and re.fullmatch("[0-9]+", value) is None:
            raise PydanticCustomError("integer", "must be a whole number of seconds")
        return value


@dataclass(frozen=True)
class EventsRequest:
    """A request that passed every check that needs no read."""

    chat: str
    follow: bool
    max_seconds: int | None
    uid: str
    cursor: EventCursor


def events_request(
    request: flask.Request, *, collection: str, verify: Callable[[str], dict[str, Any]]
) -> EventsRequest:
    """The checked request (see the module); ``EventsError`` for anything refused."""
    if request.method not in ALLOWED_METHODS:
        raise EventsError(
            ErrorCode.INVALID_ARGUMENT, "Use GET.", http_status=405, headers={"Allow": ", ".join(ALLOWED_METHODS)}
        )
    try:
        query = ChatEventsQuery.model_validate(dict(request.args.items()))
    except ValidationError as error:
        raise EventsError(ErrorCode.INVALID_ARGUMENT, readable(error)) from None
    if re.fullmatch(chat_document_pattern(collection), query.chat) is None:
        raise EventsError(ErrorCode.INVALID_ARGUMENT, f"chat must look like {collection}/{{chatId}}.")
    uid = bearer_uid(request.headers.get("Authorization"), verify)
    cursor = parse_cursor(request.headers.get("Last-Event-ID"), query.chat)
    return EventsRequest(query.chat, query.follow, query.max_seconds, uid, cursor)


def parse_cursor(header: str | None, chat: str) -> EventCursor:
    """The ``Last-Event-ID`` of a stream of ``chat`` (none: a fresh stream)."""
    if not header:
        return EventCursor()
    try:
        cursor = EventCursor.parse(header)
    except ValueError:
        raise EventsError(ErrorCode.INVALID_ARGUMENT, "Last-Event-ID is not the id of an event of this chat.") from None
    if not cursor.of_chat(chat):
        raise EventsError(ErrorCode.INVALID_ARGUMENT, "Last-Event-ID is the id of an event of another chat.")
    return cursor


def bearer_uid(header: str | None, verify: Callable[[str], dict[str, Any]]) -> str:
    """The uid of the request's ``Authorization: Bearer <ID token>``."""
    if not header or not header.startswith("Bearer "):
        raise EventsError(ErrorCode.UNAUTHENTICATED, "Send your Firebase ID token: Authorization: Bearer <token>.")
    try:
        return str(verify(header.removeprefix("Bearer ").strip())["uid"])
    except Exception:
        raise EventsError(
            ErrorCode.UNAUTHENTICATED, "The ID token is not valid (expired, or of another project)."
        ) from None
