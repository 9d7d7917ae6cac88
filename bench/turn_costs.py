"""Benchmark: what one chat turn costs in Firestore operations and time, against baselines in the same run.

1. **Counts** (exact, not estimated): reads, writes, commits, transactions and RPCs of a text
   turn, a tool turn and a streamed answer, counted by a wrapper around the Firestore client's RPC
   layer while the front API and the worker run in this process on the Firestore emulator. Against
   the floor of a minimal durable design (post: read chat, write message + chat; worker: read chat +
   run, write AI message + chat + run: 3 reads + 5 writes, 2 commits) and the reference library
   (@motorro/firebase-ai-chat, read from its source, for the same text turn: 3 Cloud Tasks, 9
   transactions, 15 reads, 17 writes).
2. **Time** of a turn through the real stack (callable, Cloud Tasks emulator, functions worker,
   listener), split into callable, task dispatch, worker and listener, against a Firestore write seen
   by a listener; the worker's CPU per turn and its peak traced memory against one plain commit (in
   this process); turns slower than 2 s (the emulator's keep-alive race looked like 3.4 s turns).
3. **Burst**: 20 posts fired at once at one chat: the slowest callable, every message stored once
   and answered in order.
4. **Stop**: what hearing a stop costs a turn that is not stopped (the worker's listener on the
   chat: the document versions it is sent, one read each, counted apart from the RPC layer's), and
   what a stop costs (a streamed answer stopped by its worker; a run not started, stopped by the call).
5. **Limits**: the counts of the text and tool turns again with per-user limits on (the usage
   document read with the chat and written in the post's commit; the worker reads it once and bills
   tokens in its last commit; its task carries the usage the post wrote, so it reads nothing more).

Run: ``./emulator/exec -- python bench/turn_costs.py [rounds]``.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import counting
from google.cloud import firestore
from model_engines import model_engines

from firebase_ai_chat import AssistantChat, ChatWorker
from firebase_ai_chat.engines.base import Engine
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.firebase.admin import firestore_client
from firebase_ai_chat.limits import Allowance, Limits
from firebase_ai_chat.models import Author
from firebase_ai_chat.runtime import stop_committed
from firebase_ai_chat.runtime.spending import Spending
from firebase_ai_chat.store.documents import ChatWrite
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.testing import EmulatorClient, InMemoryTaskQueue
from firebase_ai_chat.testing.streamed import Streamed
from firebase_ai_chat.usage import Gate

FLOOR = {"reads": 3, "writes": 5, "commits": 2}
REFERENCE = {"tasks": 3, "transactions": 9, "reads": 15, "writes": 17}


class Counts:
    """What went through the client's RPC layer (and, apart, the versions listeners were sent)."""

    def __init__(self) -> None:
        self.reads = self.writes = self.commits = self.transactions = self.rpcs = 0
        self.listened = 0

    def row(self) -> tuple[int, int, int, int, int]:
        return self.reads, self.writes, self.commits, self.transactions, self.rpcs

    def on_rpc(self) -> None:
        self.rpcs += 1

    def on_reads(self, documents: int) -> None:
        self.reads += documents

    def on_commit(self, writes: Sequence[Any]) -> None:
        self.commits += 1
        self.writes += len(writes)

    def on_transaction(self) -> None:
        self.transactions += 1


def counted_client() -> tuple[firestore.Client, Callable[[], Counts]]:
    """A Firestore client whose RPCs are counted into the ``Counts`` the returned function starts."""
    current = [Counts()]
    client = counting.counted_client(lambda: current[0])

    def reset() -> Counts:
        current[0] = Counts()
        return current[0]

    return client, reset


class ListenedStore(FirestoreChatStore):
    """The Firestore store whose chat listeners count each version they are sent (a billed read)."""

    def __init__(self, client: firestore.Client, counts: Callable[[], Counts]) -> None:
        super().__init__(client)
        self._counts = counts

    def watch(self, chat_id: str, on_change: Callable[[Any], None]) -> Callable[[], None]:
        def counted(state: Any) -> None:
            self._counts().listened += 1
            on_change(state)

        return super().watch(chat_id, counted)


