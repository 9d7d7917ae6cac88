"""Glue between ``tasks_fn.on_task_dispatched`` and ``ChatWorker``.

Python's ``on_task_dispatched`` gives no retry count, so the attempt is read
from the standard ``X-CloudTasks-TaskRetryCount`` / ``X-CloudTasks-TaskName``
headers. A payload that is not a ``ChatCommand`` is logged and acknowledged:
retrying it could never succeed.
"""

from __future__ import annotations

import logging
from typing import Any

from firebase_functions import tasks_fn
from pydantic import ValidationError

from ..commands import ChatCommand
from ..runtime.worker import ChatWorker, Delivery

logger = logging.getLogger(__name__)


def delivery_of(request: tasks_fn.CallableRequest[Any], *, max_attempts: int) -> Delivery:
    """The attempt number, task name and queue of this delivery."""
    headers = request.raw_request.headers
    try:
        attempt = int(headers.get("X-CloudTasks-TaskRetryCount", "0"))
    except ValueError:
        attempt = 0
    return Delivery(
        attempt=attempt,
        max_attempts=max_attempts,
        task_name=headers.get("X-CloudTasks-TaskName", ""),
        queue=headers.get("X-CloudTasks-QueueName", ""),
    )


def handle_task(worker: ChatWorker, request: tasks_fn.CallableRequest[Any], *, max_attempts: int) -> None:
    """Parse the command and hand it to ``worker``; raising asks Cloud Tasks for a retry."""
    try:
        command = ChatCommand.model_validate(request.data)
    except ValidationError as error:
        logger.error("malformed task payload dropped: %s", error)
        return
    worker.handle(command, delivery=delivery_of(request, max_attempts=max_attempts))
