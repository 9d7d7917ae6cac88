"""The engine port: one model turn, stateless between calls.

Whatever an engine must remember between turns (a Responses API
``previous_response_id``, a Chat Completions history) goes into
``EngineReply.context``; the worker persists it in Firestore and passes it back
in the next ``EngineRequest``. Nothing lives in process memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

from pydantic import ConfigDict, Field

from .._lazy_model import LazyModel
from ..models import AssistantConfig


class _Frozen(LazyModel):
    model_config = ConfigDict(frozen=True)


class UserInput(_Frozen):
    """A user's message sent to the model."""

    kind: Literal["user"] = "user"
    text: str

    @property
    def spoken(self) -> str:
        """The message as the model reads it."""
        return self.text


INSTRUCTION_PREFIX = "[A message from the app, not from the user]"
"""How an ``Instruction`` starts when the model reads it (as a user message: every protocol has one)."""


class Instruction(_Frozen):
    """A message of the app to the assistant, not something the user said: the ``messages`` of a tool's
    hand-over or hand-back (``ToolContext.hand_over``, ``hand_back``). The model acts on it."""

    kind: Literal["instruction"] = "instruction"
    text: str

    @property
    def spoken(self) -> str:
        """The message as the model reads it: marked as the app's."""
        return f"{INSTRUCTION_PREFIX} {self.text}"


def heard(text: str) -> UserInput | Instruction:
    """What a model server received as a user message: an ``Instruction`` when it is marked as one
    (the test servers read their input back this way)."""
    if text.startswith(INSTRUCTION_PREFIX):
        return Instruction(text=text.removeprefix(INSTRUCTION_PREFIX).lstrip())
    return UserInput(text=text)


class ToolOutput(_Frozen):
    """The result of a tool call, sent back to the model (``is_error`` for a tool error)."""

    kind: Literal["tool"] = "tool"
    call_id: str
    name: str
    output: str
    is_error: bool = False


class AssistantText(_Frozen):
    """An answer of the assistant that the user stopped (``text``: what was written until then, maybe
    nothing). It goes to the model before the next input, so the model knows what was said and that
    the user cut it short; what came before it is history, not a request to act on again."""

    kind: Literal["assistant"] = "assistant"
    text: str = ""

    @property
    def spoken(self) -> str:
        """The answer as the model reads it: the text, marked as stopped by the user."""
        note = "[The user stopped this answer.]"
        return f"{self.text}\n\n{note}" if self.text else note


EngineInput = UserInput | ToolOutput | AssistantText | Instruction


class ToolSpec(_Frozen):
    """A tool the model may call: name, description and JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


class ToolCall(_Frozen):
    """A tool call requested by the model; ``arguments`` is the raw JSON text it produced."""

    call_id: str
    name: str
    arguments: str


class Usage(_Frozen):
    """Tokens spent on one model call."""

    input_tokens: int = 0
    output_tokens: int = 0


class EngineRequest(_Frozen):
    """Everything one model turn needs."""

    assistant: AssistantConfig
    input: list[EngineInput]
    tools: list[ToolSpec] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


class EngineReply(_Frozen):
    """What the model answered: texts for the user and/or tool calls, plus the context to persist."""

    texts: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    context: dict[str, Any] = Field(default_factory=dict)
    model: str = ""
    usage: Usage = Field(default_factory=Usage)


TextSink = Callable[[int, str], None]
"""Called while a reply streams: ``(index of the text in the reply, the text so far)``."""


class Engine(Protocol):
    """Runs one model turn. Raise ``ChatError`` (transient or permanent) on failure."""

    name: str

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """Answer ``request``; a streaming engine reports partial texts to ``on_text``."""
        ...
