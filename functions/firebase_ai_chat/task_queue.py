"""The task queue port: how commands reach the worker."""

from __future__ import annotations

from typing import Protocol

from .models import ChatCommand


class TaskQueue(Protocol):
    """Enqueues a command for the worker; at-least-once delivery is assumed."""

    def enqueue(self, command: ChatCommand) -> None:
        """Enqueue ``command``. Enqueuing the same dispatch twice must not deliver it twice
        when the queue can tell (the Cloud Tasks adapter names tasks after the dispatch)."""
        ...
