"""Suspend, persist, resume: the continuation of a suspended tool call.

When a tool returns ``Continuation.suspend()`` the worker stores a record at
``chats/{chatId}/continuations/{continuationId}`` and the chat stays
``processing``; the calls the model made after it in the same turn wait. Later
any process calls ``ContinuationScheduler.resume`` with the id and the result:
in one transaction the result is written into the run (a ``DataReduction``
also becomes the chat's ``data``) and the record is marked resumed; then a
task continues the run exactly where it stopped.

The result is best given as a ``Resumer``: a function of the chat data *as it
is when the call resumes*, called inside that transaction (``Toolset.resumer``
makes a typed one). A result computed from a copy of the data taken when the
tool suspended would overwrite whatever changed since. Whatever the resumer
returns is checked like a tool's result (``tools.checked``): an exception or
data Firestore cannot store becomes a tool error the model reads, so a
resumed chat always goes on. Resuming twice, after the owner stopped the run (the record is then
``cancelled``), or a call of a chat that no longer exists (deleted) is a no-op that returns
``False``; an unknown id is
``not-found``; a call whose tool has not finished suspending yet is
``unavailable`` (transient: retry).
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from ..commands import ChatCommand
from ..errors import ChatError, ErrorCode
from ..records import (
    ContinuationId,
    ContinuationRecord,
    ContinuationStatus,
    RunState,
    continuation_path,
    run_path,
)
from ..store.documents import ChatSnapshot, ChatWrite, read_record
from ..store.port import ChatStore
from ..tasks.port import TaskQueue
from ..tools.results import (
    CompletedResult,
    DataReduction,
    Resumer,
    Suspended,
    ToolFailure,
    ToolResult,
    checked,
    unexpected_failure,
)

logger = logging.getLogger(__name__)


class _NotSuspendedYetError(ChatError):
    """The tool that suspends has not committed its suspension yet (it will, in a moment)."""


def _in_flight(run: RunState | None, continuation: ContinuationId) -> bool:
    """Whether the call may still be on its way to suspending: its model turn is not committed yet
    (a run commits a model call with its tools), or it is committed with no result."""
    if run is None or run.turn <= continuation.turn:
        return True
    return any(c.continuation_id == str(continuation) and c.result is None for c in run.calls)


def _resume(
    snapshot: ChatSnapshot, *, continuation: ContinuationId, result: CompletedResult | Resumer
) -> tuple[ChatWrite, ChatCommand | bool | None]:
    """Store the result in the continuation record and, while the run waits for it, in the run (and
    the data); gives the command that continues the run, ``False`` if it was resumed already."""
    chat = snapshot.state
    if chat is None:  # the chat was deleted (or never was): nothing to resume, nothing to write under it
        return ChatWrite(), False
    dispatch_id = continuation.dispatch_id
    run = read_record(snapshot, run_path(dispatch_id), RunState)
    record = read_record(snapshot, continuation_path(continuation), ContinuationRecord)
    if record is None:
        if chat.is_running(dispatch_id) and _in_flight(run, continuation):
            raise _NotSuspendedYetError(ErrorCode.UNAVAILABLE, "The call has not suspended yet. Try again.")
        raise ChatError(ErrorCode.NOT_FOUND, "Unknown continuation.")
    if record.status is not ContinuationStatus.SUSPENDED:
        return ChatWrite(), False
    completed = _completed(result, chat.data, record.tool)
    resumed = record.model_copy(update={"status": ContinuationStatus.RESUMED, "result": completed})
    records: dict[str, dict[str, Any] | None] = {continuation_path(continuation): resumed.to_record()}
    if not chat.is_running(dispatch_id) or run is None:
        return ChatWrite(records=records), None
    calls = [
        c.model_copy(update={"result": completed}) if c.continuation_id == str(continuation) else c for c in run.calls
    ]
    records[run_path(dispatch_id)] = run.model_copy(update={"calls": calls, "version": run.version + 1}).to_record()
    state = chat.model_copy(update={"data": completed.data}) if isinstance(completed, DataReduction) else None
    command = ChatCommand.resumed(
        continuation.chat_id,
        dispatch_id,
        continuation_id=str(continuation),
        assistant_id=chat.config.assistant_id,
    )
    return ChatWrite(state=state, records=records), command


def _completed(result: CompletedResult | Resumer, data: dict[str, Any], tool: str) -> CompletedResult:
    """The result to store: a resumer's answer on ``data`` (the one guard of resumers: what one raises
    or a suspension is a tool error); anything unstorable as a tool error (the one check)."""
    if callable(result):
        try:
            answer: ToolResult = result(dict(data))
        except Exception:
            logger.exception("the resumer of %s raised", tool)
            return unexpected_failure(tool)
    else:
        answer = result
    if isinstance(answer, Suspended):
        return ToolFailure(message=f"{tool} cannot suspend again when it resumes.")
    completed = checked(answer, tool)
    assert not isinstance(completed, Suspended)
    return completed


class ContinuationScheduler:
    """Resumes suspended tool calls; usable from any function or process."""

    def __init__(self, *, store: ChatStore, queue: TaskQueue, wait_seconds: float = 10.0) -> None:
        self._store = store
        self._queue = queue
        self._wait_seconds = wait_seconds

    def resume(self, continuation: str, result: CompletedResult | Resumer) -> bool:
        """Complete the suspended call with ``result`` and continue its run.

        ``result`` is a completed result, or a ``Resumer`` called with the chat's current data
        inside the transaction (the way to compute a result from the data without losing updates).
        Returns ``False`` (and changes nothing) when it was already resumed, cancelled by a stop, or
        its chat no longer exists (deleted with its user's data, or by retention). Raises
        ``ChatError(not-found)`` for an unknown call of an existing chat, or an id that names no call.
        A resume that arrives while the tool is
        still suspending (a fast job: the worker commits the suspension right after the tool returns)
        waits up to ``wait_seconds`` for it, then raises ``ChatError(unavailable)`` (transient: retry).
        """
        parsed = ContinuationId.parse(continuation)
        chat_id, dispatch_id = parsed.chat_id, parsed.dispatch_id
        change = functools.partial(_resume, continuation=parsed, result=result)
        reads = [continuation_path(parsed), run_path(dispatch_id)]
        deadline = time.monotonic() + self._wait_seconds
        while True:
            try:
                outcome = self._store.update(chat_id, change, reads=reads)
                break
            except _NotSuspendedYetError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        if outcome is False:
            logger.info("[chat=%s dispatch=%s] continuation %s already resumed", chat_id, dispatch_id, continuation)
            return False
        if isinstance(outcome, ChatCommand):
            self._queue.enqueue(outcome)
        logger.info("[chat=%s dispatch=%s] continuation %s resumed", chat_id, dispatch_id, continuation)
        return True
