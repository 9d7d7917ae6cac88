"""What a store reads and writes: a snapshot of a chat (``Loaded``, read through ``ChatSnapshot``),
one commit's writes (``ChatWrite``), documents outside the chat, the counters of a store's
operations, and the stored form of the chat and its messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from ..models import ChatMessage, ChatState

M = TypeVar("M", bound=BaseModel)

Version = Any
"""A document version: opaque to the core (Firestore: its update time)."""


class ChatSnapshot(Protocol):
    """What a change reads: the chat and, on demand, its records."""

    @property
    def state(self) -> ChatState | None:
        """The chat, or ``None`` if there is none."""
        ...

    def record(self, path: str) -> dict[str, Any] | None:
        """The private record at ``chats/{id}/{path}``, or ``None``."""
        ...

    def outside(self, path: str) -> dict[str, Any] | None:
        """The document at ``path`` (from the database root) read with the chat, or ``None``."""
        ...


@dataclass(frozen=True)
class Outside:
    """A document outside the chat as ``load`` read it: its fields (``None``: absent) and version."""

    data: dict[str, Any] | None
    version: Version | None = None


@dataclass(frozen=True)
class Loaded:
    """The chat at one ``version`` and the records read with it (a ``ChatSnapshot``).

    A record not read up front is fetched on first use (one more read); its value is
    consistent as long as the commit succeeds, since every writer writes the chat.
    """

    chat_id: str
    state: ChatState | None
    version: Version | None
    records: Mapping[str, dict[str, Any] | None] = field(default_factory=dict)
    fetch: Callable[[str], dict[str, Any] | None] | None = field(default=None, compare=False, repr=False)
    _fetched: dict[str, dict[str, Any] | None] = field(default_factory=dict, compare=False, repr=False)
    documents: Mapping[str, Outside] = field(default_factory=dict)
    """Documents outside the chat read with it (``load(..., outside=...)``), by path from the root."""

    def outside(self, path: str) -> dict[str, Any] | None:
        """The outside document at ``path`` as loaded (``KeyError`` if it was not)."""
        return self.documents[path].data

    def record(self, path: str) -> dict[str, Any] | None:
        """The record at ``path`` (fetched now if it was not loaded)."""
        if path in self.records:
            return self.records[path]
        if path not in self._fetched:
            if self.fetch is None:
                raise KeyError(f"{path} was not loaded")
            self._fetched[path] = self.fetch(path)
        return self._fetched[path]

    def advanced(
        self,
        *,
        state: ChatState | None,
        version: Version | None,
        records: Mapping[str, dict[str, Any] | None],
        documents: Mapping[str, Outside] | None = None,
    ) -> Loaded:
        """This snapshot after a commit of ``state``, ``records`` (and outside ``documents``) that made
        the chat ``version``."""
        merged = {**self.records, **self._fetched, **records}
        outside = {**self.documents, **(documents or {})}
        return replace(self, state=state, version=version, records=merged, _fetched={}, documents=outside)


@dataclass(frozen=True)
class ChatWrite:
    """What one commit writes: the chat, messages by id, records by path (``None`` deletes).

    The store stamps ``updatedAt`` (and ``createdAt`` on a new chat) and the
    messages' ``createdAt``. Writing a message id that exists overwrites it,
    which is what makes redelivered work idempotent. With ``state`` unset the
    chat is written unchanged (only ``updatedAt`` moves): every commit writes it.
    """

    state: ChatState | None = None
    messages: Mapping[str, ChatMessage] = field(default_factory=dict)
    records: Mapping[str, dict[str, Any] | None] = field(default_factory=dict)
    outside: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    """Outside documents to replace, by path: each only if still at the version loaded (see the module)."""
    increments: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Blind additions to outside documents: path → dotted field path → amount (created if absent)."""

    @property
    def is_empty(self) -> bool:
        """Nothing to write."""
        return self.state is None and not self.messages and not self.records and not self.outside


@dataclass
class StoreStats:
    """Document reads, writes, commits and round trips, as Firestore bills and counts them; ``listened``:
    the document versions sent to listeners (billed as reads too, counted apart)."""

    reads: int = 0
    writes: int = 0
    commits: int = 0
    rpcs: int = 0
    listened: int = 0

    def copy(self) -> StoreStats:
        """A frozen copy of the counters."""
        return replace(self)

    def __sub__(self, other: StoreStats) -> StoreStats:
        return StoreStats(
            self.reads - other.reads,
            self.writes - other.writes,
            self.commits - other.commits,
            self.rpcs - other.rpcs,
            self.listened - other.listened,
        )


def read_record(snapshot: ChatSnapshot, path: str, model: type[M]) -> M | None:
    """The one typed way to read a record: the model at ``path``, or ``None`` if there is none."""
    found = snapshot.record(path)
    return model.model_validate(found) if found is not None else None


def stored_fields(document: dict[str, Any]) -> dict[str, Any]:
    """A model's document without the timestamps the store sets itself."""
    return {key: value for key, value in document.items() if key not in ("createdAt", "updatedAt")}


def chat_document(state: ChatState, *, now: datetime, created: datetime | None) -> dict[str, Any]:
    """The chat as stored at ``now`` (``created``: when it was created, ``None`` for a new one)."""
    return {**stored_fields(state.to_document()), "createdAt": created or now, "updatedAt": now}


def message_document(message: ChatMessage, *, now: datetime) -> dict[str, Any]:
    """A message as stored, created at ``now``."""
    return {**stored_fields(message.to_document()), "createdAt": now}