def _app() -> Any:
    import main

    return main


BENCH_LIMITS = Limits(tier="bench", day=Allowance(posts=1_000_000, tokens=10**9))


def costs(engine_chunks: int, *, limited: bool = False, more: dict[str, Engine] | None = None) -> dict[str, Counts]:
    """Counts of a text turn, a tool turn and a streamed answer (in-process, on the emulator);
    ``limited``: with per-user limits on; ``more``: engines whose text and tool turns are counted too
    (``{engine} text``, ``{engine} tool``)."""
    app = _app()
    client, reset = counted_client()
    current = [Counts()]

    def fresh() -> Counts:
        current[0] = reset()
        return current[0]

    store, queue = ListenedStore(client, lambda: current[0]), InMemoryTaskQueue()
    limits = BENCH_LIMITS if limited else None
    gate, spending = (Gate("chatUsage"), Spending("chatUsage")) if limited else (None, None)
    chat = AssistantChat(store=store, queue=queue, gate=gate)
    offline = OfflineEngine(app.PHRASES)
    engines = {"offline": offline, "streamed": Streamed(offline, chunks=engine_chunks), **(more or {})}
    tools = {"calculator": app.calculator_tools, "divider": app.divider_tools}
    worker = ChatWorker(
        store=store, queue=queue, engines=engines, dispatchers=tools, stream_interval=0, spending=spending
    )
    found: dict[str, Counts] = {}
    turns = [("text", "offline", "hello"), ("tool", "offline", "add 1"), ("streamed", "streamed", "hi")]
    for other in more or {}:
        turns += [(f"{other} text", other, "hello"), (f"{other} tool", other, "add 1")]
    for name, engine, text in turns:
        assistant = app.CALCULATOR.model_copy(update={"engine": engine})
        data = app.CalculatorData()
        started = chat.create(user_id="bench", assistant=assistant, data=data, messages=["sum"], limits=limits)
        chat_id = started.chat_document.removeprefix("chats/")
        queue.drain(worker)
        counts = fresh()
        chat.post_message(user_id="bench", chat_id=chat_id, messages=[text], limits=limits)
        queue.drain(worker)
        found[name] = counts
        fresh()
    return found


def stop_costs() -> dict[str, Counts]:
    """Counts of stopping: a streamed answer (its worker stops it) against the same answer not
    stopped; a run whose task was not delivered yet (the call stops it from what is committed)."""
    app = _app()
    client, reset = counted_client()
    current = [Counts()]
    store, queue = ListenedStore(client, lambda: current[0]), InMemoryTaskQueue()
    plain = FirestoreChatStore(firestore_client())  # the benchmark's own looks: not counted
    slow = Streamed(OfflineEngine(app.PHRASES), chunks=200, delay=0.02)
    worker = ChatWorker(store=store, queue=queue, engines={"slow": slow}, stream_interval=0.2)
    assistant = app.CALCULATOR.model_copy(update={"engine": "slow"})
    found: dict[str, Counts] = {}
    for name in ("streamed, not stopped", "streamed, stopped by its worker", "not started, stopped by the call"):
        chat = AssistantChat(
            store=store,
            queue=queue,
            stop_wait=0.0 if name.startswith("not") else 30.0,
            committed_stop=stop_committed,
        )
        started = chat.create(user_id="bench", assistant=assistant, data=app.CalculatorData(), messages=["m" * 300])
        chat_id = started.chat_document.removeprefix("chats/")
        loaded = plain.load(chat_id).state
        assert loaded is not None
        current[0] = reset()
        if name.startswith("not"):
            chat.stop(user_id="bench", chat_id=chat_id)
        elif name.endswith("not stopped"):
            queue.drain(worker)
        else:
            runner = threading.Thread(target=queue.drain, args=(worker,))
            runner.start()
            while not any(
                m.streaming for m in plain.messages(chat_id, dispatch_id=loaded.latest_dispatch_id, author=Author.AI)
            ):
                time.sleep(0.05)
            chat.stop(user_id="bench", chat_id=chat_id)
            runner.join()
        found[name] = current[0]
        queue.pending.clear()
    return found


