"""Benchmark: what a chat turn costs on top of Firestore itself, as ratios measured in one run.

Baseline: a client writes a document and waits for its own listener to see it
(the floor of any Firestore-backed chat). Measured: a user posts "add 1" to
the calculator through the callable and waits for the AI answer in its
listener (callable + transaction + Cloud Task + worker + offline engine +
tool + answer). Also the worker's allocations: peak traced memory of one run
of ``ChatWorker.handle`` in this process, against a baseline of one plain
transaction. Run: ``./emulator/exec -- python bench/chat_latency.py [rounds]``.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from google.cloud import firestore

from firebase_ai_chat import AssistantChat, ChatCommand, ChatWorker, ChatWrite
from firebase_ai_chat.firebase_app import firestore_client
from firebase_ai_chat.firestore import FirestoreChatStore
from firebase_ai_chat.testing import EmulatorClient


class _Held:
    """A task queue that keeps commands in memory, so the in-process worker runs them (bench only)."""

    def __init__(self) -> None:
        self.commands: list[ChatCommand] = []

    def enqueue(self, command: ChatCommand) -> None:
        self.commands.append(command)


def _wait(event: threading.Event, what: str) -> None:
    if not event.wait(60):
        raise TimeoutError(what)


def baseline_write_to_listener(db: firestore.Client) -> float:
    document = db.collection("bench").document()
    seen, ready = threading.Event(), threading.Event()

    def on_snapshot(snapshots: list[Any], *_: Any) -> None:
        ready.set()
        if snapshots and snapshots[0].exists:
            seen.set()

    watch = document.on_snapshot(on_snapshot)
    _wait(ready, "baseline listener start")
    started = time.perf_counter()
    document.set({"at": started})
    _wait(seen, "baseline listener")
    elapsed = time.perf_counter() - started
    watch.unsubscribe()
    return elapsed


def chat_turn(client: EmulatorClient, db: firestore.Client, user: Any, chat: str, n: int) -> float:
    answered, ready = threading.Event(), threading.Event()
    query = db.document(chat).collection("messages").where(filter=firestore.FieldFilter("userId", "==", user.uid))
    expected = 2 * (n + 1)

    def on_snapshot(snapshots: list[Any], *_: Any) -> None:
        ready.set()
        if len(snapshots) >= expected:
            answered.set()

    watch = query.on_snapshot(on_snapshot)
    _wait(ready, "chat listener start")
    started = time.perf_counter()
    client.call("postToCalculate", {"chatDocument": chat, "message": "add 1"}, user=user)
    _wait(answered, "chat answer")
    elapsed = time.perf_counter() - started
    watch.unsubscribe()
    time.sleep(0.3)  # let the run's last transaction settle before the next post
    return elapsed


def worker_memory(db: firestore.Client, user_id: str) -> tuple[int, int]:
    from firebase_ai_chat.engines.offline import OfflineEngine
    from main import CALCULATOR, PHRASES, CalculatorData, calculator_tools, divider_tools

    store = FirestoreChatStore(db)
    queue = _Held()
    chat = AssistantChat(store=store, queue=queue)
    worker = ChatWorker(
        store=store,
        queue=queue,
        engines={CALCULATOR.engine: OfflineEngine(PHRASES)},
        dispatchers={"calculator": calculator_tools, "divider": divider_tools},
    )
    offline = CALCULATOR.model_copy(update={"engine": CALCULATOR.engine})
    result = chat.create(user_id=user_id, assistant=offline, data=CalculatorData(), messages=["add 2 and subtract 1"])
    chat_id = result.chat_document.removeprefix("chats/")

    tracemalloc.start()
    store.update(chat_id, lambda snapshot: (ChatWrite(state=snapshot.state), None))
    baseline = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    worker.handle(queue.commands.pop(0))
    measured = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return baseline, measured


def main(rounds: int = 10) -> None:
    client = EmulatorClient()
    db = firestore_client()
    user = client.sign_up()
    chat = client.call("calculate", {"message": "sum"}, user=user)["chatDocument"]
    time.sleep(1.0)
    baseline_write_to_listener(db)  # warm up the listener connection
    base = [baseline_write_to_listener(db) for _ in range(rounds)]
    turns = [chat_turn(client, db, user, chat, n) for n in range(1, rounds + 1)]
    base_memory, worker_peak = worker_memory(db, user.uid)
    print(f"rounds: {rounds}")
    print(f"baseline write→listener, median: {statistics.median(base) * 1000:.1f} ms")
    print(f"chat turn post→answer, median:    {statistics.median(turns) * 1000:.1f} ms")
    print(f"ratio chat turn / baseline:       {statistics.median(turns) / statistics.median(base):.1f}x")
    print(f"peak memory, one transaction:     {base_memory / 1024:.0f} KiB")
    print(f"peak memory, one worker run:      {worker_peak / 1024:.0f} KiB")
    print(f"ratio worker run / transaction:   {worker_peak / max(base_memory, 1):.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
