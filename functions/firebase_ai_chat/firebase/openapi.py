"""The OpenAPI 3.1 document of an app's HTTP endpoints, generated from its pydantic models.

Callables follow the Firebase callable protocol: ``POST /{name}`` with
``{"data": …}``, answered ``{"result": …}`` or ``{"error": {"status", "message"}}``
with the HTTP status of that error code. ``chatEvents`` is a
``text/event-stream`` whose events are described by ``x-events`` (event name →
schema of its ``data``). Everything requires a Firebase ID token
(``Authorization: Bearer``), except the document itself.

What the server enforces is generated into the document from what it validates with:
the callables' inputs from their pydantic models (the ``chatDocument`` pattern narrowed
to the app's collection), ``chatEvents``' query from ``ChatEventsQuery`` and its
``Last-Event-ID`` from the event ids' own grammar. A rule no JSON Schema can state (a
message must not be blank) is in the field's description. ``tests/test_openapi.py``
holds the server to the document: a request the document allows is never refused as
invalid for a reason the document could state, and one it forbids is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..errors import ErrorCode
from ..events.cursor import LAST_EVENT_ID_PATTERN
from ..events.kinds import EVENT_MODELS
from ..models import CHAT_DOCUMENT_PATTERN, chat_document_pattern
from .events_request import ChatEventsQuery
from .specs import ALLOWED_METHODS
from .specs import CALLABLE_ERRORS as CALLABLE_ERRORS
from .specs import CHAT_ERRORS as CHAT_ERRORS
from .specs import LIMIT_ERRORS as LIMIT_ERRORS
from .specs import CallableSpec as CallableSpec

EVENT_ERRORS = (
    ErrorCode.INVALID_ARGUMENT, ErrorCode.UNAUTHENTICATED, ErrorCode.PERMISSION_DENIED, ErrorCode.NOT_FOUND,
    ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.UNAVAILABLE,
)  # fmt: skip
"""What ``chatEvents`` may answer instead of a stream (429: the user's streams are at the limit)."""
OTHER_METHODS = ("put", "post", "delete", "patch")
"""The methods documented as refused (405) on the functions that answer ``GET`` only."""
REF = "#/components/schemas/{model}"


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
    models += [(model, "serialization") for model in EVENT_MODELS.values()]
    _, schemas = models_json_schema(models, ref_template=REF)
    _in_collection(schemas.get("$defs", {}), collection)
    paths: dict[str, Any] = {f"/{spec.name}": {"post": _callable(spec)} for spec in callables}
    if events:
        paths[f"/{events}"] = {"get": _events(events, collection), **_get_only(events)}
    if itself:
        paths[f"/{itself}"] = {"get": _itself(itself), **_get_only(itself)}
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


def _errors(codes: Sequence[ErrorCode]) -> dict[str, Any]:
    by_http: dict[int, list[str]] = {}
    for code in codes:
        by_http.setdefault(code.http_status, []).append(code.status)
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
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["data"],
                        "properties": {"data": data},
                        "additionalProperties": False,  # firebase-functions refuses any other field
                    }
                }
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
    events = {kind.value: {"$ref": REF.format(model=model.__name__)} for kind, model in EVENT_MODELS.items()}
    last_event_id = {"type": "string", "pattern": LAST_EVENT_ID_PATTERN}
    return {
        "operationId": name,
        "summary": "Follow a chat as Server-Sent Events (status, message, removed, reset, done, deleted); "
        "resume with Last-Event-ID.",
        "description": "Any other query parameter is refused (400). One user may have a limited number of "
        "streams open at once: one more is refused with 429 (RESOURCE_EXHAUSTED) before the chat is read.",
        "parameters": [
            *_query_parameters(collection),
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "schema": last_event_id,
                "description": "The id of the last event received: the stream goes on after it. An id of "
                "another chat's stream is refused (400, `... of another chat`).",
            },
        ],
        "responses": {
            "200": {
                "description": "The events. Each has an id; `done` and `deleted` end the stream; comments are "
                "heartbeats.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "x-events": events,
            },
            "204": {"description": "The client already has everything up to its `done` event."},
            **_errors(EVENT_ERRORS),
        },
    }


def _query_parameters(collection: str) -> list[dict[str, Any]]:
    """``chatEvents``' query parameters, from the model the server validates the query with."""
    schema = ChatEventsQuery.model_json_schema(by_alias=True)
    parameters = []
    for name, field in schema["properties"].items():
        description, default = field.get("description", ""), field.get("default")
        value = next((branch for branch in field.get("anyOf", []) if branch.get("type") != "null"), field)
        value = {key: item for key, item in value.items() if key not in ("title", "description", "default")}
        if default is not None:
            value["default"] = default
        if value.get("pattern") == CHAT_DOCUMENT_PATTERN.pattern:
            value["pattern"] = chat_document_pattern(collection)
            description = f"The chat, as `{collection}/{{chatId}}`."
        parameters.append(_query(name, value, description, name in schema.get("required", [])))
    return parameters


def _in_collection(schemas: dict[str, Any], collection: str) -> None:
    """Narrows every chat path the callables take to the app's collection (what they accept)."""
    for schema in schemas.values():
        for field in schema.get("properties", {}).values():
            if field.get("pattern") == CHAT_DOCUMENT_PATTERN.pattern:
                field["pattern"] = chat_document_pattern(collection)


def _get_only(name: str) -> dict[str, Any]:
    """The 405 every method but ``GET`` gets (``OPTIONS`` aside: the CORS preflight)."""
    refused = {
        "description": "Only GET is allowed (the `Allow` header says so).",
        "headers": {"Allow": {"schema": {"type": "string", "enum": [", ".join(ALLOWED_METHODS)]}}},
        "content": {"application/json": {"schema": _error_of([ErrorCode.INVALID_ARGUMENT.status])}},
    }
    return {
        method: {
            "operationId": f"{name}_{method}",
            "summary": "Not allowed (checked before anything else: no token needed).",
            "security": [],
            "responses": {"405": refused},
        }
        for method in OTHER_METHODS
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


def deployment_url(*, project: str, region: str, emulator_host: str | None = None) -> str:
    """Where a project's functions are served: the Functions emulator at ``emulator_host`` (its host
    and port), or Cloud Functions' own address."""
    if emulator_host:
        return f"http://{emulator_host}/{project}/{region}"
    return f"https://{region}-{project}.cloudfunctions.net"
