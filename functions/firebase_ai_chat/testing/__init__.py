"""Helpers for testing apps built on firebase-ai-chat: an in-memory store and task queue (fast unit
tests of an app's tools and assistants, no server), a client of the local emulators that behaves
like an app (``EmulatorClient``, which needs the ``testing`` extra's ``requests``), crash injection
(``faults``) and a streaming engine double (``streamed``). Nothing in production imports this package.

Each name is imported from its module on first use; making an ``EmulatorClient`` without ``requests``
raises ``ImportError``."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from ..store.memory import InMemoryChatStore as InMemoryChatStore
    from .client import CallableError as CallableError
    from .client import EmulatorClient as EmulatorClient
    from .client import User as User
    from .memory_queue import InMemoryTaskQueue as InMemoryTaskQueue

_HOMES = {
    "client": ("CallableError", "EmulatorClient", "User"),
    "memory_queue": ("InMemoryTaskQueue",),
    ".store.memory": ("InMemoryChatStore",),  # its home is beside the store's other adapters
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = ["CallableError", "EmulatorClient", "InMemoryChatStore", "InMemoryTaskQueue", "User"]
