"""What ``docs/openapi.json`` allows, judged as an OpenAPI client would: JSON Schema with ECMA-262
patterns (``jsonschema_rs``: ``$`` is the end of the text, not also before a final newline as in
Python), query values as their form serialization (an integer is digits, a boolean ``true`` or
``false``), and the refusals the document can only describe in words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
DOCUMENT: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text())

UNSTATABLE = ("must not be blank", "valid Unicode", "another chat", "already used for another message")
"""Refusals no JSON Schema can state, each said in the document's descriptions: a message of only
invisible characters, text that is not valid Unicode, an event id of another chat's stream, an
idempotency key sent before with another message."""


def unstatable(message: str) -> bool:
    return any(reason in message for reason in UNSTATABLE)


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.validator_for({**schema, "components": DOCUMENT["components"]}).is_valid(value))


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its ``$ref`` followed (one level)."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    name = ref.rsplit("/", 1)[-1]
    return dict(DOCUMENT["components"]["schemas"][name])


def bodies() -> dict[str, dict[str, Any]]:
    """The request body schema of each callable (``{"data": …}``), by path."""
    found = {}
    for path, item in DOCUMENT["paths"].items():
        body = item.get("post", {}).get("requestBody")
        if body:
            found[path] = body["content"]["application/json"]["schema"]
    return found


def callables() -> dict[str, dict[str, Any]]:
    """The ``data`` schema of each callable, by path."""
    return {path: body["properties"]["data"] for path, body in bodies().items()}


def constrained_strings(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The string properties of a schema that carry a pattern or a length (the string branch of an
    optional one)."""
    found = {}
    for name, field in resolved(schema).get("properties", {}).items():
        branch = next((b for b in field.get("anyOf", []) if b.get("type") == "string"), field)
        if branch.get("type") == "string" and {"pattern", "minLength", "maxLength"} & set(branch):
            found[name] = branch
    return found


def allows(schema: dict[str, Any], value: Any) -> bool:
    """Whether ``schema`` (of the document) allows ``value``."""
    return _valid(schema, value)


def parameters(path: str) -> dict[str, dict[str, Any]]:
    """The GET operation's parameters by name."""
    return {p["name"]: p for p in DOCUMENT["paths"][path]["get"]["parameters"]}


def allows_request(path: str, query: dict[str, str], headers: dict[str, str]) -> bool:
    """Whether a GET with these query values and headers is one the document allows (no other query
    parameter: the operation's description says any other is refused)."""
    declared = parameters(path)
    sent = {**{(name, "query"): v for name, v in query.items()}, **{(n, "header"): v for n, v in headers.items()}}
    for parameter in declared.values():
        if parameter.get("required") and (parameter["name"], parameter["in"]) not in sent:
            return False
    for (name, where), raw in sent.items():
        parameter = declared.get(name)
        if parameter is None or parameter["in"] != where:
            if where == "query":
                return False
            continue  # any other header is allowed
        value = _deserialized(parameter["schema"], raw)
        if value is _NOT or not _valid(parameter["schema"], value):
            return False
    return True


_NOT = object()


def _deserialized(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch("-?[0-9]+", raw) else _NOT
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, _NOT)
    return raw
