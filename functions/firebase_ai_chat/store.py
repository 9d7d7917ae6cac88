"""The chat store port: what the core needs from a database.

A chat is one document (``ChatState``), its ``messages`` and private
*records* under it (run state, engine contexts, continuations), addressed by
a path relative to the chat such as ``runs/{dispatchId}``. Every change runs
in a transaction over all of them. The Firestore adapter
(``firestore/store.py``) implements it; the core never imports a database SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from .models import Author, ChatMessage, ChatState

T = TypeVar("T")


class ChatSnapshot(Protocol):
    """What a change reads inside its transaction."""

    @property
    def state(self) -> ChatState | None:
        """The chat, or ``None`` if there is none."""
        ...

    def record(self, path: str) -> dict[str, Any] | None:
        """The private record at ``chats/{id}/{path}``, or ``None``."""
        ...


@dataclass(frozen=True)
class ChatWrite:
    """What one transaction writes: the chat, messages by id, records by path (``None`` deletes).

    The store stamps ``updatedAt`` (and ``createdAt`` on a new chat) and the
    messages' ``createdAt`` with server timestamps. Writing a message id that
    exists overwrites it, which is what makes redelivered work idempotent.
    """

    state: ChatState | None = None
    messages: Mapping[str, ChatMessage] = field(default_factory=dict)
    records: Mapping[str, dict[str, Any] | None] = field(default_factory=dict)


Change = Callable[[ChatSnapshot], tuple[ChatWrite, T]]
"""A function of what it reads giving what to write and a result. It may run
several times when the transaction retries, so it must have no other effect."""


class ChatStore(Protocol):
    """Transactional access to chats, their messages and records."""

    def new_id(self) -> str:
        """A fresh, unique document id."""
        ...

    def get(self, chat_id: str) -> ChatState | None:
        """The chat, or ``None`` if there is none."""
        ...

    def record(self, chat_id: str, path: str) -> dict[str, Any] | None:
        """A private record of the chat, read outside a transaction."""
        ...

    def update(self, chat_id: str, change: Change[T]) -> T:
        """Run ``change`` in a transaction on the chat and commit what it returns."""
        ...

    def stream_message(self, chat_id: str, message_id: str, message: ChatMessage) -> bool:
        """Write a partial (streaming) message unless a final one with that id exists; ``False`` if it does."""
        ...

    def discard_partial(self, chat_id: str, message_id: str) -> None:
        """Delete the message if it is still a partial (streaming) one."""
        ...

    def processing_since(self, updated_before: datetime, *, limit: int) -> Sequence[str]:
        """Ids of chats ``processing`` whose ``updatedAt`` is before ``updated_before``."""
        ...

    def messages(self, chat_id: str, *, dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
        """The messages one command wrote, in order (``createdAt``, then ``inBatchSortIndex``)."""
        ...
