"""How many ``chatEvents`` streams one user may have open at once: slots that free themselves.

Each open stream holds a slot in its user's document ``{streams}/{uid}`` (``chatStreams`` for
chats in ``chats``): ``slots`` maps a slot id to the time it frees itself. A stream takes a slot
before it reads anything and gives it back when it ends, whatever ends it (``done``, ``deleted``,
its time limit, the client leaving, an error). Over the limit it is refused with
``resource-exhausted`` (HTTP 429) and reads nothing else.

A slot frees itself ``lifetime`` after it was taken: the function's own time limit, so it outlives
any stream that may hold it, and a slot whose instance crashed before giving it back is free again
then. Taking a slot drops the expired ones. The count is exact across instances: the Firestore
adapter (``firestore/stream_lease.py``) writes the document back preconditioned on the version it
read. This module is the pure part.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import Field

from ..models import Model

DEFAULT_STREAMS_PER_USER = 5
"""The default limit: a browser opens at most 6 connections to one host over HTTP/1.1, so 5 streams
(5 tabs following a chat) leave one for the callables; more than that from one person is a bug or
abuse, and each stream holds a thread of a function instance for up to its time limit."""


def streams_collection(chats: str) -> str:
    """The stream-slot collection of a chat collection: ``chats`` → ``chatStreams``."""
    return f"{chats.removesuffix('s')}Streams"


def too_many(limit: int) -> str:
    """The refusal a client reads."""
    streams = "stream" if limit == 1 else "streams"
    return (
        f"You already follow {limit} chat {streams} at once, the most one user may. "
        "Close one (or wait for one to end), then try again."
    )


class StreamSlots(Model):
    """``{streams}/{uid}``: the user's open streams, each with the time its slot frees itself."""

    user_id: str
    slots: dict[str, datetime] = Field(default_factory=dict)

    def live(self, now: datetime) -> dict[str, datetime]:
        """The slots not expired at ``now``."""
        return {slot: until for slot, until in self.slots.items() if until > now}

    def taken(self, *, now: datetime, limit: int, lifetime: timedelta) -> tuple[StreamSlots, str] | None:
        """The document with one more slot (expired ones dropped) and its id; ``None`` at the limit."""
        live = self.live(now)
        if len(live) >= limit:
            return None
        slot = uuid.uuid4().hex
        return self.model_copy(update={"slots": {**live, slot: now + lifetime}}), slot

    def fields(self) -> dict[str, object]:
        """The document's fields (times as Firestore timestamps)."""
        return self.model_dump(by_alias=True)
