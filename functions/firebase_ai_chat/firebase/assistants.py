"""The assistants an app declares (``Assistant``), as stored (``AssistantConfig``), and the engines they
run on in this process: each assistant's own (``Assistant(engine=...)``), else the app's
(``CHAT_ENGINE``, else the engine whose key is set; offline under the emulators with none)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._once import once
from ..engines.base import Engine
from ..engines.gemini.settings import uses_vertex
from ..engines.offline import OfflineEngine, Phrase
from ..errors import ChatError, ErrorCode
from ..models import AssistantConfig
from ..tools.toolset import Toolset
from .params import CHAT_ENGINE, GEMINI_API_KEY, OPENAI_API_KEY, OPENAI_API_MODE, OPENAI_STORE, OPENAI_STREAM

APP_ENGINE = "app"
"""The engine name stored for assistants that name none: the worker resolves it to the app's engine."""
ENGINES = ("openai", "gemini", "offline")
"""The engines an assistant may name."""


@dataclass(frozen=True)
class Assistant:
    """One assistant: its instructions, its tools, where it may hand the chat, and what answers it
    (``engine``: ``openai``, ``gemini`` or ``offline``; ``None``: the app's engine; ``model``: that
    engine's model, else its default)."""

    name: str
    instructions: str
    tools: Toolset[Any] | None = None
    model: str | None = None
    handoffs: tuple[str, ...] = ()
    can_hand_back: bool = False
    context_tokens: int | None = None
    engine: str | None = None
    message_meta: dict[str, Any] | None = None
    """Merged over the app's ``ChatMeta.ai_message_meta`` into this assistant's messages (its ``name``)."""


def _on(value: str) -> bool:
    return value.lower() not in ("0", "false", "no")


def _missing(secret: str) -> ChatError:
    return ChatError(ErrorCode.FAILED_PRECONDITION, f"The {secret} secret is not set for the worker.", permanent=True)


def engine_named(name: str, offline: Sequence[Phrase]) -> Engine:
    """The engine ``name`` with this process's settings; a clear error when its key is missing."""
    if name == "openai":
        if not OPENAI_API_KEY.value:
            raise _missing("OPENAI_API_KEY")
        if OPENAI_API_MODE.value == "chat":
            from ..engines.openai.chat import OpenAIChatEngine

            return OpenAIChatEngine(stream=_on(OPENAI_STREAM.value))
        from ..engines.openai.responses import OpenAIResponsesEngine

        return OpenAIResponsesEngine(stream=_on(OPENAI_STREAM.value), store=_on(OPENAI_STORE.value))
    if name == "gemini":
        if not GEMINI_API_KEY.value and not uses_vertex():
            raise _missing("GEMINI_API_KEY")
        from ..engines.gemini import GeminiEngine

        return GeminiEngine()
    return OfflineEngine(offline)


def app_engine_name() -> str:
    """The engine of assistants that name none (see the module)."""
    chosen = CHAT_ENGINE.value.strip().lower() or "auto"
    if chosen in ENGINES:
        return chosen
    if chosen != "auto":
        message = f"CHAT_ENGINE is {chosen!r}: set it to one of {', '.join(ENGINES)} or auto."
        raise ChatError(ErrorCode.FAILED_PRECONDITION, message, permanent=True)
    keyed = [
        name
        for name, key in (("openai", OPENAI_API_KEY.value), ("gemini", GEMINI_API_KEY.value or uses_vertex()))
        if key
    ]
    if len(keyed) > 1:
        message = "Both OpenAI and Gemini are configured: set CHAT_ENGINE to openai or gemini."
        raise ChatError(ErrorCode.FAILED_PRECONDITION, message, permanent=True)
    if keyed:
        return keyed[0]
    if os.environ.get("FUNCTIONS_EMULATOR") == "true":
        return "offline"
    message = "No model is configured for the worker: set the OPENAI_API_KEY or GEMINI_API_KEY secret."
    raise ChatError(ErrorCode.FAILED_PRECONDITION, message, permanent=True)


def choose_engine(offline: Sequence[Phrase]) -> Engine:
    """The app's engine for this process (see the module)."""
    return engine_named(app_engine_name(), offline)


class LazyEngine:
    """An engine under ``name``, created on first use (a missing key fails the run that needs it)."""

    def __init__(self, name: str, build: Callable[[], Engine]) -> None:
        self.name = name
        self._build = build

    @once
    def engine(self) -> Engine:
        return self._build()

    def run(self, request: Any, *, on_text: Any = None) -> Any:
        return self.engine.run(request, on_text=on_text)


def engines(offline: Sequence[Phrase], app: Engine | None = None) -> dict[str, Engine]:
    """Every engine an assistant may run on, by the name its config stores (``app``: the app's, or the
    one an app's tests give)."""
    named: dict[str, Engine] = {
        name: LazyEngine(name, functools.partial(engine_named, name, offline)) for name in ENGINES
    }
    return {APP_ENGINE: app or LazyEngine(APP_ENGINE, functools.partial(choose_engine, offline)), **named}


def assistant_config(assistant: Assistant) -> AssistantConfig:
    return AssistantConfig(
        engine=assistant.engine or APP_ENGINE,
        assistant_id=assistant.name,
        dispatcher_id=assistant.name,
        model=assistant.model,
        instructions=assistant.instructions,
        context_tokens=assistant.context_tokens,
        message_meta=assistant.message_meta,
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
        if assistant.engine is not None and assistant.engine not in ENGINES:
            raise ValueError(f"assistant {assistant.name!r}: engine {assistant.engine!r} is not one of {ENGINES}")
