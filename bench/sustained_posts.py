"""Benchmark: what a post and a turn cost when posts arrive back to back, against paced posts.

Clients post ``add 1`` to one chat as fast as they can while a worker answers (the front API and
the worker run in this process on the Firestore emulator, each on its own counted client, see
``turn_costs.py``). Counted: the reads, writes and commits of the posts and of the runs, the runs'
claims on the chat (``claims.py``), and how many messages a run answers. The baseline is the same
chat with paced posts (each answered before the next is sent). Every accepted post must be applied
once: the sum is checked.

Run: ``./emulator/exec -- python bench/sustained_posts.py [seconds]``.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from turn_costs import Counts, _app, counted_client

from firebase_ai_chat import AssistantChat, ChatWorker
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.models import RunClaim
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.testing import InMemoryTaskQueue


class ClaimCountingStore(FirestoreChatStore):
    """The Firestore store, counting the claims its runs make."""

    claims = 0

    def claim(self, chat_id: str, claim: RunClaim) -> None:
        type(self).claims += 1
        super().claim(chat_id, claim)


@dataclass
class Outcome:
    posts: int
    runs: int
    post: Counts
    worker: Counts
    claims: int
    applied: bool


def _deliver_until(queue: InMemoryTaskQueue, worker: ChatWorker, done: threading.Event) -> int:
    runs = 0
    while not (done.is_set() and not queue.pending):
        if queue.pending:
            queue.deliver(worker)
            runs += 1
        else:
            time.sleep(0.005)
    return runs


def sustained(clients: int, seconds: float, *, paced: bool = False) -> Outcome:
    """``clients`` clients posting for ``seconds`` (``paced``: one client waiting for each answer)."""
    app = _app()
    front_client, front_counts = counted_client()
    worker_client, worker_counts = counted_client()
    post_counts, run_counts = front_counts(), worker_counts()
    queue = InMemoryTaskQueue()
    chat = AssistantChat(store=FirestoreChatStore(front_client), queue=queue)
    ClaimCountingStore.claims = 0
    worker = ChatWorker(
        store=ClaimCountingStore(worker_client),
        queue=queue,
        engines={"offline": OfflineEngine(app.PHRASES)},
        dispatchers={"calculator": app.calculator_tools},
    )
    assistant = app.CALCULATOR.model_copy(update={"engine": "offline"})
    started = chat.create(user_id="bench", assistant=assistant, data=app.CalculatorData(), messages=["add 1"])
    chat_id = started.chat_document.removeprefix("chats/")
    accepted = [1]
    until = time.monotonic() + seconds

    done = threading.Event()
    runs = [0]

    def post() -> None:
        while time.monotonic() < until:
            chat.post_message(user_id="bench", chat_id=chat_id, messages=["add 1"])
            accepted[0] += 1  # a refusal raises: the benchmark fails
            if paced:  # the baseline: each post answered before the next
                runs[0] += queue.drain(worker)

    def work() -> None:
        runs[0] += _deliver_until(queue, worker, done)

    if paced:
        runs[0] += queue.drain(worker)
        post()
    else:
        worker_thread = threading.Thread(target=work)
        worker_thread.start()
        posters = [threading.Thread(target=post) for _ in range(clients)]
        for thread in posters:
            thread.start()
        for thread in posters:
            thread.join()
        done.set()
        worker_thread.join()
    state = FirestoreChatStore(front_client).load(chat_id).state
    assert state is not None
    return Outcome(
        posts=accepted[0],
        runs=runs[0],
        post=post_counts,
        worker=run_counts,
        claims=ClaimCountingStore.claims,
        applied=state.data.get("sum") == accepted[0] and state.next_dispatch_id is None,
    )


def report(seconds: float) -> None:
    print(f"## Sustained posting: clients posting add 1 back to back for {seconds:.0f} s, against paced posts\n")
    print(
        "| load | posts | runs | posts per run | per post: reads / writes / commits "
        "| per run: reads / writes / commits | claims | every post applied once |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, clients, paced in (("paced (baseline)", 1, True), ("1 client", 1, False), ("8 clients", 8, False)):
        found = sustained(clients, seconds, paced=paced)
        p, w, n, r = found.post, found.worker, found.posts, max(found.runs, 1)
        print(
            f"| {name} | {n} | {found.runs} | {n / r:.1f} | {p.reads / n:.2f} / {p.writes / n:.2f} / "
            f"{p.commits / n:.2f} | {w.reads / r:.1f} / {w.writes / r:.1f} / {w.commits / r:.1f} | "
            f"{found.claims} | {found.applied} |"
        )
    print(
        "\n(posts: the calls' reads include the retries of a conflicting commit; runs: a run answers every post "
        "queued while the one before ran, so under load a run's cost is shared by many posts)\n"
    )


if __name__ == "__main__":
    import logging

    logging.getLogger("firebase_ai_chat").setLevel(logging.WARNING)
    report(float(sys.argv[1]) if len(sys.argv) > 1 else 10)
