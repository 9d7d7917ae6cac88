"""``failing``: the change that fails a chat whose run cannot go on (the worker's last attempt, a
permanent error, the watchdog's last re-enqueue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..models import ErrorInfo
from ..records import RunOutcome, RunState, run_path
from ..status import ChatStatus, check_transition
from ..store.documents import ChatSnapshot, ChatWrite, read_record
from .parts import Mark
from .spending import Spending


def _advanced_by_another(run: RunState, mark: Mark | None) -> bool:
    if mark is None or mark.first_seen is None or run.writer in (None, mark.writer):
        return False
    return run.version > mark.first_seen


def failing(
    dispatch_id: str, error: ErrorInfo, *, mark: Mark | None = None, spending: Spending | None = None
) -> Callable[[ChatSnapshot], tuple[ChatWrite, bool]]:
    """A change that fails the chat (and marks its run) if it is still running ``dispatch_id``.

    With the ``mark`` of a failing delivery, a run that another delivery wrote since this one first
    read it is left alone: that delivery is advancing it (and fails it itself if it must). With
    ``spending`` the run's unbilled tokens and cost are billed to the user in the same commit."""

    def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, bool]:
        current = snapshot.state
        if current is None or not current.is_running(dispatch_id):
            return ChatWrite(), False
        records: dict[str, dict[str, Any] | None] = {}
        increments: dict[str, dict[str, float]] = {}
        run = read_record(snapshot, run_path(dispatch_id), RunState)
        if run is not None:
            if _advanced_by_another(run, mark):
                return ChatWrite(), False
            signed = {"outcome": RunOutcome.FAILED, "error": error.message, "version": run.version + 1}
            if mark is not None:
                signed["writer"] = mark.writer
            if spending is not None:
                run, increments = spending.billed(run, current.user_id)
            records[run_path(dispatch_id)] = run.model_copy(update=signed).to_record()
        check_transition(current.status, ChatStatus.FAILED)
        failed = current.model_copy(update={"status": ChatStatus.FAILED, "error": error, "stop_requested": None})
        return ChatWrite(state=failed, records=records, increments=increments), True

    return change
