"""Cloud Tasks adapter."""

from .queue import CloudTasksQueue, enqueue_task

__all__ = ["CloudTasksQueue", "enqueue_task"]
