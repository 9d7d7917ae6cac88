"""The Firebase adapter, the only place that imports ``firebase_functions``, ``firebase_admin`` and
``flask``: ``ChatApp`` and the functions it declares (callables, the worker, task functions, the
HTTP endpoints), App Check, the Admin SDK app, params and logs."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .app import Assistant as Assistant
    from .app import ChatApp as ChatApp
    from .app_check import AppCheck as AppCheck
    from .callables import Caller as Caller

_HOMES = {
    "app": ("Assistant", "ChatApp"),
    "callables": ("Caller",),
    "app_check": ("AppCheck",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "AppCheck",
    "Assistant",
    "Caller",
    "ChatApp",
]
