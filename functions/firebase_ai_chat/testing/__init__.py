"""Helpers for testing apps built on firebase-ai-chat against the local emulators."""

from .client import CallableError, EmulatorClient, User

__all__ = ["CallableError", "EmulatorClient", "User"]
