"""An in-memory ``TaskQueue`` for tests: commands wait in order until the test delivers them.

Like Cloud Tasks it refuses a second command with the same task id (the
queue names tasks after the dispatch), so what a real queue would drop is
dropped here too. ``deliver`` hands the oldest command (or any, to test
out-of-order delivery) to a worker; ``drain`` delivers until none is left.
A command can be delivered again at will: that is how tests play Cloud
Tasks' at-least-once delivery.

A command enqueued with a ``delay`` (the watchdog's) waits in ``scheduled`` on the queue's own
clock, which only the test moves: ``advance`` moves it on and makes the commands then due
``pending`` (in the order they fall due), so a test decides exactly when a delayed task arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..commands import ChatCommand
from ..runtime.worker import ChatWorker, Delivery


@dataclass(frozen=True)
class Scheduled:
    """A delayed command and when it falls due on the queue's clock."""

    due: timedelta
    command: ChatCommand


class InMemoryTaskQueue:
    """Keeps enqueued commands; a test delivers them to a ``ChatWorker`` when and as often as it likes."""

    def __init__(self) -> None:
        self.pending: list[ChatCommand] = []
        self.enqueued: list[ChatCommand] = []
        """Every command enqueued without a delay, in order."""
        self.scheduled: list[Scheduled] = []
        """Delayed commands not yet due."""
        self.elapsed = timedelta(0)
        """The queue's clock: how far the test has advanced it."""
        self._task_ids: set[str] = set()

    def enqueue(self, command: ChatCommand, *, delay: timedelta | None = None) -> None:
        """Queue ``command`` (``delay`` later on the queue's clock) unless a command with its task id
        was queued before."""
        if command.task_id in self._task_ids:
            return
        self._task_ids.add(command.task_id)
        if delay is not None and delay > timedelta(0):
            self.scheduled.append(Scheduled(self.elapsed + delay, command))
            return
        self.pending.append(command)
        self.enqueued.append(command)

    def advance(self, by: timedelta) -> list[ChatCommand]:
        """Move the clock on by ``by``; the delayed commands now due become pending (returned)."""
        self.elapsed += by
        due = sorted((item for item in self.scheduled if item.due <= self.elapsed), key=lambda item: item.due)
        self.scheduled = [item for item in self.scheduled if item.due > self.elapsed]
        self.pending.extend(item.command for item in due)
        return [item.command for item in due]

    def deliver(self, worker: ChatWorker, *, index: int = 0, delivery: Delivery | None = None) -> ChatCommand:
        """Take the ``index``-th waiting command (oldest first) and let ``worker`` handle it."""
        command = self.pending.pop(index)
        worker.handle(command, delivery=delivery)
        return command

    def drain(self, worker: ChatWorker, *, limit: int = 100) -> int:
        """Deliver waiting commands, oldest first, until none is left; returns how many were delivered."""
        delivered = 0
        while self.pending:
            if delivered >= limit:
                raise RuntimeError(f"still {len(self.pending)} command(s) waiting after {limit} deliveries")
            self.deliver(worker)
            delivered += 1
        return delivered
