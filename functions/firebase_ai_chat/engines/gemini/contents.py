"""An assistant's history as Gemini ``Content``s, stored in its context as JSON.

The model's contents are kept as they came (thought signatures included: Gemini needs them back
with a function call's response); they are stored in the SDK's own JSON form (camelCase, bytes as
base64) and read back with the SDK's JSON validation. New inputs become contents here: a user's
message a ``user`` text part, a stopped answer a ``model`` text part, tool outputs one ``user``
content of ``functionResponse`` parts. A turn, for the context budget, starts at a user's message
(a function response, also ``user``, belongs to the turn of its call).
"""

from __future__ import annotations

import json
from typing import Any

from google.genai import types

from ..base import AssistantText, EngineRequest, ToolOutput

SYNTHETIC_CALL_ID = "gemini-call-"
"""The prefix of the ids the engine gives function calls that came without one (the Gemini API often
sends none): such an id is not sent back in the function's response."""

Stored = dict[str, Any]
"""A ``Content`` in the SDK's JSON form (Firestore stores it as a map)."""


def stored(content: types.Content) -> Stored:
    """A content as the context keeps it."""
    return content.model_dump(mode="json", by_alias=True, exclude_none=True)


def sdk_contents(history: list[Stored]) -> list[types.Content]:
    """The stored contents as the SDK's (JSON validation: thought signatures are base64 there)."""
    return [types.Content.model_validate_json(json.dumps(content)) for content in history]


def starts_turn(content: Stored) -> bool:
    """Whether a stored content opens a turn: a user's message, not a function's response."""
    return content.get("role") == "user" and not any("functionResponse" in part for part in content.get("parts", []))


def _response(output: ToolOutput) -> dict[str, Any]:
    """A tool output as a function response (an object: a JSON object is sent as it is)."""
    try:
        parsed = json.loads(output.output)
    except ValueError:
        parsed = output.output
    if isinstance(parsed, dict):
        return parsed
    return {"error": parsed} if output.is_error else {"output": parsed}


def new_contents(request: EngineRequest) -> list[Stored]:
    """The request's inputs as contents (consecutive tool outputs in one)."""
    contents: list[Stored] = []
    for item in request.input:
        if isinstance(item, ToolOutput):
            call: dict[str, Any] = {"name": item.name, "response": _response(item)}
            if not item.call_id.startswith(SYNTHETIC_CALL_ID):
                call["id"] = item.call_id
            part = {"functionResponse": call}
            if contents and not starts_turn(contents[-1]) and contents[-1]["role"] == "user":
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        elif isinstance(item, AssistantText):
            contents.append({"role": "model", "parts": [{"text": item.spoken}]})
        else:
            contents.append({"role": "user", "parts": [{"text": item.spoken}]})
    return contents


def merged(parts: list[types.Part]) -> list[types.Part]:
    """A streamed answer's parts as one answer: consecutive text pieces joined (a thought signature,
    sent on the last piece, stays with the text); every other part as it came."""
    out: list[types.Part] = []
    for part in parts:
        last = out[-1] if out else None
        if (
            last is not None
            and _plain_text(part)
            and _plain_text(last)
            and bool(last.thought) == bool(part.thought)
            and last.thought_signature is None
        ):
            out[-1] = last.model_copy(update={"text": (last.text or "") + (part.text or ""), **_signature(part)})
        else:
            out.append(part)
    return out


def _plain_text(part: types.Part) -> bool:
    return part.text is not None and part.function_call is None


def _signature(part: types.Part) -> dict[str, Any]:
    return {"thought_signature": part.thought_signature} if part.thought_signature is not None else {}
