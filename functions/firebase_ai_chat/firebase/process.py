"""What every process that serves a ``ChatApp``'s functions needs, set up once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

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


HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def declared(name: str, handler: HandlerT) -> HandlerT:
    """The one way a function of a ``ChatApp`` is declared: the process prepared (``prepare_process``)
    and the handler named ``name`` (what the Functions emulator, the logs and the discovery show)."""
    prepare_process()
    handler.__name__ = handler.__qualname__ = name
    return handler


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a Firebase ID token (``ValueError`` and friends when it is not valid)."""
    return dict(firebase_admin.auth.verify_id_token(token, app=firebase_app()))
