"""The documents of the in-memory store as it keeps them (each with a version from one counter and a
clock that only moves forward), and what tests may look at without counting a read."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..models import ChatMessage, ChatState


@dataclass
class StoredDocument:
    data: dict[str, Any]
    version: int


def root_key(path: str) -> str:
    """The key of a document addressed from the root (``chatUsage/u1``), apart from chat keys."""
    return f"/{path}"


def deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {key: deep_copy(value) if isinstance(value, dict) else value for key, value in data.items()}


class MemoryDocuments:
    """The documents by key (a chat id, ``{chatId}/{path}``, ``/{path}`` from the root), under one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._documents: dict[str, StoredDocument] = {}
        self._versions = itertools.count(1)
        self._epoch = datetime(2026, 1, 1, tzinfo=UTC)

    def _now(self) -> datetime:
        return self._epoch + timedelta(microseconds=next(self._versions))

    @staticmethod
    def _copy(document: StoredDocument | None) -> dict[str, Any] | None:
        return deep_copy(document.data) if document else None

    def outside_now(self, path: str) -> dict[str, Any] | None:
        """An outside document as it is (not counted: for assertions)."""
        with self._lock:
            return self._copy(self._documents.get(root_key(path)))

    def all_messages(self, chat_id: str) -> list[ChatMessage]:
        """Every message of the chat, as a client lists them (``createdAt``, then ``inBatchSortIndex``)."""
        prefix = f"{chat_id}/messages/"
        with self._lock:
            found = [ChatMessage.model_validate(d.data) for k, d in self._documents.items() if k.startswith(prefix)]
        return sorted(found, key=lambda message: (message.created_at, message.in_batch_sort_index))

    def documents_now(self, chat_id: str) -> dict[str, dict[str, Any]]:
        """Every document of a chat as stored, by path (``{chatId}``, ``{chatId}/messages/{id}``, …;
        not counted: for assertions)."""
        with self._lock:
            return {
                key: dict(document.data)
                for key, document in self._documents.items()
                if key == chat_id or key.startswith(f"{chat_id}/")
            }

    def record_now(self, chat_id: str, path: str) -> dict[str, Any] | None:
        """A record as it is (not counted: for assertions)."""
        with self._lock:
            return self._copy(self._documents.get(f"{chat_id}/{path}"))

    def chat_now(self, chat_id: str) -> ChatState | None:
        """The chat as it is (not counted: for assertions)."""
        with self._lock:
            document = self._documents.get(chat_id)
            return ChatState.model_validate(document.data) if document else None
