"""A local stand-in for the OpenAI service that speaks its real wire protocol.

The real ``openai`` SDK talks to it over HTTP (``OPENAI_BASE_URL``); nothing is
patched. Its "model" is the offline engine's deterministic ``decide`` with the
example app's phrases, so a scenario gives the same answers with either engine.
Like the real Responses API it keeps responses server-side, continues them with
``previous_response_id`` and refuses a continuation that leaves a function call
without its output, so the worker's history handling is checked for real.
Faults (status codes, delays) can be queued for the next requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from firebase_ai_chat.engines.base import EngineInput, ToolOutput, UserInput
from firebase_ai_chat.engines.offline import Phrase, decide


@dataclass
class Fault:
    """Answer the next request with ``status`` (after ``delay`` seconds)."""

    status: int = 500
    delay: float = 0.0


@dataclass
class _Stored:
    calls: dict[str, str]  # call_id → tool name


@dataclass
class FakeOpenAI:
    """The server's state: stored responses, requests seen, queued faults."""

    phrases: Sequence[Phrase]
    responses: dict[str, _Stored] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults for the next requests, in order."""
        with self.lock:
            self.faults.extend(faults)

    def respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON body answering a ``POST /v1/responses``."""
        with self.lock:
            self.requests.append(body)
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            time.sleep(fault.delay)
            return fault.status, _error(f"injected fault {fault.status}", "server_error")
        if not body.get("model"):
            return 400, _error("Missing required parameter: 'model'.", "invalid_request_error")
        owed: dict[str, str] = {}
        previous = body.get("previous_response_id")
        if previous is not None:
            stored = self.responses.get(previous)
            if stored is None:
                return 400, _error(f"Previous response with id '{previous}' not found.", "invalid_request_error")
            owed = dict(stored.calls)
        inputs: list[EngineInput] = []
        for item in body.get("input") or []:
            if item.get("type") == "function_call_output":
                name = owed.pop(item["call_id"], None)
                if name is None:
                    return 400, _error(
                        f"No tool call found for function call output with call_id {item['call_id']}.",
                        "invalid_request_error",
                    )
                is_error = '"error"' in item["output"]
                inputs.append(ToolOutput(call_id=item["call_id"], name=name, output=item["output"], is_error=is_error))
            else:
                inputs.append(UserInput(text=item["content"]))
        if owed:
            return 400, _error(f"No tool output found for function call {next(iter(owed))}.", "invalid_request_error")
        if not inputs:
            return 400, _error("Input must not be empty.", "invalid_request_error")
        tools = [tool["name"] for tool in body.get("tools") or []]
        with self.lock:
            number = len(self.responses) + 1
            response_id = f"resp_{number:05d}"
            texts, calls = decide(self.phrases, inputs, tools, call_prefix=f"call_{number:05d}")
            self.responses[response_id] = _Stored(calls={call.call_id: call.name for call in calls})
        output: list[dict[str, Any]] = [
            {
                "type": "message",
                "id": f"msg_{number:05d}_{index}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
            for index, text in enumerate(texts)
        ]
        output += [
            {
                "type": "function_call",
                "id": f"fc_{call.call_id}",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
            for call in calls
        ]
        input_tokens = sum(len(json.dumps(item)) // 4 for item in body.get("input") or [])
        output_tokens = sum(len(text) // 4 for text in texts) + 10 * len(calls)
        return 200, {
            "id": response_id,
            "object": "response",
            "created_at": time.time(),
            "model": body["model"],
            "status": "completed",
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": body.get("tools") or [],
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def serve(fake: FakeOpenAI, port: int) -> ThreadingHTTPServer:
    """Serve ``fake`` on 127.0.0.1:``port`` in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/").endswith("/responses"):
                status, answer = fake.respond(body)
            else:
                status, answer = 404, _error(f"Unknown path {self.path}", "invalid_request_error")
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
