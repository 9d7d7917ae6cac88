"""The OpenAPI 3.1 document of an app's HTTP endpoints, generated from its pydantic models.

Callables follow the Firebase callable protocol: ``POST /{name}`` with
``{"data": …}``, answered ``{"result": …}`` or ``{"error": {"status", "message"}}``
with the HTTP status of that error code. ``chatEvents`` is a
``text/event-stream`` whose events are described by ``x-events`` (event name →
schema of its ``data``). Everything requires a Firebase ID token
(``Authorization: Bearer``), except the document itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .chat_events import DoneEvent, EventKind, MessageEvent, StatusEvent

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
EVENT_ERRORS = ("INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND")
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class CallableSpec:
    """One callable: its name, what it takes and returns, the error statuses it can answer."""

    name: str
    summary: str
    data: type[BaseModel]
    result: type[BaseModel] | None
    errors: Sequence[str] = CALLABLE_ERRORS


def document(
    *,
    title: str,
    version: str,
    callables: Sequence[CallableSpec],
    events: str | None,
    collection: str,
    itself: str | None = None,
    servers: list[dict[str, Any]],
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``callables`` and, if named, the ``events`` stream function."""
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = []
    for spec in callables:
        models.append((spec.data, "validation"))
        if spec.result is not None:
            models.append((spec.result, "serialization"))
    models += [(StatusEvent, "serialization"), (MessageEvent, "serialization"), (DoneEvent, "serialization")]
    _, schemas = models_json_schema(models, ref_template=REF)
    paths = {f"/{spec.name}": {"post": _callable(spec)} for spec in callables}
    if events:
        paths[f"/{events}"] = {"get": _events(events, collection)}
    if itself:
        paths[f"/{itself}"] = {"get": _itself(itself)}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": __doc__.split("\n\n")[1].replace("\n", " ")},
        "servers": servers,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.get("$defs", {}).items())),
            "securitySchemes": {
                "firebaseIdToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Firebase Auth ID token of the signed-in user.",
                }
            },
        },
        "security": [{"firebaseIdToken": []}],
    }


def _errors(statuses: Sequence[str]) -> dict[str, Any]:
    by_http: dict[int, list[str]] = {}
    for status in statuses:
        by_http.setdefault(HTTP_STATUS[status], []).append(status)
    return {
        str(code): {
            "description": " or ".join(names),
            "content": {"application/json": {"schema": _error_of(names)}},
        }
        for code, names in sorted(by_http.items())
    }


def _error_of(names: list[str]) -> dict[str, Any]:
    status = {"type": "string", "enum": names}
    error = {
        "type": "object",
        "required": ["status", "message"],
        "properties": {"status": status, "message": {"type": "string"}},
    }
    return {"type": "object", "required": ["error"], "properties": {"error": error}}


def _callable(spec: CallableSpec) -> dict[str, Any]:
    data = {"$ref": REF.format(model=spec.data.__name__)}
    result = {"$ref": REF.format(model=spec.result.__name__)} if spec.result else {}
    return {
        "operationId": spec.name,
        "summary": spec.summary,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "required": ["data"], "properties": {"data": data}}}
            },
        },
        "responses": {
            "200": {
                "description": "The call's result.",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "required": ["result"], "properties": {"result": result}}
                    }
                },
            },
            **_errors(spec.errors),
        },
    }


def _events(name: str, collection: str) -> dict[str, Any]:
    events = {kind.value: {"$ref": REF.format(model=model.__name__)} for kind, model in _EVENT_MODELS.items()}
    return {
        "operationId": name,
        "summary": "Follow a chat as Server-Sent Events (status, message, done); resume with Last-Event-ID.",
        "parameters": [
            _query(
                "chat",
                {"type": "string", "pattern": f"^{collection}/[A-Za-z0-9_-]{{1,128}}$"},
                f"The chat, `{collection}/{{chatId}}`.",
                True,
            ),
            _query("follow", {"type": "boolean", "default": False}, "Keep streaming across turns until the chat ends."),
            _query("maxSeconds", {"type": "integer", "minimum": 1}, "End the stream sooner (with a retry: hint)."),
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The id of the last event received: the stream goes on after it.",
            },
        ],
        "responses": {
            "200": {
                "description": "The events. Each has an id; `done` ends the stream; comments are heartbeats.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "x-events": events,
            },
            "204": {"description": "The client already has everything up to its `done` event."},
            **_errors(EVENT_ERRORS),
        },
    }


_EVENT_MODELS: dict[EventKind, type[BaseModel]] = {
    EventKind.STATUS: StatusEvent,
    EventKind.MESSAGE: MessageEvent,
    EventKind.DONE: DoneEvent,
}


def _itself(name: str) -> dict[str, Any]:
    return {
        "operationId": name,
        "summary": "This document.",
        "security": [],
        "responses": {
            "200": {
                "description": "The OpenAPI document.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    }


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}
