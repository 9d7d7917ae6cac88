"""``RoutedQueue``: the worker spread over several task queues, a chat always on the same one.

Cloud Tasks dispatches at most 500 tasks per second per queue; an app that needs more declares
several worker functions (``Capacity.queues``), each with its own queue. Every command of a chat
(its posts' runs, the worker's follow-ups, resumed continuations, the sweeper's re-enqueues) goes
to the queue its chat id picks: a stable hash (SHA-256, not Python's per-process ``hash``), so
every process agrees. Task names still dedupe a command within its queue. Every worker function
runs the same worker, so a task that lands on another queue (after a change of ``queues``) is
answered all the same: the run's guarantees rest on the chat document, not on the queue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

from ..commands import ChatCommand
from .port import TaskQueue


def queue_index(chat_id: str, queues: int) -> int:
    """The queue (``0 … queues-1``) of chat ``chat_id``: the same in every process and run."""
    digest = hashlib.sha256(chat_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % queues


class RoutedQueue:
    """A ``TaskQueue`` over several: each command goes to the queue its chat id picks."""

    def __init__(self, queues: Sequence[TaskQueue]) -> None:
        if not queues:
            raise ValueError("a RoutedQueue needs at least one queue")
        self.queues = tuple(queues)

    def queue_for(self, chat_id: str) -> TaskQueue:
        """The queue of chat ``chat_id``."""
        return self.queues[queue_index(chat_id, len(self.queues))]

    def enqueue(self, command: ChatCommand, *, delay: timedelta | None = None) -> None:
        """Enqueue ``command`` on its chat's queue (``delay`` later when given: the watchdog)."""
        self.queue_for(command.chat_id).enqueue(command, delay=delay)
