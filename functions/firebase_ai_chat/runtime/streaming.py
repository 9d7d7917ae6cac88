"""Streams partial AI messages into Firestore at a bounded rate.

Firestore sustains about one write per second per document, so deltas are
batched: a streaming message is written at once on its first delta (nothing
waits for the first partial), then at most once every ``STREAM_INTERVAL``
seconds (1 s), with ``streaming: true``; deltas in between are written with the
next one (``bench/streaming_rate.py`` measures both). The worker's
final transaction writes the whole text with ``streaming: false`` under the
same id, so the final text is exactly the non-streamed one. A partial write
costs one write and no read: the first creates the message, the next ones
rewrite it only if it is still as this writer left it (its version), so a
late partial write never overwrites a final message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..models import Author, ChatMessage
from ..store.documents import Version
from ..store.port import ChatStore

STREAM_INTERVAL = 1.0
"""Least seconds between two partial writes of one streaming message document (its first partial is
written at once): Firestore's sustained rate of one write per second per document."""
MAX_MESSAGES_PER_REPLY = 20
"""AI messages one model reply may write; texts past it are joined into the last one (a write
stays far under Firestore's 500 writes per commit whatever the model answers)."""


def bounded_texts(texts: list[str]) -> list[str]:
    """``texts`` with those past ``MAX_MESSAGES_PER_REPLY`` joined, as paragraphs, into the last message."""
    if len(texts) <= MAX_MESSAGES_PER_REPLY:
        return texts
    last = MAX_MESSAGES_PER_REPLY - 1
    return [*texts[:last], "\n\n".join(texts[last:])]


class StreamWriter:
    """The ``on_text`` sink of one model turn: text ``index`` becomes AI message ``first_index + index``."""

    def __init__(
        self,
        *,
        store: ChatStore,
        chat_id: str,
        user_id: str,
        dispatch_id: str,
        first_index: int,
        message_id: Callable[[int], str],
        meta: dict[str, Any] | None,
        interval: float = STREAM_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        after_write: Callable[[], None] | None = None,
        check: Callable[[], None] | None = None,
    ) -> None:
        """``check`` runs at every delta before anything else (it raises to abandon the model call)."""
        self._after_write = after_write
        self._check = check
        self._store = store
        self._chat_id = chat_id
        self._user_id = user_id
        self._dispatch_id = dispatch_id
        self._first_index = first_index
        self._message_id = message_id
        self._meta = meta
        self._interval = interval
        self._clock = clock
        self._last_write: dict[int, float] = {}
        self._versions: dict[str, Version] = {}
        self._closed: set[int] = set()
        self.writes = 0
        self.texts: dict[int, str] = {}
        """The text of each message so far, by its index in the reply (written or not)."""

    def __call__(self, index: int, text: str) -> None:
        """Record the text so far; write it if the message was not written in the last interval."""
        if self._check is not None:
            self._check()
        self.texts[index] = text
        now = self._clock()
        if index >= MAX_MESSAGES_PER_REPLY - 1 and index > 0:
            return  # the last message holds every remaining text: it appears whole in the final write
        if index in self._closed or now - self._last_write.get(index, -self._interval) < self._interval:
            return
        self._last_write[index] = now
        position = self._first_index + index
        message = ChatMessage(
            user_id=self._user_id,
            author=Author.AI,
            text=text,
            meta=self._meta,
            dispatch_id=self._dispatch_id,
            in_batch_sort_index=position,
            streaming=True,
        )
        self.writes += 1
        message_id = self._message_id(position)
        version = self._store.stream_message(
            self._chat_id, message_id, message, previous=self._versions.get(message_id)
        )
        if version is None:
            self._closed.add(index)
            return
        self._versions[message_id] = version
        if self._after_write is not None:
            self._after_write()

    def discard(self) -> None:
        """Remove the partial messages this turn wrote that no final write replaced (the turn was
        abandoned: its command went stale or the engine failed), so no ghost stays ``streaming``."""
        for message_id, version in sorted(self._versions.items()):
            self._store.discard_partial(self._chat_id, message_id, version=version)
        self._versions.clear()
