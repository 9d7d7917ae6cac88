"""What every process that serves a ``ChatApp``'s functions needs, set up once."""

from __future__ import annotations

import functools
from typing import Any

import firebase_admin.auth

from ._compat import steady_local_runtime
from .admin import firebase_app
from .logs import structured_logging


@functools.cache
def prepare_process() -> None:
    """Done when the app declares its first function: structured logs through
    ``firebase_functions.logger``, steady keep-alive on the Functions emulator, and the default
    Firebase app (callables verify ID tokens with it before any handler runs)."""
    structured_logging()
    steady_local_runtime()
    firebase_app()


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a Firebase ID token (``ValueError`` and friends when it is not valid)."""
    return dict(firebase_admin.auth.verify_id_token(token, app=firebase_app()))
