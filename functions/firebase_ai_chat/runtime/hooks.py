"""Lifecycle hooks of the worker: observe a run at its step boundaries and when a command ends.

Like openai-agents' ``RunHooks``: subclass ``RunHooks`` and override what you
need; the worker calls every hook it was given, in order. The completion
handler of an app is a hook (``on_complete``); so is fault injection in the
reliability tests (``testing/faults.py`` crashes the process at a boundary).

Boundaries: ``after_model`` (the model replied, nothing written yet),
``after_tool`` (a tool ran, its result not written yet), ``mid_stream`` (a
partial message was written), ``after_finish`` (the run's last commit is
done, the follow-up run not enqueued yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..models import ChatState
from ..status import ChatStatus


@dataclass(frozen=True)
class CompletionEvent:
    """Passed to ``on_complete`` when a command is done (``userInput`` or ``complete``)."""

    chat_document: str
    dispatch_id: str
    status: ChatStatus
    data: dict[str, Any]
    meta: dict[str, Any] | None


class HookPoint(StrEnum):
    """The step boundaries a run reports to its hooks (each is the name of a ``RunHooks`` method)."""

    AFTER_MODEL = "after_model"
    AFTER_TOOL = "after_tool"
    MID_STREAM = "mid_stream"
    AFTER_FINISH = "after_finish"


class RunHooks:
    """No-op hooks: override the ones you need."""

    def after_model(self, chat: ChatState) -> None:
        """The model replied; nothing of the reply is written yet."""

    def after_tool(self, chat: ChatState) -> None:
        """A tool ran; its result is not written yet."""

    def mid_stream(self, chat: ChatState) -> None:
        """A partial (streaming) message was written."""

    def after_finish(self, chat: ChatState) -> None:
        """The run's last commit is done; the run of queued posts is not enqueued yet."""

    def on_complete(self, event: CompletionEvent) -> None:
        """A command ended: at most once per command (a crash right after the commit skips it)."""