def _calculator_in_process(first: str) -> tuple[FirestoreChatStore, InMemoryTaskQueue, AssistantChat, ChatWorker, str]:
    """The calculator's front API and worker in this process, on the emulator, with a chat started by ``first``."""
    app = _app()
    store, queue = FirestoreChatStore(firestore_client()), InMemoryTaskQueue()
    chat = AssistantChat(store=store, queue=queue)
    tools = {"calculator": app.calculator_tools, "divider": app.divider_tools}
    worker = ChatWorker(store=store, queue=queue, engines={"offline": OfflineEngine(app.PHRASES)}, dispatchers=tools)
    assistant = app.CALCULATOR.model_copy(update={"engine": "offline"})
    started = chat.create(user_id="bench", assistant=assistant, data=app.CalculatorData(), messages=[first])
    return store, queue, chat, worker, started.chat_document.removeprefix("chats/")


def worker_cpu(rounds: int) -> float:
    """Median CPU seconds of the worker thread for one tool turn (in-process, on the emulator)."""
    _, queue, chat, worker, chat_id = _calculator_in_process("sum")
    queue.drain(worker)
    spent = []
    for _ in range(rounds):
        chat.post_message(user_id="bench", chat_id=chat_id, messages=["add 1"])
        before = time.thread_time()
        queue.drain(worker)
        spent.append(time.thread_time() - before)
    return statistics.median(spent)


def worker_memory() -> tuple[int, int]:
    """Peak traced memory of one plain commit (the baseline) and of one worker run of a tool turn."""
    store, queue, _, worker, chat_id = _calculator_in_process("add 2")
    tracemalloc.start()
    store.update(chat_id, lambda snapshot: (ChatWrite(state=snapshot.state), None))
    baseline = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    queue.drain(worker)
    measured = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return baseline, measured


def _wait(event: threading.Event, what: str, timeout: float = 60) -> None:
    if not event.wait(timeout):
        raise TimeoutError(what)


def write_to_listener(db: firestore.Client) -> float:
    """The baseline: a document write seen by a listener."""
    document = db.collection("bench").document()
    seen, ready = threading.Event(), threading.Event()

    def on_snapshot(snapshots: list[Any], *_: Any) -> None:
        ready.set()
        if snapshots and snapshots[0].exists:
            seen.set()

    watch = document.on_snapshot(on_snapshot)
    _wait(ready, "baseline listener start")
    started = time.time()
    document.set({"at": started})
    _wait(seen, "baseline listener")
    watch.unsubscribe()
    return time.time() - started


def timed_turn(client: EmulatorClient, db: firestore.Client, user: Any, chat: str, n: int) -> dict[str, float]:
    """One "add 1" through the real stack, split: callable, dispatch, worker, listener (seconds)."""
    answered, ready = threading.Event(), threading.Event()
    seen_at: list[float] = []
    messages = db.document(chat).collection("messages").where(filter=firestore.FieldFilter("userId", "==", user.uid))

    def on_snapshot(snapshots: list[Any], *_: Any) -> None:
        ready.set()
        if len(snapshots) >= 2 * (n + 1) and not seen_at:
            seen_at.append(time.time())
            answered.set()

    watch = messages.on_snapshot(on_snapshot)
    _wait(ready, "listener start")
    started = time.time()
    client.call("postToCalculate", {"chatDocument": chat, "message": "add 1"}, user=user)
    called = time.time()
    _wait(answered, "answer")
    watch.unsubscribe()
    state = db.document(chat).get().to_dict()
    run = db.document(f"{chat}/runs/{state['latestDispatchId']}").get().to_dict()
    answer = max(m.to_dict()["createdAt"].timestamp() for m in messages.stream())
    run_started = run["startedAt"]
    run_start = run_started.timestamp() if hasattr(run_started, "timestamp") else _iso(run_started)
    time.sleep(0.3)
    return {
        "callable": called - started,
        "dispatch": run_start - called,
        "worker": answer - run_start,
        "listener": seen_at[0] - answer,
        "total": seen_at[0] - started,
    }


