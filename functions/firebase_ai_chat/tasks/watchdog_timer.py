"""Arming a run's watchdog: a delayed ``watchdog`` task on the worker's queue (``runtime/watchdog.py``
checks it when it arrives). The front API arms one before the commit that may start a run; the
worker re-arms it while the run lives."""

from __future__ import annotations

from datetime import timedelta

from ..commands import ChatCommand
from .port import TaskQueue

WATCHDOG_DEADLINE = timedelta(minutes=10)
"""How long a run may go without a commit before its watchdog re-enqueues it."""
MIN_DELAY = timedelta(seconds=1)
"""The shortest delay of a re-armed watchdog (clocks of the store and the function may differ)."""


class WatchdogTimer:
    """Enqueues the delayed watchdog tasks of runs."""

    def __init__(self, *, queue: TaskQueue, deadline: timedelta = WATCHDOG_DEADLINE) -> None:
        self._queue = queue
        self.deadline = deadline

    def arm(self, chat_id: str, dispatch_id: str, *, watch: int = 0, delay: timedelta | None = None) -> None:
        """Enqueue the ``watch``-th watchdog of ``dispatch_id``, due ``delay`` (default: the deadline) from now."""
        command = ChatCommand.watchdog(chat_id, dispatch_id, watch=watch)
        self._queue.enqueue(command, delay=max(delay if delay is not None else self.deadline, MIN_DELAY))
