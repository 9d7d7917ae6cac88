"""Threads enough for the worker's concurrency in the process that serves it.

A 2nd gen function with ``concurrency=N`` is sent up to N requests at once, but functions-framework
(3.10) serves them with gunicorn threads: ``THREADS``, else 4 per CPU it sees (4 on one CPU).
Requests past the threads wait in gunicorn's queue, so a worker with ``runs_per_instance=16`` would
answer 4 runs at once and hold 12 waiting. functions-framework reads ``THREADS`` when its server
starts, after it imported ``main.py``: declaring the worker raises it there, in the process that
serves a worker function only (``FUNCTION_TARGET``; a process serving no named target, e.g. the
Python shell, is left alone too).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection

logger = logging.getLogger(__name__)


def threads_now() -> int:
    """The threads functions-framework would start this process's server with."""
    value = os.environ.get("THREADS", "")
    return int(value) if value.isdigit() else (os.cpu_count() or 1) * 4


def serve_threads(threads: int, functions: Collection[str]) -> bool:
    """In the process serving one of ``functions``, at least ``threads`` server threads; ``True`` if raised."""
    if os.environ.get("FUNCTION_TARGET") not in functions or threads_now() >= threads:
        return False
    os.environ["THREADS"] = str(threads)
    logger.debug("serving %s with %d threads", os.environ.get("FUNCTION_TARGET"), threads)
    return True
