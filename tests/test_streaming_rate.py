"""A streamed message is written at most once per second per message document, its first partial at once.

``StreamWriter`` on the in-memory store with a clock the test moves: every write is counted.
"""

from __future__ import annotations

import itertools

from firebase_ai_chat.runtime.streaming import STREAM_INTERVAL, StreamWriter
from firebase_ai_chat.testing import InMemoryChatStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _writer(store: InMemoryChatStore, clock: Clock) -> StreamWriter:
    return StreamWriter(
        store=store,
        chat_id="chat",
        user_id="u",
        dispatch_id="d",
        first_index=0,
        message_id=lambda position: f"d-ai-{position}",
        meta=None,
        clock=clock,
    )


def test_the_interval_is_firestores_sustained_rate_per_document() -> None:
    assert STREAM_INTERVAL >= 1.0


def test_the_first_partial_is_written_at_the_first_delta_memory() -> None:
    store, clock = InMemoryChatStore(), Clock()
    writer = _writer(store, clock)
    writer(0, "H")
    assert writer.writes == 1
    assert store.documents_now("chat")["chat/messages/d-ai-0"]["text"] == "H"


def test_later_partials_of_one_message_are_written_at_most_once_per_interval_memory() -> None:
    store, clock = InMemoryChatStore(), Clock()
    writer = _writer(store, clock)
    written_at: list[float] = []
    last_written = ""
    for step in range(1, 501):  # 10 s of deltas, 20 ms apart
        before = writer.writes
        writer(0, "x" * step)
        if writer.writes > before:
            written_at.append(clock.now)
            last_written = "x" * step
        clock.now += 0.02
    gaps = [later - earlier for earlier, later in itertools.pairwise(written_at)]
    assert written_at[0] == 100.0 and gaps and min(gaps) >= STREAM_INTERVAL - 1e-9
    assert len(written_at) <= 11  # at most one write per second (plus the first, at once)
    assert store.documents_now("chat")["chat/messages/d-ai-0"]["text"] == last_written


def test_each_message_document_has_its_own_interval_memory() -> None:
    store, clock = InMemoryChatStore(), Clock()
    writer = _writer(store, clock)
    writer(0, "first")
    writer(1, "second")  # another document: written at once too
    clock.now += 0.5
    writer(0, "first, more")
    writer(1, "second, more")
    assert writer.writes == 2
