"""A local stand-in for Gemini that speaks its REST protocol, for the real ``google-genai`` SDK.

Nothing is patched: the SDK talks to it at ``GEMINI_BASE_URL``. Its "model" is the offline engine's
``decide`` with the example app's phrases (as ``fake_openai.py``'s), so a scenario gives the same
answers with every engine.

Endpoints, as the real services have them:

- the Gemini Developer API: ``POST /v1/models/{model}:generateContent`` (or ``/v1beta/…``) and
  ``:streamGenerateContent?alt=sse``, with the key in ``x-goog-api-key`` (refused without one);
- Vertex AI: ``POST /v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}:…``
  with ``Authorization: Bearer`` (refused without one), and ``POST /token``, an OAuth token endpoint
  that answers a refresh-token grant (the tests' Application Default Credentials point there).

Like the real services, it keeps no state: ``contents`` is the whole history, and it is refused
(400, ``INVALID_ARGUMENT``) when a function call is not answered right after by a response for
each call, when a response answers no call, or when the model's function call comes back without
the ``thoughtSignature`` the fake gave it (Gemini requires the model's parts back as they came).
The model's input is what follows the last ``model`` content. Function calls carry no ``id`` on the
Gemini API (as real answers often do) and one on Vertex AI. A stream sends the text in
``chunk_size`` pieces, a function call whole, and the finish reason and usage on the last chunk.

Faults (``fake_http.Fault``, queued with ``fail_next``): ``status`` answers that HTTP status
with a Google error body; ``blocked`` answers 200 with no candidate and ``promptFeedback.blockReason``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_http import FakeHandler, FakeServer, serve_in_thread

from firebase_ai_chat.engines.base import EngineInput, ToolOutput, heard
from firebase_ai_chat.engines.offline import decide

_PATH = re.compile(
    r"^/(?P<version>v1|v1beta|v1beta1)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/)?"
    r"models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
SIGNATURE = b"fake-thought-signature:"
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}


class _InvalidError(Exception):
    pass


@dataclass
class FakeGemini(FakeServer):
    """The server's state (``FakeServer``'s, and the access tokens it handed out)."""

    tokens: int = 0
    """Access tokens handed out by ``/token`` (Vertex AI's credentials at work)."""

    def answer(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON body of a ``generateContent`` (the whole answer, even to stream)."""
        route = _PATH.match(path)
        if route is None:
            return 404, _error(404, f"no such method: {path}")
        vertex = route["project"] is not None
        if vertex and not headers.get("authorization", "").startswith("Bearer "):
            return 401, _error(401, "Request is missing required authentication credential.", "UNAUTHENTICATED")
        if not vertex and not headers.get("x-goog-api-key"):
            return 403, _error(403, "Method doesn't allow unregistered callers.")
        fault, number = self.receive(path, body)
        if fault is not None:
            if fault.kind == "blocked":
                return 200, {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": route["model"]}
            return fault.status, _error(fault.status, f"injected fault {fault.status}")
        try:
            inputs = _inputs(body.get("contents") or [])
        except _InvalidError as error:
            return 400, _error(400, str(error))
        tools = [d["name"] for tool in body.get("tools") or [] for d in _get(tool, "functionDeclarations") or []]
        texts, calls = decide(self.phrases, inputs, tools, call_prefix=f"call_gemini{number:05d}")
        parts: list[dict[str, Any]] = [{"text": "\n\n".join(texts)}] if texts else []
        for index, call in enumerate(calls):
            function_call: dict[str, Any] = {"name": call.name, "args": json.loads(call.arguments)}
            if vertex:
                function_call["id"] = call.call_id
            part: dict[str, Any] = {"functionCall": function_call}
            if index == 0:  # Gemini signs the first function call of a turn
                part["thoughtSignature"] = base64.b64encode(SIGNATURE + str(number).encode()).decode()
            parts.append(part)
        prompt = len(json.dumps(body.get("contents"))) // 4
        answered = sum(len(text) // 4 for text in texts) + 10 * len(calls)
        return 200, {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": answered,
                "totalTokenCount": prompt + answered,
            },
            "modelVersion": route["model"],
            "responseId": f"fake-{number:05d}",
        }

    def chunks(self, answer: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The stream of ``answer``: text in pieces, calls whole, the finish reason and usage last."""
        candidates = answer.get("candidates")
        if not candidates:
            yield answer
            return
        pieces: list[dict[str, Any]] = []
        for part in candidates[0]["content"]["parts"]:
            if "text" in part:
                text = part["text"]
                pieces += [{"text": piece} for piece in self.pieces(text)]
            else:
                pieces.append(part)
        for number, part in enumerate(pieces or [{"text": ""}]):
            chunk: dict[str, Any] = {
                "candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}],
                "modelVersion": answer["modelVersion"],
                "responseId": answer["responseId"],
            }
            if number == max(len(pieces), 1) - 1:
                chunk["candidates"][0]["finishReason"] = "STOP"
                chunk["usageMetadata"] = answer["usageMetadata"]
            yield chunk


def _inputs(contents: list[dict[str, Any]]) -> list[EngineInput]:
    """The model's input (what follows the last ``model`` content), the history checked as Gemini does."""
    if not contents:
        raise _InvalidError("* GenerateContentRequest.contents: contents is not specified")
    owed: list[str] = []
    inputs: list[EngineInput] = []
    for position, content in enumerate(contents):
        parts = content.get("parts") or []
        responses = [_get(p, "functionResponse") for p in parts if _get(p, "functionResponse")]
        if owed and sorted(r.get("name") for r in responses) != sorted(owed):
            raise _InvalidError(
                "Please ensure that the number of function response parts is equal to the number of function "
                f"call parts of the function call turn (contents[{position}])."
            )
        if responses and not owed:
            raise _InvalidError(
                "Please ensure that function response turn comes immediately after a function call turn "
                f"(contents[{position}])."
            )
        owed = []
        if content.get("role") == "model":
            inputs = []
            calls = [p for p in parts if _get(p, "functionCall")]
            if calls and not _signed(calls[0]):
                raise _InvalidError(
                    f"Function call is missing a thought_signature in functionCall parts (contents[{position}])."
                )
            owed = [_get(p, "functionCall")["name"] for p in calls]
            continue
        for part in parts:
            if "text" in part:
                inputs.append(heard(part["text"]))
            elif _get(part, "functionResponse"):
                response = _get(part, "functionResponse")
                output = json.dumps(response.get("response") or {})
                call_id = response.get("id") or response["name"]
                inputs.append(
                    ToolOutput(
                        call_id=call_id,
                        name=response["name"],
                        output=output,
                        is_error="error" in (response.get("response") or {}),
                    )
                )
    if owed:
        raise _InvalidError(
            "Please ensure that function call turn comes immediately after a user turn or after a function "
            "response turn."
        )
    return inputs


def credentials_file(path: Path, url: str) -> Path:
    """Application Default Credentials whose token endpoint is the fake's ``/token``: a service account
    with a key of its own (``GOOGLE_APPLICATION_CREDENTIALS``; the SDK signs a grant, the fake answers
    it with an access token)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "local",
        "private_key": pem,
        "client_email": "worker@demo-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": f"{url}/token",
    }
    path.write_text(json.dumps(account))
    return path


def _get(message: dict[str, Any], field: str) -> Any:
    """A field by its JSON name or its proto name (Google's JSON parsers accept both: the SDK sends
    ``parameters_json_schema`` in snake case)."""
    snake = re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), field)
    return message.get(field, message.get(snake))


def _signed(part: dict[str, Any]) -> bool:
    try:
        return base64.b64decode(_get(part, "thoughtSignature") or "").startswith(SIGNATURE)
    except ValueError:
        return False


def _error(code: int, message: str, status: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status or _STATUS.get(code, "INTERNAL")}}


def serve(fake: FakeGemini, port: int) -> ThreadingHTTPServer:
    """Serve ``fake`` on 127.0.0.1:``port`` (0: any free port) in a daemon thread."""

    class Handler(FakeHandler):
        pace = fake

        def do_POST(self) -> None:  # noqa: N802 - http.server calls it by this name
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            path, _, query = self.path.partition("?")
            if path == "/token":
                with fake.lock:
                    fake.tokens += 1
                token = {"access_token": f"fake-token-{fake.tokens}", "expires_in": 3600, "token_type": "Bearer"}
                self.send_json(200, token)
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, answer = fake.answer(path, json.loads(raw or b"{}"), headers)
            if status == 200 and path.endswith(":streamGenerateContent") and "alt=sse" in query:
                self.send_events(f"data: {json.dumps(chunk)}\r\n\r\n" for chunk in fake.chunks(answer))
                return
            self.send_json(status, answer)

    return serve_in_thread(Handler, port)
