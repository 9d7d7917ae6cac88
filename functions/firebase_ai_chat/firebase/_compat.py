"""The local emulators' quirks, worked around (a no-op anywhere else).

**The Functions emulator's runtime, made steady.**

The emulator reuses an idle Python runtime after about 2 s, just as gunicorn's
default 2 s keep-alive closes the socket: the request fails with "socket hang
up", a callable answers HTTP 500 and a task is retried (about 1 turn in 30,
taking 3.4 s instead of 0.8 s). functions-framework builds gunicorn's
configuration itself and ignores ``GUNICORN_CMD_ARGS``, so the keep-alive is
raised through gunicorn's default before the server starts: call this at
import time of the functions' ``main.py``. Deployed functions are untouched.

With connections kept open that long, gunicorn's graceful shutdown would wait
its default 30 s for them when the emulators stop; the local runtimes get 1 s.

**The Firestore emulator's listeners.** Its first snapshot of a query can miss documents that
were committed long before when other commits land at the same moment (seen under the parallel
suite: a chat's messages listener first delivered the answer without the user's message, then
both 5 ms later). Firestore's snapshots are consistent; the emulator's are not, so under it
``chatEvents`` ends a turn only after one read of the messages (``ChatEventLog.done_needs_a_read``).
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


def listeners_may_miss_documents() -> bool:
    """Whether Firestore is the emulator, whose listeners' snapshots may miss documents (see the module)."""
    return bool(os.environ.get("FIRESTORE_EMULATOR_HOST"))
