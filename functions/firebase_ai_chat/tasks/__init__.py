"""How commands reach the worker: the port (``TaskQueue``), Cloud Tasks (``cloud_tasks``) and
the worker spread over several queues (``routed``)."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .cloud_tasks import CloudTasksQueue as CloudTasksQueue
    from .cloud_tasks import enqueue_task as enqueue_task
    from .port import TaskQueue as TaskQueue
    from .routed import RoutedQueue as RoutedQueue
    from .routed import queue_index as queue_index

_HOMES = {
    "port": ("TaskQueue",),
    "cloud_tasks": ("CloudTasksQueue", "enqueue_task"),
    "routed": ("RoutedQueue", "queue_index"),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "CloudTasksQueue",
    "RoutedQueue",
    "TaskQueue",
    "enqueue_task",
    "queue_index",
]
