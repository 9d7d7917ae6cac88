"""A local stand-in for the OpenAI service that speaks its real wire protocol.

The real ``openai`` SDK talks to it over HTTP (``OPENAI_BASE_URL``); nothing is
patched. Its "model" is the offline engine's deterministic ``decide`` with the
example app's phrases, so a scenario gives the same answers with either engine.

Endpoints:

- ``POST /v1/responses``: like the real Responses API it keeps responses
  server-side, continues them with ``previous_response_id`` and refuses a
  continuation that leaves a function call without its output, so the worker's
  history handling is checked for real.
- ``POST /v1/chat/completions``: stateless like the real API (``messages`` is
  the whole history). It refuses (400) an assistant message with ``tool_calls``
  not followed by a tool message for every ``tool_call_id``, and a tool message
  that answers no preceding assistant tool call. The model's input is the
  messages after the last assistant message.

Both stream when the body has ``"stream": true`` (``text/event-stream``): the
Responses API's typed events (``response.created`` … ``response.completed``)
and Chat Completions' ``chat.completion.chunk`` lines ending with
``data: [DONE]`` (plus a usage chunk with ``stream_options.include_usage``).
A streamed answer is cut from the same object the non-streamed call returns,
so the SDK's stream helpers assemble exactly that. Texts and arguments are
split into ``chunk_size`` characters; ``stream_delay`` seconds pass between
events (set it to watch partial text).

Faults are queued with ``fail_next`` and consumed one per request, whichever
the endpoint:

- ``Fault(status=429, delay=0.5)``: answer with that HTTP status (after the
  delay) and an OpenAI-style error body (the SDK raises ``RateLimitError``,
  ``InternalServerError``…).
- ``Fault(kind="bad_arguments")``: answer normally (after ``delay``) but cut
  every function call's arguments into invalid JSON (``{"value": ``), as a model
  sometimes does. It is consumed even if the answer has no function call.

Every request body is recorded in ``requests`` and its path in ``paths`` (same
order); ``requests_for("chat/completions")`` lists one endpoint's bodies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from fake_http import FakeHandler, FakeServer, serve_in_thread
from fake_http import Fault as Fault

from firebase_ai_chat.engines.base import AssistantText, EngineInput, ToolCall, ToolOutput, heard
from firebase_ai_chat.engines.offline import decide

RESPONSES = "/v1/responses"
CHAT_COMPLETIONS = "/v1/chat/completions"


@dataclass
class _Stored:
    calls: dict[str, str]  # call_id → tool name


class _BadRequestError(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass
class FakeOpenAI(FakeServer):
    """The server's state (``FakeServer``'s, and the responses it stores)."""

    responses: dict[str, _Stored] = field(default_factory=dict)
    completions: int = 0  # chat completions answered so far (for ids)
    stateless: bool = False
    """Like a server that keeps no state (``llama-server``): ``/v1/responses`` refuses
    ``previous_response_id`` (400) and reads ``input`` as the whole history."""
    sparse: bool = False
    """Like ``llama-server``'s stream: Responses events without ``sequence_number``, ``output_index`` or
    ``content_index``, and call ids without the ``call_`` prefix."""

    def requests_for(self, endpoint: str) -> list[dict[str, Any]]:
        """The bodies of the requests whose path ends with ``endpoint`` (``"responses"``, ``"chat/completions"``)."""
        suffix = "/" + endpoint.strip("/")
        with self.lock:
            return [body for path, body in zip(self.paths, self.requests, strict=True) if path.endswith(suffix)]

    def respond(self, body: dict[str, Any], *, path: str = RESPONSES) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON body answering a ``POST /v1/responses`` (the whole response, even to stream)."""
        fault, _ = self.receive(path, body)
        if fault is not None and fault.kind == "status":
            return fault.status, _fault_error(fault.status)
        if not body.get("model"):
            return 400, _error("Missing required parameter: 'model'.", "invalid_request_error", "model")
        owed: dict[str, str] = {}
        previous = body.get("previous_response_id")
        if self.stateless:
            if previous is not None:
                return 400, _error("previous_response_id is not supported", "invalid_request_error", None)
            try:
                inputs = _history_inputs(body.get("input") or [])
            except _BadRequestError as error:
                return 400, _error(error.message, "invalid_request_error", error.param)
            return self._answer(body, inputs, None, fault)
        if previous is not None:
            stored = self.responses.get(previous)
            if stored is None:
                return 400, _error(
                    f"Previous response with id '{previous}' not found.",
                    "invalid_request_error",
                    "previous_response_id",
                )
            owed = dict(stored.calls)
        inputs: list[EngineInput] = []
        for item in body.get("input") or []:
            if item.get("type") == "function_call_output":
                name = owed.pop(item["call_id"], None)
                if name is None:
                    return 400, _error(
                        f"No tool call found for function call output with call_id {item['call_id']}.",
                        "invalid_request_error",
                        "input",
                    )
                is_error = '"error"' in item["output"]
                inputs.append(ToolOutput(call_id=item["call_id"], name=name, output=item["output"], is_error=is_error))
            elif item.get("role") == "assistant":
                inputs.append(AssistantText(text=_text(item["content"])))
            else:
                inputs.append(heard(_text(item["content"])))
        if owed:
            return 400, _error(
                f"No tool output found for function call {next(iter(owed))}.", "invalid_request_error", "input"
            )
        if not inputs:
            return 400, _error("Input must not be empty.", "invalid_request_error", "input")
        return self._answer(body, inputs, previous, fault)

    def _answer(
        self, body: dict[str, Any], inputs: list[EngineInput], previous: str | None, fault: Fault | None
    ) -> tuple[int, dict[str, Any]]:
        """The response to ``inputs`` (the model's new input), stored for a later continuation."""
        tools = [tool["name"] for tool in body.get("tools") or [] if tool.get("type", "function") == "function"]
        with self.lock:
            number = len(self.responses) + 1
            response_id = f"resp_{number:05d}"
            prefix = f"{number:05d}" if self.sparse else f"call_{number:05d}"
            texts, calls = decide(self.phrases, inputs, tools, call_prefix=prefix)
            self.responses[response_id] = _Stored(calls={call.call_id: call.name for call in calls})
        if fault is not None:
            calls = _malformed(calls)
        output: list[dict[str, Any]] = [
            {
                "type": "message",
                "id": f"msg_{number:05d}_{index}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
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
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "metadata": body.get("metadata") or {},
            "previous_response_id": previous,
            "output": output,
            "parallel_tool_calls": True,
            "temperature": 1.0,
            "top_p": 1.0,
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

    def complete_chat(self, body: dict[str, Any], *, path: str = CHAT_COMPLETIONS) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON body answering a ``POST /v1/chat/completions`` (a whole ``chat.completion``)."""
        fault, _ = self.receive(path, body)
        if fault is not None and fault.kind == "status":
            return fault.status, _fault_error(fault.status)
        try:
            inputs = _chat_inputs(body)
        except _BadRequestError as error:
            return 400, _error(error.message, "invalid_request_error", error.param)
        tools = [
            tool["function"]["name"]
            for tool in body.get("tools") or []
            if tool.get("type") == "function" and "function" in tool
        ]
        with self.lock:
            self.completions += 1
            number = self.completions
        texts, calls = decide(self.phrases, inputs, tools, call_prefix=f"call_chat{number:05d}")
        if fault is not None:
            calls = _malformed(calls)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "\n\n".join(texts) if texts else None,
            "refusal": None,
            "annotations": [],
        }
        if calls:
            message["tool_calls"] = [
                {"id": call.call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in calls
            ]
        prompt_tokens = sum(len(json.dumps(item)) // 4 for item in body.get("messages") or [])
        completion_tokens = sum(len(text) // 4 for text in texts) + 10 * len(calls)
        return 200, {
            "id": f"chatcmpl-{number:05d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": None,
        }

    def response_events(self, response: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        """The Responses API stream, ``(event type, data)``, that accumulates into ``response``."""
        sequence = iter(range(1_000_000))

        def event(kind: str, **data: Any) -> tuple[str, dict[str, Any]]:
            fields = {"type": kind, "sequence_number": next(sequence), **data}
            if self.sparse:
                fields = {
                    k: v for k, v in fields.items() if k not in ("sequence_number", "output_index", "content_index")
                }
            return kind, fields

        pending = {**response, "status": "in_progress", "output": [], "usage": None}
        yield event("response.created", response=pending)
        yield event("response.in_progress", response=pending)
        for index, item in enumerate(response["output"]):
            where = {"item_id": item["id"], "output_index": index}
            if item["type"] == "message":
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                )
                for part_index, part in enumerate(item["content"]):
                    part_where = {**where, "content_index": part_index}
                    yield event("response.content_part.added", **part_where, part={**part, "text": ""})
                    for piece in self.pieces(part["text"]):
                        yield event("response.output_text.delta", **part_where, delta=piece, logprobs=[])
                    yield event("response.output_text.done", **part_where, text=part["text"], logprobs=[])
                    yield event("response.content_part.done", **part_where, part=part)
            elif item["type"] == "function_call":
                yield event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "arguments": ""},
                )
                for piece in self.pieces(item["arguments"]):
                    yield event("response.function_call_arguments.delta", **where, delta=piece)
                yield event(
                    "response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"]
                )
            else:
                yield event("response.output_item.added", output_index=index, item=item)
            yield event("response.output_item.done", output_index=index, item=item)
        yield event("response.completed", response=response)

    def chat_chunks(self, completion: dict[str, Any], *, include_usage: bool = False) -> Iterator[dict[str, Any]]:
        """The ``chat.completion.chunk`` objects that accumulate into ``completion``."""
        choice = completion["choices"][0]
        message = choice["message"]
        base = {
            "id": completion["id"],
            "object": "chat.completion.chunk",
            "created": completion["created"],
            "model": completion["model"],
            "service_tier": completion.get("service_tier"),
            "system_fingerprint": completion.get("system_fingerprint"),
        }
        if include_usage:
            base["usage"] = None

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                **base,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }

        content = message["content"]
        yield chunk({"role": "assistant", "content": "" if content is not None else None, "refusal": None})
        for piece in self.pieces(content or ""):
            yield chunk({"content": piece})
        for index, call in enumerate(message.get("tool_calls") or []):
            function = call["function"]
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": function["name"], "arguments": ""},
                        }
                    ]
                }
            )
            for piece in self.pieces(function["arguments"]):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, choice["finish_reason"])
        if include_usage:
            yield {**base, "choices": [], "usage": completion["usage"]}


def _text(content: Any) -> str:
    """A message's text: a string, or the text of its content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _is_error(output: str) -> bool:
    try:
        parsed = json.loads(output)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "error" in parsed


def _history_inputs(items: list[dict[str, Any]]) -> list[EngineInput]:
    """A stateless ``/v1/responses`` input, validated like the real API: every function call answered
    by an output, every output answering a call; the model's input is what follows its last output."""
    names: dict[str, str] = {}
    answered: set[str] = set()
    inputs: list[EngineInput] = []
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            names[item["call_id"]] = item["name"]
            inputs = []
        elif kind == "function_call_output":
            name = names.get(item["call_id"])
            if name is None or item["call_id"] in answered:
                raise _BadRequestError(f"No tool call found for function call output with call_id {item['call_id']}.")
            answered.add(item["call_id"])
            output = item["output"]
            inputs.append(ToolOutput(call_id=item["call_id"], name=name, output=output, is_error=_is_error(output)))
        elif kind == "reasoning":
            continue
        elif item.get("role") == "assistant":
            inputs = []
        else:
            inputs.append(heard(_text(item["content"])))
    owed = [call for call in names if call not in answered]
    if owed:
        raise _BadRequestError(f"No tool output found for function call {owed[0]}.", "input")
    if not inputs:
        raise _BadRequestError("Input must not be empty.", "input")
    return inputs


def _chat_inputs(body: dict[str, Any]) -> list[EngineInput]:
    """Validate a Chat Completions request like the real API; the model's input (after the last assistant message)."""
    if not body.get("model"):
        raise _BadRequestError("Missing required parameter: 'model'.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _BadRequestError("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise _BadRequestError(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
        )
    names: dict[str, str] = {}  # tool_call_id → tool name, for the calls of the latest assistant message
    owed: list[str] = []  # its tool_call_ids still without a tool message
    inputs: list[EngineInput] = []
    for position, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in owed:
                raise _BadRequestError(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                    "'tool_calls'.",
                    f"messages.[{position}].role",
                )
            owed.remove(call_id)
            output = _text(message.get("content"))
            inputs.append(ToolOutput(call_id=call_id, name=names[call_id], output=output, is_error=_is_error(output)))
            continue
        if owed:
            raise _BadRequestError(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(owed)}",
                f"messages.[{position}].role",
            )
        names = {}
        if role == "assistant":
            inputs = []
            for call in message.get("tool_calls") or []:
                names[call["id"]] = call["function"]["name"]
                owed.append(call["id"])
        elif role == "user":
            inputs.append(heard(_text(message.get("content"))))
        elif role not in ("system", "developer"):
            raise _BadRequestError(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'function' "
                "and 'developer'.",
                f"messages[{position}].role",
            )
    if owed:
        raise _BadRequestError(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(owed)}",
            "messages",
        )
    if not inputs:
        raise _BadRequestError(
            "The messages after the last assistant message hold no user or tool message.", "messages"
        )
    return inputs


def _malformed(calls: list[ToolCall]) -> list[ToolCall]:
    """The calls with their arguments cut into invalid JSON (``{"value": 3}`` → ``{"value": ``)."""
    cut: list[ToolCall] = []
    for call in calls:
        colon = call.arguments.find(":")
        arguments = call.arguments[: colon + 2] if colon >= 0 else call.arguments[:1] or "{"
        cut.append(call.model_copy(update={"arguments": arguments}))
    return cut


def _error(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _fault_error(status: int) -> dict[str, Any]:
    if status == 429:
        return _error("injected fault 429: rate limit reached", "requests", code="rate_limit_exceeded")
    if status < 500:
        return _error(f"injected fault {status}", "invalid_request_error")
    return _error(f"injected fault {status}", "server_error")


def serve(fake: FakeOpenAI, port: int) -> ThreadingHTTPServer:
    """Serve ``fake`` on 127.0.0.1:``port`` (0: any free port, see ``server_address``) in a daemon thread."""

    class Handler(FakeHandler):
        pace = fake

        def do_POST(self) -> None:  # noqa: N802 - http.server calls it by this name
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?", 1)[0].rstrip("/")
            if path.endswith("/responses"):
                status, answer = fake.respond(body, path=path)
                if status == 200 and body.get("stream") is True:
                    self.send_events(
                        f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in fake.response_events(answer)
                    )
                    return
            elif path.endswith("/chat/completions"):
                status, answer = fake.complete_chat(body, path=path)
                if status == 200 and body.get("stream") is True:
                    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    chunks = fake.chat_chunks(answer, include_usage=include_usage)
                    self.send_events([*(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks), "data: [DONE]\n\n"])
                    return
            else:
                status, answer = 404, _error(f"Unknown path {self.path}", "invalid_request_error")
            self.send_json(status, answer)

    return serve_in_thread(Handler, port)
