"""Finds chats stuck in ``processing`` and re-enqueues or fails them.

A chat can be stuck when a worker died after its last retry, when the
follow-up of a queued post was never enqueued (a crash between the commit and
the enqueue), or when a suspended tool is never resumed. Run ``sweep`` on a
schedule (the example app: every 5 minutes): a chat not updated for
``deadline`` gets its live dispatch enqueued again (a run resumes from its last
persisted step; a duplicate is ignored); after ``max_sweeps`` re-enqueues of
the same dispatch it fails with ``deadline-exceeded``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from .errors import ErrorCode
from .models import ChatCommand, ErrorInfo
from .status import ChatStatus
from .store import ChatSnapshot, ChatStore, ChatWrite, read_record
from .task_queue import TaskQueue
from .worker import failing

logger = logging.getLogger(__name__)

STUCK_MESSAGE = "The assistant did not answer in time. Please try again."


class SweepRecord(BaseModel):
    """``chats/{id}/sweeps/{dispatchId}``: how often the sweeper re-enqueued a dispatch."""

    count: int = 0


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class StuckChatSweeper:
    """Re-enqueues (then fails) chats that stay ``processing`` past a deadline."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        deadline: timedelta = timedelta(minutes=10),
        max_sweeps: int = 3,
        batch: int = 100,
    ) -> None:
        self._store = store
        self._queue = queue
        self._deadline = deadline
        self._max_sweeps = max_sweeps
        self._batch = batch

    def sweep(self, *, now: datetime | None = None) -> SweepReport:
        """One pass over the chats not updated since ``now - deadline``."""
        cutoff = (now or datetime.now(UTC)) - self._deadline
        report = SweepReport()
        for chat_id in self._store.processing_since(cutoff, limit=self._batch):
            outcome = self._store.update(chat_id, functools.partial(self._change, chat_id=chat_id, cutoff=cutoff))
            if isinstance(outcome, ChatCommand):
                self._queue.enqueue(outcome)
                report.requeued.append(chat_id)
                logger.warning("[chat=%s dispatch=%s] stuck: re-enqueued", chat_id, outcome.dispatch_id)
            elif outcome:
                report.failed.append(chat_id)
                logger.error("[chat=%s] stuck: failed", chat_id)
        return report

    def _change(
        self, snapshot: ChatSnapshot, *, chat_id: str, cutoff: datetime
    ) -> tuple[ChatWrite, ChatCommand | bool]:
        chat = snapshot.state
        if chat is None or chat.status is not ChatStatus.PROCESSING or chat.updated_at is None:
            return ChatWrite(), False
        if chat.updated_at >= cutoff:
            return ChatWrite(), False
        dispatch_id = chat.latest_dispatch_id
        path = f"sweeps/{dispatch_id}"
        record = read_record(snapshot, path, SweepRecord) or SweepRecord()
        if record.count >= self._max_sweeps:
            error = ErrorInfo(code=ErrorCode.DEADLINE_EXCEEDED, message=STUCK_MESSAGE)
            return failing(dispatch_id, error)(snapshot)
        count = record.count + 1
        write = ChatWrite(state=chat, records={path: SweepRecord(count=count).model_dump()})
        return write, ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, sweep=count)
