"""Helpers for testing apps built on firebase-ai-chat: an in-memory task queue, and a client of the
local emulators that behaves like an app."""

from .client import CallableError, EmulatorClient, User
from .memory_queue import InMemoryTaskQueue

__all__ = ["CallableError", "EmulatorClient", "InMemoryTaskQueue", "User"]
