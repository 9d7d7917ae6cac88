"""The dispatcher contract: what the run loop calls to list and run an assistant's tools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..engines.base import ToolSpec
from .context import ChatContext, Continuation, HandBack, HandOver
from .results import ToolResult


@dataclass(frozen=True)
class Dispatch:
    """A dispatcher's answer: the result plus the hand-over actions the tool asked for."""

    result: ToolResult
    actions: tuple[HandOver | HandBack, ...] = ()


class ToolsDispatcher(Protocol):
    """Runs the tools of one assistant (chosen by ``config.dispatcherId``)."""

    def specs(self) -> list[ToolSpec]:
        """The tools the model may call."""
        ...

    def dispatch(
        self,
        data: Mapping[str, Any],
        name: str,
        args: str,
        continuation: Continuation,
        chat: ChatContext,
    ) -> Dispatch:
        """Run tool ``name`` with the model's raw JSON ``args``."""
        ...
