"""The task queue port: how commands reach the worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from ..commands import ChatCommand


class TaskQueue(Protocol):
    """Enqueues a command for the worker; at-least-once delivery is assumed."""

    def enqueue(self, command: ChatCommand, *, delay: timedelta | None = None) -> None:
        """Enqueue ``command``, delivered no sooner than ``delay`` from now when given (the watchdog's
        delayed checks). Enqueuing the same dispatch twice must not deliver it twice when the queue
        can tell (the Cloud Tasks adapter names tasks after the command)."""
        ...
