"""The chat store port: what the core needs from a database.

The Firestore adapter (``firestore/store.py``) implements it; the core never
imports a database SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from .models import Author, ChatMessage, ChatState

T = TypeVar("T")


@dataclass(frozen=True)
class ChatWrite:
    """What one transaction writes: the new chat state and messages by id.

    The store stamps ``updatedAt`` (and ``createdAt`` on a new chat) and the
    messages' ``createdAt`` with server timestamps. Writing a message id that
    exists overwrites it, which is what makes redelivered work idempotent.
    """

    state: ChatState | None = None
    messages: Mapping[str, ChatMessage] = field(default_factory=dict)


Change = Callable[[ChatState | None], tuple[ChatWrite, T]]
"""A pure function of the current chat (``None`` if absent) giving what to write and a result.
It may run several times when the transaction retries."""


class ChatStore(Protocol):
    """Transactional access to chats and their messages."""

    def new_id(self) -> str:
        """A fresh, unique document id."""
        ...

    def get(self, chat_id: str) -> ChatState | None:
        """The chat, or ``None`` if there is none."""
        ...

    def update(self, chat_id: str, change: Change[T]) -> T:
        """Run ``change`` in a transaction on ``chats/{chat_id}`` and commit what it returns."""
        ...

    def messages(self, chat_id: str, *, dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
        """The messages one command wrote, in order (``createdAt``, then ``inBatchSortIndex``)."""
        ...
