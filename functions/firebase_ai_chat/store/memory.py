"""An in-memory ``ChatStore``: the Firestore adapter's semantics without a server, for fast tests.

It keeps what the Firestore adapter keeps (the chat, its messages and
records), versions every document as Firestore's update times do, refuses a
commit whose chat changed since it was loaded (``Conflict``), stamps
``createdAt``/``updatedAt`` from a clock that only moves forward, and
counts what a turn costs (``stats``: reads, writes, commits) the way the
benchmark counts Firestore's. Thread-safe, so tests can race deliveries.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..models import Author, ChatMessage, ChatState, RunClaim
from .documents import ChatWrite, Loaded, Outside, StoreStats, Version, chat_document, message_document
from .memory_documents import MemoryDocuments, StoredDocument, deep_copy, root_key
from .optimistic import OptimisticStore
from .port import Conflict
from .retention import expiry


class InMemoryChatStore(MemoryDocuments, OptimisticStore):
    """``ChatStore`` in a dict; ``stats`` counts document reads, writes and commits."""

    def __init__(self, *, collection: str = "chats", retention: timedelta | None = None) -> None:
        self.collection = collection
        self.retention = retention
        """With a retention, every document written carries ``expiresAt`` (its clock's time + retention)."""
        super().__init__()
        self._ids = itertools.count(1)
        self.stats = StoreStats()
        self._watchers: dict[str, list[Callable[[ChatState | None], None]]] = {}

    def new_id(self) -> str:
        """A fresh id (``chat000001``, …)."""
        return f"id{next(self._ids):06d}"

    def _get(self, key: str) -> StoredDocument | None:
        self.stats.reads += 1
        return self._documents.get(key)

    def load(self, chat_id: str, paths: Sequence[str] = (), *, outside: Sequence[str] = ()) -> Loaded:
        """The chat, the records at ``paths`` and the ``outside`` documents, as one consistent read."""
        with self._lock:
            self.stats.rpcs += 1
            chat = self._get(chat_id)
            records = {path: self._copy(self._get(f"{chat_id}/{path}")) for path in paths}
            documents = {path: self._outside(self._get(root_key(path))) for path in outside}
        state = ChatState.model_validate(chat.data) if chat else None
        return Loaded(
            chat_id=chat_id,
            state=state,
            version=chat.version if chat else None,
            records=records,
            fetch=lambda path: self.read_record(chat_id, path),
            documents=documents,
        )

    def _outside(self, document: StoredDocument | None) -> Outside:
        return Outside(self._copy(document), document.version if document else None)

    def read_outside(self, path: str) -> Outside:
        """One document outside any chat, read on its own."""
        with self._lock:
            self.stats.rpcs += 1
            return self._outside(self._get(root_key(path)))

    def claim(self, chat_id: str, claim: RunClaim) -> None:
        """Set ``runClaim`` on the chat as it is (no precondition); nothing if it is gone."""
        with self._lock:
            self.stats.rpcs += 1
            self.stats.commits += 1
            current = self._documents.get(chat_id)
            if current is None:
                return
            data = {**current.data, "runClaim": claim.to_document()}
            self.stats.writes += 1
            self._documents[chat_id] = StoredDocument(data, next(self._versions))
            stored = ChatState.model_validate(data)
            watchers = list(self._watchers.get(chat_id, ()))
            self.stats.listened += len(watchers)
        for on_change in watchers:
            on_change(stored)

    def read_record(self, chat_id: str, path: str) -> dict[str, Any] | None:
        """One record, read on its own."""
        with self._lock:
            self.stats.rpcs += 1
            return self._copy(self._get(f"{chat_id}/{path}"))

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        """Apply ``write`` if the chat is still at ``base.version``; the chat document is always written."""
        with self._lock:
            self.stats.rpcs += 1
            self.stats.commits += 1
            current = self._documents.get(base.chat_id)
            if (current.version if current else None) != base.version:
                raise Conflict(base.chat_id)
            self._check_outside(base, write)
            now = self._now()
            state = write.state or base.state
            version = None
            if state is not None:
                created = current.data["createdAt"] if current else None
                version = self._put(base.chat_id, chat_document(state, now=now, created=created), now)
            for message_id, message in write.messages.items():
                self._put(f"{base.chat_id}/messages/{message_id}", message_document(message, now=now), now)
            for path, record in write.records.items():
                key = f"{base.chat_id}/{path}"
                if record is None:
                    self.stats.writes += 1
                    self._documents.pop(key, None)
                else:
                    self._put(key, dict(record), now)
            written = {
                path: Outside(deep_copy(data), self._put(root_key(path), deep_copy(data), None))
                for path, data in write.outside.items()
            }
            for path, amounts in write.increments.items():
                self._increment(root_key(path), amounts)
            stored = ChatState.model_validate(self._documents[base.chat_id].data) if state else None
            watchers = list(self._watchers.get(base.chat_id, ()))
            self.stats.listened += len(watchers)
        for on_change in watchers:  # as Firestore's listeners: after the commit, one billed read each
            on_change(stored)
        return base.advanced(state=stored, version=version, records=write.records, documents=written)

    def _check_outside(self, base: Loaded, write: ChatWrite) -> None:
        """``Conflict`` unless every outside document written is still at the version loaded."""
        for path in write.outside:
            current = self._documents.get(root_key(path))
            loaded = base.documents[path].version if path in base.documents else None
            if (current.version if current else None) != loaded:
                raise Conflict(path)

    def _increment(self, key: str, amounts: Mapping[str, float]) -> None:
        """Add to dotted numeric fields, creating the document and maps as Firestore's merge does."""
        document = self._documents.get(key)
        data = deep_copy(document.data) if document else {}
        for dotted, amount in amounts.items():
            *parents, leaf = dotted.split(".")
            level = data
            for part in parents:
                level = level.setdefault(part, {})
            level[leaf] = level.get(leaf, 0) + amount
        self._put(key, data, None)

    def _put(self, key: str, data: dict[str, Any], now: datetime | None) -> int:
        """Write a document; ``now`` (``None`` for a document outside any chat, which never expires)
        stamps the chat's retention."""
        self.stats.writes += 1
        version = next(self._versions)
        self._documents[key] = StoredDocument({**data, **(expiry(self.retention, now) if now else {})}, version)
        return version

    def stream_message(
        self, chat_id: str, message_id: str, message: ChatMessage, *, previous: Version | None
    ) -> Version | None:
        """Create the partial message, or rewrite the one written at ``previous``; ``None`` if it changed."""
        key = f"{chat_id}/messages/{message_id}"
        with self._lock:
            self.stats.rpcs += 1
            self.stats.commits += 1
            current = self._documents.get(key)
            if (current.version if current else None) != previous:
                return None
            created = current.data["createdAt"] if current else self._now()
            return self._put(key, message_document(message, now=created), self._now())

    def discard_partial(self, chat_id: str, message_id: str, *, version: Version) -> None:
        """Delete the partial message unless it changed since it was written at ``version``."""
        key = f"{chat_id}/messages/{message_id}"
        with self._lock:
            self.stats.rpcs += 1
            self.stats.commits += 1
            current = self._documents.get(key)
            if current is not None and current.version == version:
                self.stats.writes += 1
                del self._documents[key]

    def watch(self, chat_id: str, on_change: Callable[[ChatState | None], None]) -> Callable[[], None]:
        """Call ``on_change`` with the chat now and after each commit (each counted in ``stats.listened``:
        Firestore bills a listener a read per version it is sent)."""
        with self._lock:
            self._watchers.setdefault(chat_id, []).append(on_change)
            self.stats.listened += 1
            document = self._documents.get(chat_id)
            state = ChatState.model_validate(document.data) if document else None
        on_change(state)

        def unsubscribe() -> None:
            with self._lock:
                listeners = self._watchers.get(chat_id, [])
                if on_change in listeners:
                    listeners.remove(on_change)

        return unsubscribe

    def messages(self, chat_id: str, *, dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
        """The messages of one dispatch and author, oldest first."""
        prefix = f"{chat_id}/messages/"
        with self._lock:
            self.stats.rpcs += 1
            found = [
                ChatMessage.model_validate(document.data)
                for key, document in self._documents.items()
                if key.startswith(prefix)
                and document.data["dispatchId"] == dispatch_id
                and document.data["author"] == author.value
            ]
            self.stats.reads += max(1, len(found))
        return sorted(found, key=lambda message: (message.created_at, message.in_batch_sort_index))

    def chats_of(self, user_id: str, *, limit: int) -> Sequence[str]:
        """Ids of up to ``limit`` chats of ``user_id``."""
        with self._lock:
            self.stats.rpcs += 1
            found = [k for k, d in self._documents.items() if "/" not in k and d.data.get("userId") == user_id]
            self.stats.reads += max(1, len(found[:limit]))
        return found[:limit]

    def delete_chat(self, chat_id: str) -> int:
        """The chat document first, then everything under it."""
        with self._lock:
            self.stats.rpcs += 1
            deleted = 1 if self._documents.pop(chat_id, None) is not None else 0
            under = [key for key in self._documents if key.startswith(f"{chat_id}/")]
            for key in under:
                del self._documents[key]
            self.stats.writes += deleted + len(under)
            watchers = list(self._watchers.get(chat_id, ())) if deleted else []
            self.stats.listened += len(watchers)
        for on_change in watchers:  # a listener hears the deletion (a live run stops at once)
            on_change(None)
        return deleted + len(under)
