"""The OpenAI Responses API engine, through the official ``openai`` SDK.

The conversation continues server-side: the context keeps the last response
id and each turn sends only the new input (user messages, function call
outputs) with ``previous_response_id``. Instructions and tools are sent every
turn (the API does not carry instructions over).

Configuration: ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` (read by the SDK),
``OPENAI_MODEL`` (default ``DEFAULT_MODEL``) unless the assistant names a model.
"""

from __future__ import annotations

import os
from typing import Any

import openai

from .base import EngineReply, EngineRequest, ToolCall, ToolOutput, Usage
from .openai_errors import engine_error

DEFAULT_MODEL = "gpt-4.1-mini"


def _input_items(request: EngineRequest) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for item in request.input:
        if isinstance(item, ToolOutput):
            items.append({"type": "function_call_output", "call_id": item.call_id, "output": item.output})
        else:
            items.append({"role": "user", "content": item.text})
    return items


def _tools(request: EngineRequest) -> list[dict[str, Any]]:
    return [
        {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters, "strict": False}
        for t in request.tools
    ]


class OpenAIResponsesEngine:
    """``Engine`` on ``client.responses.create``."""

    name = "openai"

    def __init__(self, *, client: openai.OpenAI | None = None, model: str | None = None) -> None:
        self._client = client
        self._model = model or os.environ.get("OPENAI_MODEL") or DEFAULT_MODEL

    @property
    def client(self) -> openai.OpenAI:
        """The SDK client (created on first use, from the environment)."""
        if self._client is None:
            self._client = openai.OpenAI(max_retries=2, timeout=60)
        return self._client

    def run(self, request: EngineRequest) -> EngineReply:
        """One model turn."""
        arguments: dict[str, Any] = {
            "model": request.assistant.model or self._model,
            "input": _input_items(request),
            "instructions": request.assistant.instructions or None,
        }
        if request.tools:
            arguments["tools"] = _tools(request)
        if previous := request.context.get("previousResponseId"):
            arguments["previous_response_id"] = previous
        try:
            response = self.client.responses.create(**arguments)
        except openai.OpenAIError as error:
            raise engine_error(error) from error
        texts: list[str] = []
        calls: list[ToolCall] = []
        for item in response.output:
            if item.type == "message":
                text = "".join(part.text for part in item.content if part.type == "output_text")
                if text:
                    texts.append(text)
            elif item.type == "function_call":
                calls.append(ToolCall(call_id=item.call_id, name=item.name, arguments=item.arguments or "{}"))
        usage = response.usage
        return EngineReply(
            texts=texts,
            tool_calls=calls,
            context={"previousResponseId": response.id},
            model=response.model,
            usage=Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens) if usage else Usage(),
        )
