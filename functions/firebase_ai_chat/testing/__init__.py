"""Helpers for testing apps built on firebase-ai-chat: an in-memory store and task queue (fast unit
tests of an app's tools and assistants, no server), and a client of the local emulators that behaves
like an app (``EmulatorClient``, which needs the ``testing`` extra's ``requests``).

Everything here imports without ``requests``; making an ``EmulatorClient`` without it raises ``ImportError``."""

from .client import CallableError, EmulatorClient, User
from .memory_queue import InMemoryTaskQueue
from .memory_store import InMemoryChatStore

__all__ = ["CallableError", "EmulatorClient", "InMemoryChatStore", "InMemoryTaskQueue", "User"]
