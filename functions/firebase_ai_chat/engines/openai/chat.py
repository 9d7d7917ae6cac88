"""The Chat Completions engine, for any OpenAI-compatible server (``OPENAI_BASE_URL``).

Chat Completions is stateless: the context keeps this assistant's history
(user, assistant and tool messages) and each turn sends the instructions (as
the system message) plus the newest history that fits the assistant's token
budget (``AssistantConfig.context_tokens``, see ``context_budget.py``); a tool
call is never sent without its output. The persisted history is trimmed the
same way, so the context record stays small. With ``stream=True`` (the
default) text deltas are reported as they arrive and tool calls are assembled
by the SDK's stream helper. Client settings: ``client.py``.
"""

from __future__ import annotations

from typing import Any

import openai
from openai.types.chat import ChatCompletion

from ..base import AssistantText, EngineReply, EngineRequest, TextSink, ToolCall, ToolOutput, Usage
from ..context_budget import DEFAULT_BUDGET, trim_history
from .client import OpenAIEngineBase
from .errors import engine_error


def _new_messages(request: EngineRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for item in request.input:
        if isinstance(item, ToolOutput):
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": item.output})
        elif isinstance(item, AssistantText):
            messages.append({"role": "assistant", "content": item.spoken})
        else:
            messages.append({"role": "user", "content": item.spoken})
    return messages


def _tools(request: EngineRequest) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
        for t in request.tools
    ]


class OpenAIChatEngine(OpenAIEngineBase):
    """``Engine`` on ``client.chat.completions``."""

    name = "openai-chat"

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """One model turn over the budgeted history."""
        budget = request.assistant.context_tokens or DEFAULT_BUDGET
        history = trim_history([*request.context.get("history", []), *_new_messages(request)], budget)
        system = (
            [{"role": "system", "content": request.assistant.instructions}] if request.assistant.instructions else []
        )
        arguments: dict[str, Any] = {
            "model": self.model_for(request.assistant.model),
            "messages": [*system, *history],
        }
        if request.tools:
            arguments["tools"] = _tools(request)
        try:
            if self.stream:
                with self.client.chat.completions.stream(**arguments, stream_options={"include_usage": True}) as stream:
                    for event in stream:
                        if event.type == "content.delta" and event.snapshot and on_text is not None:
                            on_text(0, event.snapshot)
                    completion: ChatCompletion = stream.get_final_completion()
            else:
                completion = self.client.chat.completions.create(**arguments)
        except openai.OpenAIError as error:
            raise engine_error(error) from error
        message = completion.choices[0].message
        calls = [
            ToolCall(call_id=call.id, name=call.function.name, arguments=call.function.arguments or "{}")
            for call in message.tool_calls or []
            if call.type == "function"
        ]
        assistant_message: dict[str, Any] = {"role": "assistant", "content": message.content}
        if calls:
            assistant_message["tool_calls"] = [
                {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in calls
            ]
        usage = completion.usage
        return EngineReply(
            texts=[message.content] if message.content else [],
            tool_calls=calls,
            context={"history": trim_history([*history, assistant_message], budget)},
            model=completion.model,
            usage=Usage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens) if usage else Usage(),
        )
