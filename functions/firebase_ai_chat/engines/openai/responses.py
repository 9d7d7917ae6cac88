"""The OpenAI Responses API engine, through the official ``openai`` SDK.

The conversation continues server-side: the context keeps the last response
id and each turn sends only the new input (user messages, function call
outputs) with ``previous_response_id``. Instructions and tools are sent every
turn (the API does not carry instructions over). With ``stream=True`` (the
default) text deltas are reported as they arrive; the final reply is the
SDK's assembled response either way. Client settings: ``client.py``.
"""

from __future__ import annotations

from typing import Any

import openai
from openai.types.responses import Response

from ..base import AssistantText, EngineReply, EngineRequest, TextSink, ToolCall, ToolOutput, Usage
from .client import OpenAIEngineBase
from .errors import engine_error


def _input_items(request: EngineRequest) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for item in request.input:
        if isinstance(item, ToolOutput):
            items.append({"type": "function_call_output", "call_id": item.call_id, "output": item.output})
        elif isinstance(item, AssistantText):
            items.append({"role": "assistant", "content": item.spoken})
        else:
            items.append({"role": "user", "content": item.text})
    return items


def _tools(request: EngineRequest) -> list[dict[str, Any]]:
    return [
        {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters, "strict": False}
        for t in request.tools
    ]


def _reply(response: Response) -> EngineReply:
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


class OpenAIResponsesEngine(OpenAIEngineBase):
    """``Engine`` on ``client.responses``."""

    name = "openai"

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """One model turn."""
        arguments: dict[str, Any] = {
            "model": self.model_for(request.assistant.model),
            "input": _input_items(request),
        }
        if request.assistant.instructions:
            arguments["instructions"] = request.assistant.instructions
        if request.tools:
            arguments["tools"] = _tools(request)
        if previous := request.context.get("previousResponseId"):
            arguments["previous_response_id"] = previous
        try:
            if not self.stream:
                return _reply(self.client.responses.create(**arguments))
            texts: dict[int, str] = {}
            with self.client.responses.stream(**arguments) as stream:
                for event in stream:
                    if event.type == "response.output_text.delta":
                        index = sorted({*texts, event.output_index}).index(event.output_index)
                        texts[event.output_index] = texts.get(event.output_index, "") + event.delta
                        if on_text is not None:
                            on_text(index, texts[event.output_index])
                return _reply(stream.get_final_response())
        except openai.OpenAIError as error:
            raise engine_error(error) from error
