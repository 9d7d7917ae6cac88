"""``ChatCommand``: the Cloud Task payload the worker receives, one named constructor per reason a
task is enqueued, and the task id that makes a duplicate enqueue harmless."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import Field

from .limits import UsageDocument
from .models import DOCUMENT_ID, Model


class CommandAction(StrEnum):
    """What a task asks the worker: answer the user messages of a dispatch (``run``), call the
    completion handler of a closed chat (``close``), or check that a run is not stuck (``watchdog``)."""

    RUN = "run"
    CLOSE = "close"
    WATCHDOG = "watchdog"


class ChatCommand(Model):
    """The Cloud Task payload the worker receives, built by the named constructors below (one per
    reason a task is enqueued)."""

    chat_id: str = Field(pattern=f"^{DOCUMENT_ID}$")
    dispatch_id: str = Field(pattern=f"^{DOCUMENT_ID}$")
    action: CommandAction = CommandAction.RUN
    continuation_id: str | None = Field(default=None, max_length=300)
    """Set when a resumed continuation continues the run (names the task apart from the first one)."""
    sweep: int | None = None
    """Set when the watchdog re-enqueues a stuck run (the n-th time)."""
    watch: int | None = None
    """The n-th watchdog of the dispatch (``action == "watchdog"``; each one arms the next)."""
    meta: dict[str, Any] | None = None
    input: list[str] | None = None
    """The user's messages of the dispatch, when the caller knew them (the worker then needs no query)."""
    assistant_id: str | None = None
    """The assistant expected to answer (the worker reads its engine context with the chat)."""
    usage: UsageDocument | None = None
    """The user's usage as the post that started the run wrote it (limits on): the worker meters the
    run on it instead of reading the usage document again."""

    @classmethod
    def run(
        cls,
        chat_id: str,
        dispatch_id: str,
        *,
        assistant_id: str | None,
        texts: Sequence[str] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> ChatCommand:
        """Answer the dispatch's user messages (``texts``, when the caller knows them)."""
        return cls(
            chat_id=chat_id,
            dispatch_id=dispatch_id,
            assistant_id=assistant_id,
            input=list(texts) if texts is not None else None,
            meta=dict(meta) if meta is not None else None,
        )

    @classmethod
    def resumed(cls, chat_id: str, dispatch_id: str, *, continuation_id: str, assistant_id: str) -> ChatCommand:
        """Continue a run whose suspended call ``continuation_id`` was resumed."""
        return cls(chat_id=chat_id, dispatch_id=dispatch_id, continuation_id=continuation_id, assistant_id=assistant_id)

    @classmethod
    def requeued(cls, chat_id: str, dispatch_id: str, *, sweep: int) -> ChatCommand:
        """Run a stuck dispatch again (its watchdog's ``sweep``-th time)."""
        return cls(chat_id=chat_id, dispatch_id=dispatch_id, sweep=sweep)

    @classmethod
    def watchdog(cls, chat_id: str, dispatch_id: str, *, watch: int) -> ChatCommand:
        """The ``watch``-th delayed check of the dispatch's run."""
        return cls(chat_id=chat_id, dispatch_id=dispatch_id, action=CommandAction.WATCHDOG, watch=watch)

    @classmethod
    def close(cls, chat_id: str, dispatch_id: str, *, meta: Mapping[str, Any] | None = None) -> ChatCommand:
        """Tell the completion handler that the chat was closed."""
        meta = dict(meta) if meta is not None else None
        return cls(chat_id=chat_id, dispatch_id=dispatch_id, action=CommandAction.CLOSE, meta=meta)

    @property
    def task_id(self) -> str:
        """A Cloud Tasks task id unique to this command (letters, digits, ``-`` and ``_``)."""
        suffix = f"-{self.continuation_id.replace('.', '_')}" if self.continuation_id else ""
        if self.sweep is not None:
            suffix += f"-sweep{self.sweep}"
        if self.watch is not None:
            suffix += f"-watchdog{self.watch}"
        return f"{self.chat_id}-{self.dispatch_id}{suffix}"
