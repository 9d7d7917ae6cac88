"""The Cloud Tasks adapter of the ``TaskQueue`` port, through ``firebase_admin.functions``.

Tasks are named after the dispatch (``{chatId}-{dispatchId}``) so enqueuing
the same command twice is refused by Cloud Tasks (HTTP 409), which counts as
success. Against the Cloud Tasks emulator, the Admin SDK (7.7) fails to parse
the name of a named task *after* the task was created (``ValueError: Invalid
resource name format.``): that error is taken as success there.

Delayed tasks (the watchdog's, ``TaskQueue.enqueue(delay=...)``) carry Cloud Tasks' ``scheduleTime``.
The Cloud Tasks emulator (firebase-tools 15.34.2, ``lib/emulator/taskQueue.js``) ignores it and
dispatches such a task at once, which would turn each watchdog into a busy loop (it re-arms itself
while the run progresses): against the emulator a delayed task is not enqueued (logged); the tests
drive the watchdog in process (``docs/EMULATORS.md``).

The payload is wrapped as ``{"data": ...}``: the Python Admin SDK sends the
value given to ``enqueue`` as the raw body, while ``on_task_dispatched`` handlers read the body's ``data`` field.
"""

from __future__ import annotations

import json
import logging
import math
import os
from datetime import timedelta
from typing import Any

import firebase_admin
from firebase_admin import exceptions, functions

from ..commands import ChatCommand

logger = logging.getLogger(__name__)


def enqueue_task(
    function_name: str,
    payload: dict[str, Any],
    *,
    task_id: str,
    app: firebase_admin.App | None = None,
    delay: timedelta | None = None,
) -> None:
    """Enqueue ``payload`` for the task-queue function ``function_name`` as task ``task_id``.

    With ``delay`` the task is scheduled that much later (Cloud Tasks' ``scheduleTime``; whole seconds,
    rounded up). A task of that id already queued (a redelivered caller) is left as is. A payload that is not
    plain JSON (``Infinity``, ``NaN``, a non-JSON type) raises ``ValueError`` before anything is sent.
    """
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the payload of a {function_name} task is not plain JSON: {error}") from None
    queue = functions.task_queue(function_name, app=app)
    try:
        seconds = math.ceil(delay.total_seconds()) if delay is not None and delay > timedelta(0) else None
        queue.enqueue({"data": payload}, functions.TaskOptions(task_id=task_id, schedule_delay_seconds=seconds))
    except (exceptions.AlreadyExistsError, exceptions.ConflictError):
        pass
    except ValueError as error:
        if not (os.environ.get("CLOUD_TASKS_EMULATOR_HOST") and "resource name" in str(error)):
            raise


class CloudTasksQueue:
    """Enqueues commands for the task-queue function ``function_name``."""

    def __init__(self, function_name: str, *, app: firebase_admin.App | None = None) -> None:
        self._function_name = function_name
        self._app = app

    def enqueue(self, command: ChatCommand, *, delay: timedelta | None = None) -> None:
        """Enqueue ``command`` (``delay`` later when given); a task of the same command already queued
        is left as is."""
        if delay is not None and delay > timedelta(0) and os.environ.get("CLOUD_TASKS_EMULATOR_HOST"):
            logger.info("the Cloud Tasks emulator ignores scheduleTime: delayed task %s not enqueued", command.task_id)
            return
        payload = command.to_document()
        enqueue_task(self._function_name, payload, task_id=command.task_id, app=self._app, delay=delay)
