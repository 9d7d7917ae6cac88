"""An in-memory ``TaskQueue`` for tests: commands wait in order until the test delivers them.

Like Cloud Tasks it refuses a second command with the same task id (the
queue names tasks after the dispatch), so what a real queue would drop is
dropped here too. ``deliver`` hands the oldest command (or any, to test
out-of-order delivery) to a worker; ``drain`` delivers until none is left.
A command can be delivered again at will: that is how tests play Cloud
Tasks' at-least-once delivery.
"""

from __future__ import annotations

from ..models import ChatCommand
from ..worker import ChatWorker, Delivery


class InMemoryTaskQueue:
    """Keeps enqueued commands; a test delivers them to a ``ChatWorker`` when and as often as it likes."""

    def __init__(self) -> None:
        self.pending: list[ChatCommand] = []
        self.enqueued: list[ChatCommand] = []
        self._task_ids: set[str] = set()

    def enqueue(self, command: ChatCommand) -> None:
        """Queue ``command`` unless a command with its task id was queued before."""
        if command.task_id in self._task_ids:
            return
        self._task_ids.add(command.task_id)
        self.pending.append(command)
        self.enqueued.append(command)

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
