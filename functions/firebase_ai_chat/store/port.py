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
counters that only grow need no read. The Firestore adapter (``firestore.py``) and
the in-memory one (``memory.py``) implement it, on ``optimistic.py``; what they read and write is
in ``documents.py``. The core imports no database SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from ..models import Author, ChatMessage, ChatState, RunClaim
from .documents import ChatSnapshot, ChatWrite, Loaded, Outside, Version

T = TypeVar("T")

BUSY = "The chat is busy. Please try again."


class Conflict(Exception):  # noqa: N818 - an outcome, not an error
    """The chat changed since it was loaded: the commit wrote nothing."""


class Held(Exception):  # noqa: N818 - an outcome, not an error
    """Raised by a change: a run holds the chat for its next commit (``claims.py``); ``update`` pauses
    and reads the chat again, without counting an attempt."""


Change = Callable[[ChatSnapshot], tuple[ChatWrite, T]]
"""A function of what it reads giving what to write and a result. It may run
several times when a commit conflicts, so it must have no other effect."""


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