def _iso(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def burst(client: EmulatorClient, db: firestore.Client, posts: int = 20) -> dict[str, Any]:
    """``posts`` posts fired at once at one chat: callable latencies, stored once, answered in order."""
    user = client.sign_up()
    chat = client.call("calculate", {"message": "m0"}, user=user)["chatDocument"]
    texts = [f"m{i}" for i in range(1, posts + 1)]

    def post(text: str) -> float:
        started = time.time()
        client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user)
        return time.time() - started

    started = time.time()
    with ThreadPoolExecutor(posts) as pool:
        latencies = list(pool.map(post, texts))
    deadline = time.time() + 120
    while time.time() < deadline:
        stored = [m.to_dict() for m in db.collection(f"{chat}/messages").stream()]
        stored.sort(key=lambda m: (m["createdAt"], m["inBatchSortIndex"]))
        answers = [m["text"] for m in stored if m["author"] == "ai"]
        if len(answers) >= posts + 1 and db.document(chat).get().to_dict()["status"] == "userInput":
            break
        time.sleep(0.2)
    users = [m["text"] for m in stored if m["author"] == "user"]
    return {
        "slowest": max(latencies),
        "median": statistics.median(latencies),
        "stored_once": sorted(users) == sorted(["m0", *texts]) and len(users) == posts + 1,
        "answered_in_order": answers == [f'You said "{t}".' for t in users],
        "all_answered_after": time.time() - started,
    }


