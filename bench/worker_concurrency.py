"""Benchmark: one worker process serves N runs at once in about the time of one, every guarantee intact.

A deployed worker instance answers ``Capacity.runs_per_instance`` runs at once, each request in a
thread of one process (function concurrency). Here one ``ChatWorker`` in this process handles N
runs of the calculator (a tool call, then the answer: two model calls) in N threads at once,
against a slow fake model (each call sleeps ``DELAY`` s, as a model's answer keeps a run waiting),
and the same N runs one after another, against the baseline of one run, all in the same run of
this script. Expected: N at once about 1x one run; one after another about Nx.

Then the guarantees, checked after every round: each chat answered exactly once (its user message,
one AI message, the right sum, status ``userInput``), nothing left in the queue; and a round where
every task is delivered twice at once (Cloud Tasks' at-least-once delivery, both copies in the same
instance) answers each chat once all the same.

On the in-memory store always; on the Firestore emulator too when it runs
(``./emulator/exec -- python bench/worker_concurrency.py [N]``; no Functions emulator is used:
the worker runs in this process).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from firebase_ai_chat import AssistantChat, ChatWorker
from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.engines.base import EngineReply, EngineRequest, TextSink
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.models import ChatMessage
from firebase_ai_chat.runtime.worker import Delivery
from firebase_ai_chat.store.port import ChatStore
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue

DELAY = 1.0
"""Seconds a model call takes (two per run: the tool call, then the answer)."""


class SlowModel:
    """The offline engine, answering after ``delay`` seconds (the thread waits, as on a model's reply)."""

    def __init__(self, engine: OfflineEngine, delay: float) -> None:
        self.name = "offline"
        self._engine = engine
        self._delay = delay

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        time.sleep(self._delay)
        return self._engine.run(request, on_text=on_text)


class Bench:
    """The calculator's front API and one worker on ``store``, with the slow model."""

    def __init__(self, store: ChatStore, messages: Callable[[str], list[ChatMessage]]) -> None:
        import main

        logging.getLogger("firebase_ai_chat").setLevel(logging.WARNING)  # the runs' own lines: not here
        self._main = main
        self.store, self._messages = store, messages
        self.queue = InMemoryTaskQueue()
        self.chat = AssistantChat(store=store, queue=self.queue)
        engine = SlowModel(OfflineEngine(main.PHRASES), DELAY)
        tools = {"calculator": main.calculator_tools, "divider": main.divider_tools}
        self.worker = ChatWorker(store=store, queue=self.queue, engines={"offline": engine}, dispatchers=tools)

    def start(self, runs: int) -> list[tuple[str, ChatCommand, int]]:
        """``runs`` new chats, each asking ``add k``; their tasks taken out of the queue."""
        started = []
        for k in range(1, runs + 1):
            assistant = self._main.CALCULATOR.model_copy(update={"engine": "offline"})
            data = self._main.CalculatorData()
            result = self.chat.create(user_id=f"bench-{uuid.uuid4().hex[:8]}", assistant=assistant, data=data,
                                      messages=[f"add {k}"])  # fmt: skip
            chat_id = result.chat_document.split("/", 1)[1]
            started.append((chat_id, self.queue.pending.pop(), k))
        return started

    def handle(self, commands: Sequence[ChatCommand], *, at_once: bool) -> float:
        """Seconds to handle ``commands``: in one thread each, at once, or one after another."""
        began = time.perf_counter()
        if at_once:
            with ThreadPoolExecutor(max_workers=len(commands)) as pool:
                handled = [pool.submit(self.worker.handle, c, delivery=Delivery(max_attempts=3)) for c in commands]
                for future in handled:
                    future.result()
        else:
            for command in commands:
                self.worker.handle(command, delivery=Delivery(max_attempts=3))
        return time.perf_counter() - began

    def broken(self, started: list[tuple[str, ChatCommand, int]]) -> list[str]:
        """What breaks a guarantee: a chat not answered exactly once, a task left over."""
        problems = [f"{len(self.queue.pending)} task(s) left in the queue"] if self.queue.pending else []
        for chat_id, _, k in started:
            state = self.store.load(chat_id).state
            messages = self._messages(chat_id)
            authors = [m.author for m in messages]
            if state is None or state.status != "userInput" or state.data.get("sum") != k:
                problems.append(f"{chat_id}: {state and state.status} {state and state.data}")
            if authors != ["user", "ai"]:
                problems.append(f"{chat_id}: messages {authors}")
        return problems


def measure(name: str, bench: Bench, runs: int) -> bool:
    one = bench.handle([bench.start(1)[0][1]], at_once=True)
    rounds: dict[str, float] = {}
    problems: list[str] = []
    for label, at_once, copies in (("at once", True, 1), ("one after another", False, 1), ("twice each", True, 2)):
        started = bench.start(runs)
        commands = [command for _, command, _ in started] * copies
        rounds[label] = bench.handle(commands, at_once=at_once)
        problems += [f"{label}: {p}" for p in bench.broken(started)]
    print(f"\n{name}: one worker, a model call of {DELAY:.1f} s (2 per run)")
    print(f"  {'1 run':<34} {one:6.2f} s   1.00x (baseline)")
    print(f"  {f'{runs} runs at once (threads)':<34} {rounds['at once']:6.2f} s  {rounds['at once'] / one:5.2f}x")
    twice = f"{runs} runs at once, each task twice"
    print(f"  {twice:<34} {rounds['twice each']:6.2f} s  {rounds['twice each'] / one:5.2f}x")
    serial = f"{runs} runs one after another"
    print(f"  {serial:<34} {rounds['one after another']:6.2f} s  {rounds['one after another'] / one:5.2f}x")
    print("  guarantees: " + ("each chat answered exactly once, no task left" if not problems else "BROKEN"))
    for problem in problems:
        print(f"    {problem}")
    return not problems


def _firestore() -> Bench:
    from firebase_ai_chat.firebase.admin import firestore_client
    from firebase_ai_chat.store.firestore import FirestoreChatStore

    client = firestore_client()
    collection = "bench_concurrency"

    def messages(chat_id: str) -> list[ChatMessage]:
        stored = client.collection(f"{collection}/{chat_id}/messages").stream()
        found = [ChatMessage.model_validate(m.to_dict()) for m in stored]
        return sorted(found, key=lambda m: (m.created_at, m.in_batch_sort_index))

    return Bench(FirestoreChatStore(client, collection=collection), messages)


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 8
    memory = InMemoryChatStore()
    benches: list[tuple[str, Any]] = [("in-memory store", lambda: Bench(memory, memory.all_messages))]
    if os.environ.get("FIRESTORE_EMULATOR_HOST"):
        benches.append(("Firestore emulator", _firestore))
    else:
        print("(Firestore emulator not running: in-memory store only)")
    ok = all([measure(name, make(), runs) for name, make in benches])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
