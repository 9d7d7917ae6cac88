"""The watchdog: a delayed task per run that recovers the run if it is stuck, and costs per chat.

A run can be stuck when a worker died after its last retry, when the follow-up of a queued post was
never enqueued (a crash between the commit and the enqueue), or when a suspended tool is never
resumed. The front API arms a watchdog for a dispatch *before* the commit that may start it (a new
chat, a post, a hand-over with messages: a post queued behind a run arms the dispatch that will
answer it), so no crash between that commit and the run's enqueue leaves a run unwatched; a
watchdog armed for a dispatch that never starts finds it so and ends (one read).

When a watchdog (``ChatCommand.watchdog(..., watch=n)``) arrives, ``deadline`` after it was
armed, it reads the chat:

- the chat is gone, not ``processing``, or runs and queues neither this dispatch: the run ended or
  never started; nothing is done and no watchdog follows;
- the chat was updated within ``deadline`` (the run progresses, posts arrive), or the dispatch is
  still queued behind the live run: the next watchdog (``n + 1``) is armed for ``deadline`` after
  the chat's last update;
- else the run is stuck: its dispatch is enqueued again (``sweep=k``, resuming from its last
  persisted step; a duplicate is ignored), counted in ``chats/{id}/sweeps/{dispatchId}`` in the same
  commit (which writes the chat), and the next watchdog armed; after ``max_requeues`` re-enqueues
  the chat fails with ``deadline-exceeded``.

These are the guarantees of the scheduled sweeper it replaces (same deadline, count, record and
error), without its collection-wide query on (``status``, ``updatedAt``), a hot index. A suspended
tool waiting for its continuation is treated as the sweeper treated it: the run is re-enqueued
(the delivery finds the call still waiting and changes nothing), then fails after
``max_requeues`` deadlines.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..commands import ChatCommand
from ..errors import ErrorCode
from ..models import ErrorInfo
from ..records import SweepRecord, sweep_path
from ..status import ChatStatus
from ..store.documents import ChatSnapshot, ChatWrite, read_record
from ..store.port import ChatStore
from ..tasks.port import TaskQueue
from ..tasks.watchdog_timer import WATCHDOG_DEADLINE, WatchdogTimer
from .failing import failing

logger = logging.getLogger(__name__)

STUCK_MESSAGE = "The assistant did not answer in time. Please try again."
MAX_REQUEUES = 3


class Verdict(enum.StrEnum):
    """What one watchdog found."""

    ENDED = "ended"
    WAITING = "waiting"
    REQUEUED = "requeued"
    FAILED = "failed"


@dataclass(frozen=True)
class Check:
    """What one watchdog did: its verdict, the run it re-enqueued, when the next one is due."""

    verdict: Verdict
    requeued: ChatCommand | None = None
    next_in: timedelta | None = None


class Watchdog(WatchdogTimer):
    """Arms (``WatchdogTimer``) and checks the delayed watchdog tasks of runs."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        deadline: timedelta = WATCHDOG_DEADLINE,
        max_requeues: int = MAX_REQUEUES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(queue=queue, deadline=deadline)
        self._store = store
        self._max_requeues = max_requeues
        self._clock = clock

    def check(self, command: ChatCommand) -> Check:
        """Handle one delivery of a watchdog: see the module's docstring."""
        now = self._clock()
        change = functools.partial(self._change, chat_id=command.chat_id, dispatch_id=command.dispatch_id, now=now)
        found: Check = self._store.update(command.chat_id, change)
        watch = (command.watch or 0) + 1
        if found.requeued is not None:
            self._queue.enqueue(found.requeued)
        if found.next_in is not None:
            self.arm(command.chat_id, command.dispatch_id, watch=watch, delay=found.next_in)
        return found

    def _change(
        self, snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, now: datetime
    ) -> tuple[ChatWrite, Check]:
        chat = snapshot.state
        if (
            chat is None
            or chat.status is not ChatStatus.PROCESSING
            or dispatch_id not in (chat.latest_dispatch_id, chat.next_dispatch_id)
        ):
            return ChatWrite(), Check(Verdict.ENDED)
        quiet_until = (chat.updated_at or now) + self.deadline
        if chat.latest_dispatch_id != dispatch_id:
            return ChatWrite(), Check(Verdict.WAITING, next_in=self.deadline)
        if quiet_until > now:
            return ChatWrite(), Check(Verdict.WAITING, next_in=quiet_until - now)
        path = sweep_path(dispatch_id)
        record = read_record(snapshot, path, SweepRecord) or SweepRecord()
        if record.count >= self._max_requeues:
            error = ErrorInfo(code=ErrorCode.DEADLINE_EXCEEDED, message=STUCK_MESSAGE)
            write, failed = failing(dispatch_id, error)(snapshot)
            return write, Check(Verdict.FAILED if failed else Verdict.ENDED)
        count = record.count + 1
        write = ChatWrite(state=chat, records={path: SweepRecord(count=count).to_record()})
        requeued = ChatCommand.requeued(chat_id, dispatch_id, sweep=count)
        return write, Check(Verdict.REQUEUED, requeued=requeued, next_in=self.deadline)
