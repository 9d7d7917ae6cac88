"""The Gemini engine, through the official ``google-genai`` SDK: the Gemini Developer API with a key,
or Vertex AI with the runtime's credentials (``client.py``).

Gemini keeps no conversation: the context keeps the assistant's history as the model's own contents
(``contents.py``, thought signatures included) within the context budget, and each turn sends it
with the instructions (``system_instruction``) and the tools (their JSON Schemas as they are:
``parameters_json_schema``). The SDK's automatic function calling is off: the worker runs the tools.
With ``stream=True`` (the default) the answer's text is reported as it arrives; the streamed parts
are joined into the answer the history keeps. A reply with nothing in it and a reason (the prompt
or the answer blocked) fails the chat with a clear message (``errors.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import types

from ..._once import once
from ..base import EngineReply, EngineRequest, TextSink, ToolCall, Usage
from ..context_budget import DEFAULT_BUDGET, trim_history
from ..failures import blocked, unavailable
from .client import client_from_environment
from .contents import SYNTHETIC_CALL_ID, merged, new_contents, sdk_contents, starts_turn, stored
from .errors import engine_error
from .settings import default_model

FORMAT = "gemini"
"""The context's ``format``: a context of another engine (an assistant moved to Gemini) starts afresh."""
_ANSWERED = {None, types.FinishReason.STOP, types.FinishReason.MAX_TOKENS}
_RETRY = {types.FinishReason.MALFORMED_FUNCTION_CALL}


@dataclass
class _Answer:
    """A reply as it arrives (one response, or a stream's chunks)."""

    parts: list[types.Part] = field(default_factory=list)
    usage: types.GenerateContentResponseUsageMetadata | None = None
    model: str = ""
    finish: types.FinishReason | None = None
    block: types.BlockedReason | None = None

    def add(self, response: types.GenerateContentResponse) -> None:
        candidate = response.candidates[0] if response.candidates else None
        if candidate is not None and candidate.content is not None and candidate.content.parts:
            self.parts.extend(candidate.content.parts)
        if candidate is not None and candidate.finish_reason is not None:
            self.finish = candidate.finish_reason
        if response.prompt_feedback is not None and response.prompt_feedback.block_reason is not None:
            self.block = response.prompt_feedback.block_reason
        self.usage = response.usage_metadata or self.usage
        self.model = response.model_version or self.model

    @property
    def text(self) -> str:
        return "".join(p.text or "" for p in self.parts if p.text and not p.thought and p.function_call is None)


class GeminiEngine:
    """``Engine`` on ``client.models.generate_content`` (see the module)."""

    name = "gemini"

    def __init__(self, *, client: genai.Client | None = None, model: str | None = None, stream: bool = True) -> None:
        self._given = client
        self._model = model
        self.stream = stream

    @once
    def client(self) -> genai.Client:
        """The SDK client (the given one, else from the environment on first use): one for all the runs
        a worker instance answers at once."""
        return self._given or client_from_environment()

    def model_for(self, assistant_model: str | None) -> str:
        """The assistant's model, else this engine's, else ``GEMINI_MODEL`` or ``DEFAULT_MODEL``."""
        return assistant_model or self._model or default_model()

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """One model turn over the budgeted history."""
        budget = request.assistant.context_tokens or DEFAULT_BUDGET
        before = request.context.get("history", []) if request.context.get("format") == FORMAT else []
        history = trim_history([*before, *new_contents(request)], budget, starts_turn=starts_turn)
        model = self.model_for(request.assistant.model)
        try:
            answer = self._answer(model, history, _config(request), on_text)
        except Exception as error:
            failure = engine_error(error)
            if failure is None:
                raise
            raise failure from error
        parts = merged(answer.parts)
        if not parts and (answer.block is not None or answer.finish not in _ANSWERED | _RETRY):
            raise blocked()
        if answer.finish in _RETRY:
            raise unavailable()
        if parts:
            history = trim_history(
                [*history, stored(types.Content(role="model", parts=parts))], budget, starts_turn=starts_turn
            )
        return EngineReply(
            texts=[answer.text] if answer.text else [],
            tool_calls=_calls(parts),
            context={"format": FORMAT, "history": history},
            model=answer.model or model,
            usage=_usage(answer.usage),
        )

    def _answer(
        self, model: str, history: list[dict[str, Any]], config: types.GenerateContentConfig, on_text: TextSink | None
    ) -> _Answer:
        models = self.client.models
        contents: Any = sdk_contents(history)
        responses: Iterable[types.GenerateContentResponse]
        if self.stream:
            responses = models.generate_content_stream(model=model, contents=contents, config=config)
        else:
            responses = [models.generate_content(model=model, contents=contents, config=config)]
        answer, shown = _Answer(), ""
        for response in responses:
            answer.add(response)
            if self.stream and on_text is not None:
                text = answer.text  # joined once per chunk
                if text != shown:
                    shown = text
                    on_text(0, text)
        return answer


def _config(request: EngineRequest) -> types.GenerateContentConfig:
    declarations = [
        types.FunctionDeclaration(name=t.name, description=t.description, parameters_json_schema=t.parameters)
        for t in request.tools
    ]
    return types.GenerateContentConfig(
        system_instruction=request.assistant.instructions or None,
        tools=[types.Tool(function_declarations=declarations)] if declarations else None,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def _calls(parts: list[types.Part]) -> list[ToolCall]:
    calls = []
    for part in parts:
        call = part.function_call
        if call is not None and call.name:
            call_id = call.id or f"{SYNTHETIC_CALL_ID}{uuid.uuid4().hex[:16]}"
            calls.append(ToolCall(call_id=call_id, name=call.name, arguments=json.dumps(call.args or {})))
    return calls


def _usage(usage: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    if usage is None:
        return Usage()
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    return Usage(input_tokens=usage.prompt_token_count or 0, output_tokens=output)
