"""The assistants a worker runs, one spec each (``AssistantSpec``: its stored configuration, its tools,
where it may hand the chat), and the lookups the run loop makes in them (``Assistants``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..models import AssistantConfig
from ..tools.dispatcher import ToolsDispatcher


@dataclass(frozen=True)
class Handoffs:
    """Where an assistant may hand the chat: ``to`` these assistants, and back if ``back``."""

    to: frozenset[str] = frozenset()
    back: bool = False


@dataclass(frozen=True)
class AssistantSpec:
    """One assistant as the worker runs it; ``handoffs`` ``None``: it may hand the chat to any assistant
    the worker knows, and back."""

    config: AssistantConfig
    tools: ToolsDispatcher | None = None
    handoffs: Handoffs | None = None


class Assistants:
    """The worker's assistants by name, and the tools of each dispatcher id a chat may name."""

    def __init__(
        self,
        specs: Sequence[AssistantSpec | AssistantConfig] = (),
        *,
        dispatchers: Mapping[str, ToolsDispatcher] | None = None,
        handoffs: Mapping[str, Handoffs] | None = None,
    ) -> None:
        """``specs`` (a bare ``AssistantConfig`` is a spec with no tools of its own); ``dispatchers``
        and ``handoffs`` add tools by dispatcher id and rules by assistant name (custom wiring)."""
        full = [spec if isinstance(spec, AssistantSpec) else AssistantSpec(spec) for spec in specs]
        self._by_name = {spec.config.assistant_id: spec for spec in full}
        self._tools = {**(dispatchers or {}), **{s.config.dispatcher_id: s.tools for s in full if s.tools}}
        self._rules = {**(handoffs or {}), **{s.config.assistant_id: s.handoffs for s in full if s.handoffs}}

    def tools(self, dispatcher_id: str) -> ToolsDispatcher | None:
        """The tools a chat's config names (``None``: the assistant has none)."""
        return self._tools.get(dispatcher_id)

    def config(self, name: str) -> AssistantConfig | None:
        """The stored configuration of the assistant ``name`` (a hand-over target)."""
        spec = self._by_name.get(name)
        return spec.config if spec else None

    def rule(self, name: str) -> Handoffs | None:
        """Where ``name`` may hand the chat (``None``: anywhere, and back)."""
        return self._rules.get(name)
