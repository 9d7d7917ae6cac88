"""The chat store port: what the core needs from a database.

A chat is one document (``ChatState``), its ``messages`` and private
*records* under it (run state, engine contexts, continuations), addressed by
a path relative to the chat such as ``runs/{dispatchId}``.

Concurrency is optimistic, without read locks: ``load`` reads the chat and
the records a change needs in one round trip and notes the chat's
``version`` (Firestore's update time); ``commit`` writes only if the chat is
still at that version, else raises ``Conflict``. **Every commit writes the
chat document**, so every change of a chat is serialized through it: records
read with the chat stay consistent until the commit, and nobody needs a
transaction. ``update`` loads, applies a change and commits, retrying a
conflict after a short random pause (concurrent writers never retry in
lockstep).

A change may also read and write documents *outside* the chat (e.g. the
user's usage, ``chatUsage/{uid}``): ``load(..., outside=[path])`` reads them
in the same round trip with their versions, and a ``ChatWrite.outside`` write
is preconditioned on the version read (or on absence), so a commit conflicts
when either the chat or that document changed. ``ChatWrite.increments`` adds
to numeric fields of an outside document blindly (Firestore's ``Increment``):
counters that only grow need no read. The Firestore adapter (``firestore/store.py``) and the in-memory
one (``testing/memory_store.py``) implement it; the core imports no database SDK.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from ..errors import ChatError, ErrorCode
from ..models import Author, ChatMessage, ChatState, RunClaim

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Version = Any
"""A document version: opaque to the core (Firestore: its update time)."""

BUSY = "The chat is busy. Please try again."
MAX_ATTEMPTS = 30
"""How often ``update`` tries a change before the chat counts as busy (``unavailable``)."""


HELD_PAUSE = 3
"""The pause (as an attempt number of ``pause``: up to 80 ms) before a held chat is read again."""


class Conflict(Exception):  # noqa: N818 - an outcome, not an error
    """The chat changed since it was loaded: the commit wrote nothing."""


class Held(Exception):  # noqa: N818 - an outcome, not an error
    """Raised by a change: a run holds the chat for its next commit (``claims.py``); ``update`` pauses
    and reads the chat again, without counting an attempt."""


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


Change = Callable[[ChatSnapshot], tuple[ChatWrite, T]]
"""A function of what it reads giving what to write and a result. It may run
several times when a commit conflicts, so it must have no other effect."""


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


class ChatStore(Protocol):
    """Optimistic access to chats, their messages and records."""

    collection: str
    """The collection of chats: clients name a chat ``{collection}/{chatId}``."""

    def new_id(self) -> str:
        """A fresh, unique document id."""
        ...

    def load(self, chat_id: str, paths: Sequence[str] = (), *, outside: Sequence[str] = ()) -> Loaded:
        """The chat, the records at ``paths`` and the ``outside`` documents, in one round trip."""
        ...

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        """Write ``write`` (and the chat, always) if the chat is still at ``base.version``.

        Raises ``Conflict`` when it is not (nothing is written); returns ``base`` advanced.
        """
        ...

    def update(self, chat_id: str, change: Change[T], *, reads: Sequence[str] = (), outside: Sequence[str] = ()) -> T:
        """Load (with the records at ``reads`` and the ``outside`` documents), apply ``change``, commit;
        retry on conflict."""
        ...

    def read_outside(self, path: str) -> Outside:
        """One document outside any chat, read on its own."""
        ...

    def claim(self, chat_id: str, claim: RunClaim) -> None:
        """Set the chat's ``runClaim`` blindly (no read, no precondition; nothing if the chat is gone).
        It changes the chat's version: the caller reads the chat again before it commits."""
        ...

    def stream_message(
        self, chat_id: str, message_id: str, message: ChatMessage, *, previous: Version | None
    ) -> Version | None:
        """Write a partial (streaming) message without reading: create it (``previous`` is ``None``) or
        rewrite it if it is still at ``previous``. ``None`` when it exists or changed (a final write won)."""
        ...

    def discard_partial(self, chat_id: str, message_id: str, *, version: Version) -> None:
        """Delete a partial message unless it changed since it was written at ``version``."""
        ...

    def watch(self, chat_id: str, on_change: Callable[[ChatState | None], None]) -> Callable[[], None]:
        """Call ``on_change`` with the chat now and at each change (``None`` once it is deleted) until the
        returned function is called. Firestore bills one read per version delivered."""
        ...

    def messages(self, chat_id: str, *, dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
        """The messages one command wrote, in order (``createdAt``, then ``inBatchSortIndex``)."""
        ...

    def chats_of(self, user_id: str, *, limit: int) -> Sequence[str]:
        """Ids of up to ``limit`` chats of ``user_id`` (``deletion.py``)."""
        ...

    def delete_chat(self, chat_id: str) -> int:
        """Delete the chat document, then every document under it; the number deleted. Deleting the
        chat first makes a live run's next commit conflict: its delivery stops (``Stale``) and
        removes its partial streamed messages."""
        ...


def pause(attempt: int) -> None:
    """A random pause that grows with the attempts (full jitter, at most 0.5 s)."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


class OptimisticStore(ABC):
    """``update`` built on ``load`` and ``commit``: the part every adapter shares."""

    max_attempts: int = MAX_ATTEMPTS

    @abstractmethod
    def load(self, chat_id: str, paths: Sequence[str] = (), *, outside: Sequence[str] = ()) -> Loaded:
        """See ``ChatStore.load``."""

    @abstractmethod
    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        """See ``ChatStore.commit``."""

    def update(self, chat_id: str, change: Change[T], *, reads: Sequence[str] = (), outside: Sequence[str] = ()) -> T:
        """See ``ChatStore.update``; after ``max_attempts`` conflicts, ``unavailable`` (transient). A
        change that raises ``Held`` is tried again after a pause that uses up no attempt."""
        attempt = 0
        while attempt < self.max_attempts:
            base = self.load(chat_id, reads, outside=outside)
            try:
                write, result = change(base)
            except Held:
                pause(HELD_PAUSE)
                continue
            if write.is_empty:
                return result
            try:
                self.commit(base, write)
            except Conflict:
                pause(attempt)
                attempt += 1
                continue
            return result
        raise ChatError(ErrorCode.UNAVAILABLE, BUSY)


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
