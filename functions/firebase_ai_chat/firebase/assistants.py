"""The assistants an app declares (``Assistant``), as stored (``AssistantConfig``), and the engine they
run on in this process (``choose_engine``: OpenAI with a key, offline under the emulators)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._once import once
from ..engines.base import Engine
from ..engines.offline import OfflineEngine, Phrase
from ..errors import ChatError, ErrorCode
from ..models import AssistantConfig
from ..tools.toolset import Toolset
from .params import OPENAI_API_KEY, OPENAI_API_MODE, OPENAI_STORE, OPENAI_STREAM

APP_ENGINE = "app"
"""The engine name chats of a ``ChatApp`` store: the worker resolves it to the engine chosen at start."""


@dataclass(frozen=True)
class Assistant:
    """One assistant: its instructions, its tools, and where it may hand the chat."""

    name: str
    instructions: str
    tools: Toolset[Any] | None = None
    model: str | None = None
    handoffs: tuple[str, ...] = ()
    can_hand_back: bool = False
    context_tokens: int | None = None


def choose_engine(offline: Sequence[Phrase]) -> Engine:
    """The engine for this process (see the module): OpenAI with a key, offline on the emulators."""
    if OPENAI_API_KEY.value:
        stream = OPENAI_STREAM.value.lower() not in ("0", "false", "no")
        if OPENAI_API_MODE.value == "chat":
            from ..engines.openai.chat import OpenAIChatEngine

            return OpenAIChatEngine(stream=stream)
        from ..engines.openai.responses import OpenAIResponsesEngine

        store = OPENAI_STORE.value.lower() not in ("0", "false", "no")
        return OpenAIResponsesEngine(stream=stream, store=store)
    if os.environ.get("FUNCTIONS_EMULATOR") == "true":
        return OfflineEngine(offline)
    raise ChatError(
        ErrorCode.FAILED_PRECONDITION, "The OPENAI_API_KEY secret is not set for the worker.", permanent=True
    )


class NamedEngine:
    """An engine under the name ``APP_ENGINE``, created on first use (a missing key fails the run)."""

    name = APP_ENGINE

    def __init__(self, offline: Sequence[Phrase]) -> None:
        self._offline = offline

    @once
    def engine(self) -> Engine:
        return choose_engine(self._offline)

    def run(self, request: Any, *, on_text: Any = None) -> Any:
        return self.engine.run(request, on_text=on_text)


def assistant_config(assistant: Assistant) -> AssistantConfig:
    return AssistantConfig(
        engine=APP_ENGINE,
        assistant_id=assistant.name,
        dispatcher_id=assistant.name,
        model=assistant.model,
        instructions=assistant.instructions,
        context_tokens=assistant.context_tokens,
    )


def check_assistants(assistants: Sequence[Assistant]) -> None:
    """Fail at import on what would fail at run time."""
    names = [assistant.name for assistant in assistants]
    if not names:
        raise ValueError("a ChatApp needs at least one assistant")
    if len(set(names)) != len(names):
        raise ValueError(f"assistant names must be unique: {names}")
    for assistant in assistants:
        unknown = [name for name in assistant.handoffs if name not in names]
        if unknown:
            raise ValueError(f"assistant {assistant.name!r} hands off to unknown assistants {unknown}")
