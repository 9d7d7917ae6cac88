"""Cloud Tasks adapter."""

from .queue import CloudTasksQueue

__all__ = ["CloudTasksQueue"]
