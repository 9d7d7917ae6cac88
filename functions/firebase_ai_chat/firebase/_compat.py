"""The local Functions emulator's runtime, made steady (a no-op anywhere else).

The emulator reuses an idle Python runtime after about 2 s, just as gunicorn's
default 2 s keep-alive closes the socket: the request fails with "socket hang
up", a callable answers HTTP 500 and a task is retried (about 1 turn in 30,
taking 3.4 s instead of 0.8 s). functions-framework builds gunicorn's
configuration itself and ignores ``GUNICORN_CMD_ARGS``, so the keep-alive is
raised through gunicorn's default before the server starts: call this at
import time of the functions' ``main.py``. Deployed functions are untouched.

With connections kept open that long, gunicorn's graceful shutdown would wait
its default 30 s for them when the emulators stop; the local runtimes get 1 s.
"""

from __future__ import annotations

import logging
import os

LOCAL_KEEP_ALIVE_SECONDS = 120
LOCAL_GRACEFUL_TIMEOUT_SECONDS = 1

logger = logging.getLogger(__name__)


def steady_local_runtime() -> bool:
    """Under the Functions emulator, keep idle connections open for 120 s; ``True`` if it did."""
    if os.environ.get("FUNCTIONS_EMULATOR") != "true":
        return False
    try:
        from gunicorn import config
    except ImportError:  # no gunicorn: functions-framework runs Flask's server, which has no such race
        return False
    config.Keepalive.default = LOCAL_KEEP_ALIVE_SECONDS
    config.GracefulTimeout.default = LOCAL_GRACEFUL_TIMEOUT_SECONDS
    return True
