"""Suspend, persist, resume: the continuation of a suspended tool call.

When a tool returns ``Continuation.suspend()`` the worker stores a record at
``chats/{chatId}/continuations/{continuationId}`` and the chat stays
``processing``. Later any process calls ``ContinuationScheduler.resume`` with
the id and the result: in one transaction the result is written into the
run (a ``DataReduction`` also becomes the chat's ``data``) and the record is
marked resumed; then a task continues the run exactly where it stopped, with
the other tool calls of that turn intact. Resuming twice is a no-op; an
unknown id is ``not-found``.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from .errors import ChatError, ErrorCode
from .models import ChatCommand
from .run_state import RunState, run_path
from .store import ChatSnapshot, ChatStore, ChatWrite
from .task_queue import TaskQueue
from .tools import CompletedResult, DataReduction

logger = logging.getLogger(__name__)

_ID = re.compile(r"^([A-Za-z0-9_-]{1,128})\.([A-Za-z0-9_-]{1,128})\.(\d{1,6})\.(\d{1,4})$")


def continuation_id(*, chat_id: str, dispatch_id: str, turn: int, index: int) -> str:
    """The id of the ``index``-th tool call of model turn ``turn`` in a run (stable across retries)."""
    return f"{chat_id}.{dispatch_id}.{turn}.{index}"


def continuation_path(continuation: str) -> str:
    """Where a continuation record is stored, relative to the chat."""
    return f"continuations/{continuation}"


def _parse(continuation: str) -> tuple[str, str]:
    match = _ID.match(continuation) if isinstance(continuation, str) else None
    if match is None:
        raise ChatError(ErrorCode.NOT_FOUND, "Unknown continuation.")
    return match.group(1), match.group(2)


class ContinuationRecord(BaseModel):
    """``chats/{chatId}/continuations/{id}``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    dispatch_id: str
    call_id: str
    tool: str
    status: Literal["suspended", "resumed"] = "suspended"
    result: dict[str, Any] | None = None


class ContinuationScheduler:
    """Resumes suspended tool calls; usable from any function or process."""

    def __init__(self, *, store: ChatStore, queue: TaskQueue) -> None:
        self._store = store
        self._queue = queue

    def resume(self, continuation: str, result: CompletedResult) -> bool:
        """Complete the suspended call with ``result`` and continue its run.

        Returns ``False`` (and changes nothing) when it was already resumed.
        Raises ``ChatError(not-found)`` for an unknown id.
        """
        chat_id, dispatch_id = _parse(continuation)

        def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, ChatCommand | bool | None]:
            found = snapshot.record(continuation_path(continuation))
            if found is None:
                raise ChatError(ErrorCode.NOT_FOUND, "Unknown continuation.")
            record = ContinuationRecord.model_validate(found)
            if record.status == "resumed":
                return ChatWrite(), False
            document = result.model_dump(mode="json")
            resumed = record.model_copy(update={"status": "resumed", "result": document})
            records: dict[str, dict[str, Any] | None] = {
                continuation_path(continuation): resumed.model_dump(mode="json", by_alias=True)
            }
            chat = snapshot.state
            run_document = snapshot.record(run_path(dispatch_id))
            if chat is None or not chat.is_running(dispatch_id) or run_document is None:
                return ChatWrite(records=records), None
            run = RunState.model_validate(run_document)
            calls = [
                call.model_copy(update={"result": document}) if call.continuation_id == continuation else call
                for call in run.calls
            ]
            records[run_path(dispatch_id)] = run.model_copy(update={"calls": calls}).to_record()
            state = chat.model_copy(update={"data": result.data}) if isinstance(result, DataReduction) else None
            command = ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, continuation_id=continuation)
            return ChatWrite(state=state, records=records), command

        outcome = self._store.update(chat_id, change)
        if outcome is False:
            logger.info("[chat=%s dispatch=%s] continuation %s already resumed", chat_id, dispatch_id, continuation)
            return False
        if isinstance(outcome, ChatCommand):
            self._queue.enqueue(outcome)
        logger.info("[chat=%s dispatch=%s] continuation %s resumed", chat_id, dispatch_id, continuation)
        return True
