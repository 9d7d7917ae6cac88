"""Benchmark: the write rate of a streamed answer, per document, against today's (0.5 s) interval.

A model streams one answer for ``seconds`` (a delta every 20 ms) while the front API and the worker
run in this process. Every write is recorded with its time and document: the partial rewrites of
the AI message (``StreamWriter``), and each commit (which writes the chat document and the messages
it holds). Printed per interval: partial writes per second of the message document (mean over the
stream, and the most in any one-second window), the delay from the model's first delta to the
first partial write, and the chat document's writes per turn (the post's commit, the worker's).

Firestore sustains about one write per second per document: the message document must stay at or
under 1 per second (the final commit of the message may follow its last partial write sooner: one
write more, once per message), and the first partial must show up as early as with 0.5 s.

Run: ``functions/venv/bin/python bench/streaming_rate.py [seconds]`` (in memory), or on the
Firestore emulator: ``./emulator/exec -- python bench/streaming_rate.py [seconds] --firestore``.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from firebase_ai_chat import AssistantChat, AssistantConfig, ChatWorker
from firebase_ai_chat.engines.base import Engine, EngineReply, EngineRequest, TextSink
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.models import ChatMessage
from firebase_ai_chat.runtime.streaming import STREAM_INTERVAL
from firebase_ai_chat.store.documents import ChatWrite, Loaded, Version
from firebase_ai_chat.store.optimistic import OptimisticStore
from firebase_ai_chat.store.port import ChatStore
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue
from firebase_ai_chat.tools import Toolset

TODAY = 0.5
"""The interval before issue 19 (item 4)."""
DELTA = 0.02


class Empty(BaseModel):
    """The chat's data: none."""


@dataclass
class Recorder:
    """Writes by document, with their times (``time.monotonic``)."""

    writes: list[tuple[float, str, str]] = field(default_factory=list)
    """(time, document, kind): kind is ``partial`` or ``commit``."""
    first_delta: float | None = None


class RecordedStore:
    """A store whose partial writes and commits are recorded (everything else passes through)."""

    def __init__(self, store: Any, recorder: Recorder) -> None:
        self._store = store
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        return OptimisticStore.update(self, *args, **kwargs)  # its load and commit are ours

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        loaded: Loaded = self._store.commit(base, write)
        now = time.monotonic()
        self._recorder.writes.append((now, "chat", "commit"))
        self._recorder.writes.extend((now, f"messages/{m}", "commit") for m in write.messages)
        return loaded

    def stream_message(
        self, chat_id: str, message_id: str, message: ChatMessage, *, previous: Version | None
    ) -> Version | None:
        version: Version | None = self._store.stream_message(chat_id, message_id, message, previous=previous)
        self._recorder.writes.append((time.monotonic(), f"messages/{message_id}", "partial"))
        return version


class Steady:
    """An engine that streams its answer in deltas ``DELTA`` apart for ``seconds``."""

    name = "steady"

    def __init__(self, seconds: float, recorder: Recorder) -> None:
        self._steps = max(1, int(seconds / DELTA))
        self._recorder = recorder

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        text = "".join(f"word{step} " for step in range(self._steps)).strip()
        if on_text is not None:
            for step in range(1, self._steps + 1):
                if self._recorder.first_delta is None:
                    self._recorder.first_delta = time.monotonic()
                on_text(0, text[: len(text) * step // self._steps])
                time.sleep(DELTA)
        return EngineReply(texts=[text])


def _store(firestore: bool) -> ChatStore:
    if not firestore:
        return InMemoryChatStore()
    from firebase_ai_chat.firebase.admin import firestore_client
    from firebase_ai_chat.store.firestore import FirestoreChatStore

    return FirestoreChatStore(firestore_client(), collection="benchStreams")


def measure(interval: float, seconds: float, *, firestore: bool) -> dict[str, float]:
    """One streamed turn (a post answered by a streamed reply) at ``interval``."""
    recorder = Recorder()
    store = RecordedStore(_store(firestore), recorder)
    queue = InMemoryTaskQueue()
    chat = AssistantChat(store=store, queue=queue)
    engines: dict[str, Engine] = {"steady": Steady(seconds, recorder), "offline": OfflineEngine([])}
    tools = {"none": Toolset(Empty)}
    worker = ChatWorker(store=store, queue=queue, engines=engines, dispatchers=tools, stream_interval=interval)
    assistant = AssistantConfig(engine="steady", assistant_id="a", dispatcher_id="none")
    started = chat.create(user_id="bench", assistant=assistant, data={}, messages=["hi"])
    chat_id = started.chat_document.removeprefix("chats/")
    queue.drain(worker)
    recorder.writes.clear()
    recorder.first_delta = None
    chat.post_message(user_id="bench", chat_id=chat_id, messages=["again"])
    queue.drain(worker)
    return _summary(recorder)


def _summary(recorder: Recorder) -> dict[str, float]:
    partials = [(at, doc) for at, doc, kind in recorder.writes if kind == "partial"]
    by_doc = Counter(doc for _, doc in partials)
    doc, count = by_doc.most_common(1)[0]
    times = [at for at, written in partials if written == doc]
    span = max(times[-1] - times[0], 1e-9)
    every = sorted(at for at, written, _ in recorder.writes if written == doc)
    assert recorder.first_delta is not None
    return {
        "partial writes": count,
        "partial writes/s (mean)": (count - 1) / span if count > 1 else 0.0,
        "most partial writes in 1 s": _most_in_a_second(times),
        "most writes in 1 s (with the final)": _most_in_a_second(every),
        "first partial after the first delta (ms)": (times[0] - recorder.first_delta) * 1000,
        "chat document writes per turn": sum(1 for _, written, _ in recorder.writes if written == "chat"),
    }


def _most_in_a_second(times: list[float]) -> int:
    """The most writes in any window of one second ending at a write (start exclusive)."""
    return max(sum(1 for other in times if end - 1.0 < other <= end) for end in times)


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(arguments[0]) if arguments else 5.0
    firestore = "--firestore" in sys.argv
    results = {
        f"today ({TODAY} s)": measure(TODAY, seconds, firestore=firestore),
        f"now ({STREAM_INTERVAL} s)": measure(STREAM_INTERVAL, seconds, firestore=firestore),
    }
    store = "Firestore emulator" if firestore else "in-memory store"
    every = f"a delta every {DELTA * 1000:g} ms"
    print(f"## Streaming write rate: one answer streamed for {seconds:g} s, {every} ({store})")
    print()
    print("| per message document | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for key in next(iter(results.values())):
        print(f"| {key} | " + " | ".join(_cell(found[key]) for found in results.values()) + " |")


def _cell(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:g}"


if __name__ == "__main__":
    main()