def limits_report(without: dict[str, Counts]) -> None:
    """The text and tool turns with per-user limits on, against the same turns without."""
    limited = costs(engine_chunks=5, limited=True)
    print("## Per-user limits: the same turns with limits on\n")
    print("| turn | limits | reads | writes | commits | RPCs | extra reads | extra writes |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("text", "tool"):
        off, on = without[name], limited[name]
        print(f"| {name} | off | {off.reads} | {off.writes} | {off.commits} | {off.rpcs} | | |")
        print(
            f"| {name} | on | {on.reads} | {on.writes} | {on.commits} | {on.rpcs} | "
            f"{on.reads - off.reads} | {on.writes - off.writes} |"
        )
    print(
        "\n(one read and one write for the post's count, in its round trip and commit; the worker meters the run "
        "on the usage the post wrote, which its task carries, and bills with one write in its last commit)\n"
    )


def engines_report() -> None:
    """The text and tool turns through every engine's real SDK (local fake servers), against the
    offline engine's: an engine changes nothing in what a turn costs in Firestore."""
    app = _app()
    with model_engines(app.PHRASES) as engines:
        found = costs(engine_chunks=5, more=engines)
    print("## Per engine: the same turns through each engine's SDK (local fake servers, not streamed)\n")
    print("| engine | turn | reads | writes | commits | same as offline |")
    print("|---|---|---|---|---|---|")
    for engine in ["offline", *engines]:
        for turn in ("text", "tool"):
            counts = found[turn if engine == "offline" else f"{engine} {turn}"]
            same = "yes" if counts.row()[:3] == found[turn].row()[:3] else "NO"
            print(f"| {engine} | {turn} | {counts.reads} | {counts.writes} | {counts.commits} | {same} |")
    print()


def report(rounds: int) -> None:
    engines_report()
    found = costs(engine_chunks=5)
    print("## Firestore operations per turn (callable + worker; counted at the client's RPC layer)\n")
    print("| turn | reads | writes | reads+writes | commits | transactions | RPCs |")
    print("|---|---|---|---|---|---|---|")
    for name, counts in found.items():
        r, w, c, t, rpc = counts.row()
        print(f"| {name} | {r} | {w} | {r + w} | {c} | {t} | {rpc} |")
    text = found["text"]
    floor = FLOOR["reads"] + FLOOR["writes"]
    print(f"| floor (minimal durable design), text | 3 | 5 | {floor} | 2 | 0 | - |")
    print("| reference library, text | 15 | 17 | 32 | 9 | 9 | - |")
    print(
        f"\ntext turn: {(text.reads + text.writes) / floor:.2f}x the floor, "
        f"{(text.reads + text.writes) / 32:.2f}x the reference library's reads+writes"
    )
    partials = found["streamed"].writes - found["text"].writes
    print(
        f"streamed answer (5 partial writes): {partials} more writes and "
        f"{found['streamed'].reads - text.reads} more reads than the text turn\n"
    )
    print("## Stop: what hearing a stop costs a turn, and what a stop costs\n")
    print(
        "A worker listens to its chat for a stop: the versions its listener is sent are billed reads, "
        "apart from the RPC layer's:\n"
    )
    print("| turn | reads (RPC layer) | listener reads | writes | commits |")
    print("|---|---|---|---|---|")
    for name, counts in found.items():
        print(f"| {name} | {counts.reads} | {counts.listened} | {counts.writes} | {counts.commits} |")
    stops = stop_costs()
    for name, counts in stops.items():
        print(f"| stop: {name} | {counts.reads} | {counts.listened} | {counts.writes} | {counts.commits} |")
    listened = max(counts.listened for counts in found.values())
    print(
        f"\na turn that is not stopped pays {listened} listener reads at most here and nothing else for stop "
        "(bound: the listener's first snapshot plus one per commit of the turn it sees: 1 + commits)\n"
    )
    limits_report(found)

    client, db = EmulatorClient(), firestore_client()
    write_to_listener(db)
    base = statistics.median(write_to_listener(db) for _ in range(rounds))
    user = client.sign_up()
    chat = client.call("calculate", {"message": "sum"}, user=user)["chatDocument"]
    time.sleep(1.0)
    turns = [timed_turn(client, db, user, chat, n) for n in range(1, rounds + 1)]
    print(f'## Time of an "add 1" turn through the emulators ({rounds} rounds)\n')
    print("| part | median ms | slowest ms |")
    print("|---|---|---|")
    for part in ("callable", "dispatch", "worker", "listener", "total"):
        values = [t[part] * 1000 for t in turns]
        print(f"| {part} | {statistics.median(values):.0f} | {max(values):.0f} |")
    print(f"| baseline: a write seen by a listener | {base * 1000:.0f} | |")
    slow = sum(t["total"] > 2.0 for t in turns)
    print(
        f"\nturn / baseline: {statistics.median(t['total'] for t in turns) / base:.0f}x; "
        f"turns over 2 s: {slow} of {rounds}; worker CPU per tool turn: {worker_cpu(rounds) * 1000:.1f} ms\n"
    )
    commit, run = worker_memory()
    print(
        f"peak traced memory: one worker run of a tool turn {run / 1024:.0f} KiB, "
        f"one plain commit {commit / 1024:.0f} KiB ({run / max(commit, 1):.1f}x)\n"
    )
    print("## Burst: 20 posts at once at one chat\n")
    print("| burst | slowest callable | median callable | all answered after | stored once | answered in order |")
    print("|---|---|---|---|---|---|")
    for name in ("first (the emulator starts a Python runtime per concurrent call)", "second (warm runtimes)"):
        result = burst(client, db)
        print(
            f"| {name} | {result['slowest']:.2f} s | {result['median']:.2f} s | "
            f"{result['all_answered_after']:.1f} s | {result['stored_once']} | {result['answered_in_order']} |"
        )


if __name__ == "__main__":
    import logging

    logging.getLogger("firebase_ai_chat").setLevel(logging.WARNING)  # the figures, not the worker's log
    report(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
