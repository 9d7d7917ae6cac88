"""Crash the worker at a step boundary, on demand: hooks for fault-injection tests.

``KillAt`` raises ``WorkerKilled`` (a ``BaseException``: no handler of the worker
catches it) in the test's own process, once: what a killed instance leaves
behind, for in-memory tests. ``CrashOnMarker`` kills the functions process itself.

A test arms a crash by creating the file ``{directory}/{userId}.{point}``;
the next time the worker reaches ``point`` for a chat of that user, the file
is removed and the process dies at once (``os._exit``), as a killed instance
would: no exception handler, no cleanup. The task is then redelivered.
Points: ``after_model`` (the model replied, nothing written yet),
``after_tool`` (a tool ran, its result not persisted), ``mid_stream`` (a
partial message was written), ``after_finish`` (the run's last transaction
committed, the follow-up not enqueued yet).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..models import ChatState
from ..runtime.hooks import HookPoint, RunHooks

logger = logging.getLogger(__name__)

POINTS = tuple(point.value for point in HookPoint)
CRASH_EXIT_CODE = 70


class _AtPoints(RunHooks):
    """Calls ``reached(point, chat)`` at every step boundary."""

    def reached(self, point: str, chat: ChatState) -> None:
        raise NotImplementedError

    def after_model(self, chat: ChatState) -> None:
        self.reached("after_model", chat)

    def after_tool(self, chat: ChatState) -> None:
        self.reached("after_tool", chat)

    def mid_stream(self, chat: ChatState) -> None:
        self.reached("mid_stream", chat)

    def after_finish(self, chat: ChatState) -> None:
        self.reached("after_finish", chat)


class WorkerKilled(BaseException):
    """The worker died here (no ``except Exception`` of the worker catches it)."""


class KillAt(_AtPoints):
    """Kills the delivery the first time it reaches ``point``."""

    def __init__(self, point: str) -> None:
        if point not in POINTS:
            raise ValueError(f"unknown fault point {point!r}; use one of {POINTS}")
        self.point = point
        self.armed = True

    def reached(self, point: str, chat: ChatState) -> None:
        if self.armed and point == self.point:
            self.armed = False
            raise WorkerKilled(point)


class CrashOnMarker(_AtPoints):
    """Kills the process where a marker file says so."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def arm(self, user_id: str, point: str) -> Path:
        """Make the next chat step ``point`` of ``user_id`` crash the worker."""
        if point not in POINTS:
            raise ValueError(f"unknown fault point {point!r}; use one of {POINTS}")
        self.directory.mkdir(parents=True, exist_ok=True)
        marker = self.directory / f"{user_id}.{point}"
        marker.touch()
        return marker

    def reached(self, point: str, chat: ChatState) -> None:
        marker = self.directory / f"{chat.user_id}.{point}"
        try:
            marker.unlink()
        except FileNotFoundError:
            return
        logger.warning("fault injection: crashing the worker at %s", point)
        logging.shutdown()
        os._exit(CRASH_EXIT_CODE)
