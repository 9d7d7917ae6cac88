"""Firestore adapter."""

from .store import FirestoreChatStore

__all__ = ["FirestoreChatStore"]
