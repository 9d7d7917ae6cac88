"""The id of a ``chatEvents`` event: a cursor that says where a client is, and what it holds.

``v2.{tag}.{chat}.{updated}.{created}.{index}.{count}.{digest}.{streaming}.{mark}.{id}``:

- ``tag``: 8 hex digits of the SHA-256 of the chat's path: a cursor of another chat is refused.
- ``chat``: the update time (microseconds) of the last chat version sent.
- ``updated.created.index`` and ``id``: the last message version sent (``MessageKey``).
- ``count``, ``digest`` and ``streaming``: what the client holds (``Held``): how many messages, the
  XOR of a 64-bit hash of each id, and how many of them it holds while still streaming. A resumed
  stream checks them against the chat to find messages deleted while the client was away.
- ``mark``: ``done`` on the event that ended a turn, ``go`` on any other.

An id of the first version (``{chat}.{updated}.{created}.{index}.{mark}.{id}``, before tags) still
parses, with no tag and nothing known of what its client holds: a stream resumed from it starts
again from scratch (``reset``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..models import ChatMessage

_ID = r"[!-~]*"  # a message id: printable ASCII (the library's ids are letters, digits, _ and -)
_N = "([0-9]+)"  # not \d: in Python it matches every script's digits, in a JSON Schema ASCII only
_V1 = rf"{_N}\.{_N}\.{_N}\.{_N}\.(go|done)\.({_ID})"
_V2 = rf"v2\.([0-9a-f]{{8}})\.{_N}\.{_N}\.{_N}\.{_N}\.{_N}\.([0-9a-f]{{16}})\.{_N}\.(go|done)\.({_ID})"
LAST_EVENT_ID_PATTERN = f"^(?:{_V2}|{_V1})$"
"""Every event id this server sends or still accepts (the OpenAPI document's ``Last-Event-ID`` pattern)."""


@dataclass(frozen=True, order=True)
class MessageKey:
    """Where a message version stands: its update time, then its place in the chat, then its id."""

    updated: int = 0  # microseconds since the epoch
    created: int = 0
    index: int = 0
    id: str = ""


def id_hash(message_id: str) -> int:
    """A message id's 64-bit hash (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big")


def digest_of(message_ids: Iterable[str]) -> int:
    """The XOR of the ids' hashes: the same for the same set, whatever the order."""
    total = 0
    for message_id in message_ids:
        total ^= id_hash(message_id)
    return total


def chat_tag(chat: str) -> str:
    """The tag of a chat's event ids: 8 hex digits of the SHA-256 of its path."""
    return hashlib.sha256(chat.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class MessageVersion:
    """A message document as a listener saw it."""

    key: MessageKey
    message: ChatMessage

    @property
    def streaming(self) -> bool:
        return self.message.streaming


@dataclass(frozen=True)
class Held:
    """What a client holds after an event: how many messages, the digest of their ids, how many of
    them are still streaming."""

    count: int = 0
    digest: int = 0
    streaming: int = 0


@dataclass(frozen=True)
class EventCursor:
    """An event id (see the module). ``held`` is ``None`` for an id of the first version."""

    chat: int = 0
    message: MessageKey = MessageKey()
    done: bool = False
    tag: str | None = None
    held: Held | None = Held()

    def __str__(self) -> str:
        m, held = self.message, self.held or Held()
        mark = "done" if self.done else "go"
        return (
            f"v2.{self.tag or chat_tag('')}.{self.chat}.{m.updated}.{m.created}.{m.index}."
            f"{held.count}.{held.digest:016x}.{held.streaming}.{mark}.{m.id}"
        )

    @classmethod
    def parse(cls, text: str) -> EventCursor:
        """The cursor of an event id; ``ValueError`` for anything this server never sent."""
        v2 = re.fullmatch(_V2, text)
        if v2 is not None:
            tag, chat, updated, created, index, count, digest, streaming, mark, message_id = v2.groups()
            held = Held(int(count), int(digest, 16), int(streaming))
            key = MessageKey(int(updated), int(created), int(index), message_id)
            return cls(chat=int(chat), message=key, done=mark == "done", tag=tag, held=held)
        v1 = re.fullmatch(_V1, text)
        if v1 is None:
            raise ValueError(f"not an event id: {text!r}")
        chat, updated, created, index, mark, message_id = v1.groups()
        key = MessageKey(int(updated), int(created), int(index), message_id)
        return cls(chat=int(chat), message=key, done=mark == "done", tag=None, held=None)

    def of_chat(self, chat: str) -> bool:
        """Whether this id can be of ``chat``'s stream (an id of the first version has no tag: any)."""
        return self.tag is None or self.tag == chat_tag(chat)

    def fresh(self) -> EventCursor:
        """The cursor of a stream that starts again from scratch (same chat)."""
        return replace(EventCursor(), tag=self.tag)
