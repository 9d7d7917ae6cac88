"""The OpenAI Responses API engine, through the official ``openai`` SDK.

By default (``store=True``) the conversation continues server-side: the context keeps the last
response id and each turn sends only the new input (user messages, function call outputs) with
``previous_response_id``. A server that keeps no state (``llama-server``, a proxy, an organization
with zero data retention) refuses that: the chat fails with ``failed-precondition`` naming
``OPENAI_STORE=false``. With ``store=False`` the context keeps the assistant's history instead
(within the context budget, as the Chat Completions engine does) and each turn sends it whole
with ``store: false``, asking for the reasoning items' encrypted content so they can be sent
back. Instructions and tools are sent every turn. With ``stream=True`` (the default) text deltas
are reported as they arrive and the reply is the response ``response.completed`` carries, read from
the raw events (servers such as ``llama-server`` omit fields the SDK's stream helper needs). Client
settings: ``client.py``.
"""

from __future__ import annotations

from typing import Any

import openai
from openai.types.responses import Response

from ...errors import ChatError, ErrorCode
from ..base import AssistantText, EngineReply, EngineRequest, TextSink, ToolCall, ToolOutput, Usage
from ..context_budget import DEFAULT_BUDGET, trim_history
from ..failures import unavailable
from .client import OpenAIEngineBase
from .errors import engine_error

STATELESS_SERVER = "The AI service keeps no conversation state: set OPENAI_STORE=false to send the history each turn."


def _input_items(request: EngineRequest) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for item in request.input:
        if isinstance(item, ToolOutput):
            items.append({"type": "function_call_output", "call_id": item.call_id, "output": item.output})
        elif isinstance(item, AssistantText):
            items.append({"role": "assistant", "content": item.spoken})
        else:
            items.append({"role": "user", "content": item.spoken})
    return items


def _tools(request: EngineRequest) -> list[dict[str, Any]]:
    return [
        {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters, "strict": False}
        for t in request.tools
    ]


def _message_text(item: Any) -> str:
    """The text of an output message (its ``output_text`` parts)."""
    return "".join(part.text for part in item.content if part.type == "output_text")


def _output_items(response: Response) -> list[dict[str, Any]]:
    """The response's output as input items of a later turn (stateless mode): the assistant's
    messages, its function calls, and reasoning items with their encrypted content."""
    items: list[dict[str, Any]] = []
    for item in response.output:
        if item.type == "message" and (text := _message_text(item)):
            items.append({"role": "assistant", "content": text})
        elif item.type == "function_call":
            arguments = item.arguments or "{}"  # as the reply's ToolCall has them
            items.append({"type": "function_call", "call_id": item.call_id, "name": item.name, "arguments": arguments})
        elif item.type == "reasoning" and getattr(item, "encrypted_content", None):
            items.append(
                {"type": "reasoning", "id": item.id, "summary": [], "encrypted_content": item.encrypted_content}
            )
    return items


def _reply(response: Response, *, context: dict[str, Any]) -> EngineReply:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for item in response.output:
        if item.type == "message" and (text := _message_text(item)):
            texts.append(text)
        elif item.type == "function_call":
            calls.append(ToolCall(call_id=item.call_id, name=item.name, arguments=item.arguments or "{}"))
    usage = response.usage
    return EngineReply(
        texts=texts,
        tool_calls=calls,
        context=context,
        model=response.model,
        usage=Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens) if usage else Usage(),
    )


class OpenAIResponsesEngine(OpenAIEngineBase):
    """``Engine`` on ``client.responses``; ``store=False``: stateless (see the module)."""

    name = "openai"

    def __init__(self, *, store: bool = True, **settings: Any) -> None:
        super().__init__(**settings)
        self.store = store

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """One model turn."""
        budget = request.assistant.context_tokens or DEFAULT_BUDGET
        arguments: dict[str, Any] = {"model": self.model_for(request.assistant.model)}
        if self.store:
            arguments["input"] = _input_items(request)
            if previous := request.context.get("previousResponseId"):
                arguments["previous_response_id"] = previous
        else:
            history = trim_history([*request.context.get("history", []), *_input_items(request)], budget)
            arguments.update(input=history, store=False, include=["reasoning.encrypted_content"])
        if request.assistant.instructions:
            arguments["instructions"] = request.assistant.instructions
        if request.tools:
            arguments["tools"] = _tools(request)
        try:
            response = self._respond(arguments, on_text)
        except openai.OpenAIError as error:
            raise self._error(error, continued="previous_response_id" in arguments) from error
        if self.store:
            return _reply(response, context={"previousResponseId": response.id})
        history = trim_history([*arguments["input"], *_output_items(response)], budget)
        return _reply(response, context={"history": history})

    def _respond(self, arguments: dict[str, Any], on_text: TextSink | None) -> Response:
        """The response; streamed, its text deltas go to ``on_text`` and the response is the one
        ``response.completed`` carries. Only what the protocol guarantees is read: the event's type and
        delta, and the item it belongs to by ``item_id`` (a server may omit ``output_index``,
        ``content_index`` and ``sequence_number``, which the SDK's stream helper needs)."""
        if not self.stream:
            return self.client.responses.create(**arguments)
        texts: dict[str, str] = {}
        final: Response | None = None
        with self.client.responses.create(**arguments, stream=True) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    key = str(getattr(event, "item_id", None) or getattr(event, "output_index", None) or "")
                    texts[key] = texts.get(key, "") + event.delta
                    if on_text is not None:
                        on_text(list(texts).index(key), texts[key])
                elif event.type == "response.completed":
                    final = event.response
        if final is None:
            raise unavailable()  # the stream ended before the response did
        return final

    @staticmethod
    def _error(error: openai.OpenAIError, *, continued: bool) -> ChatError:
        """``engine_error``, except a continuation the server refuses (it keeps no conversation)."""
        refused = isinstance(error, openai.BadRequestError | openai.NotFoundError) and (
            getattr(error, "param", None) == "previous_response_id" or "previous_response_id" in str(error)
        )
        if continued and refused:
            return ChatError(ErrorCode.FAILED_PRECONDITION, STATELESS_SERVER, permanent=True)
        return engine_error(error)
