"""Benchmark and capacity model: what a turn costs, the ceiling each documented limit sets, the price.

1. **Per-turn inputs** (measured on the Firestore emulator, the front API and the worker in this
   process, as ``turn_costs.py`` does): for a text turn, a tool turn, a streamed answer and a tool
   call that suspends and is resumed by another function (the example's ``multiply``, resumed through
   the ``ContinuationScheduler`` as its ``multiplier`` task does), the document reads (RPC layer and
   the worker's stop listener), writes, deletes, commits, writes of the chat document and of message
   documents, Cloud Tasks enqueued, function invocations (callables and task deliveries), the largest
   document, commit and task payload.
2. **Ceilings**: each documented limit (``LIMITS``, with its source) against those inputs, as turns
   per second and concurrent chats, for the design before issue 19 and after it (``AFTER``: read from
   the library's defaults, ``Capacity()`` and ``STREAM_INTERVAL``).
3. **Cost per 1,000 turns** at list prices (``PRICES``): Firestore, Cloud Tasks, function invocations,
   vCPU-seconds and GiB-seconds for the run time and memory stated in ``ASSUMED``.
4. **Sizing** for 10, 1,000 and 100,000 concurrent chats: what the app must configure.

The tables are markdown; ``docs/SCALE.md`` embeds them, so re-running this script refreshes its figures.

Run: ``./emulator/exec -- python bench/capacity.py [--write-doc]`` (``--write-doc`` replaces the
tables in ``docs/SCALE.md``; ``--inputs FILE``: the model only, from the per-turn inputs JSON a
previous run printed, no emulator needed).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from firebase_ai_chat.capacity import Capacity
from firebase_ai_chat.runtime.streaming import STREAM_INTERVAL

# ---------------------------------------------------------------------------------------------------
# Documented limits and list prices (USD). Each with its source; check them when you re-run.
# ---------------------------------------------------------------------------------------------------

FIRESTORE_QUOTAS = "https://cloud.google.com/firestore/quotas"
FIRESTORE_SHARDED_TIMESTAMPS = "https://firebase.google.com/docs/firestore/solutions/shard-timestamp"
FIRESTORE_BEST_PRACTICES = "https://firebase.google.com/docs/firestore/best-practices"
FIRESTORE_PRICING = "https://cloud.google.com/firestore/pricing"
TASKS_QUOTAS = "https://cloud.google.com/tasks/docs/quotas"
TASKS_RATE_LIMITS = (
    "https://cloud.google.com/python/docs/reference/cloudtasks/latest/google.cloud.tasks_v2.types.RateLimits"
)
TASKS_PRICING = "https://cloud.google.com/tasks/pricing"
TASKS_CREATE = "https://cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues.tasks/create"
FUNCTIONS_CONCURRENCY = "https://cloud.google.com/functions/docs/configuring/concurrency"
FUNCTIONS_MAX_INSTANCES = "https://cloud.google.com/functions/docs/configuring/max-instances"
FIREBASE_CONCURRENCY_OPTION = (
    "https://firebase.google.com/docs/reference/functions/2nd-gen/node/firebase-functions.alerts.firebasealertoptions"
)
RUN_PRICING = "https://cloud.google.com/run/pricing"


@dataclass(frozen=True)
class Limit:
    value: float
    what: str
    url: str


LIMITS = {
    # "Maximum write rate to a collection in which documents contain sequential values in an indexed
    # field: 500 per second" (soft limit), and the sharded-timestamps page: exempting the field lifts it.
    "sequential_index": Limit(500, "writes/s to a collection with a sequential indexed field", FIRESTORE_QUOTAS),
    # Best practices: keep a single document's sustained write rate to about 1 per second.
    "document_rate": Limit(1, "sustained writes/s to one document", FIRESTORE_BEST_PRACTICES),
    "document_size": Limit(1_048_576, "bytes per document (1 MiB)", FIRESTORE_QUOTAS),
    "request_size": Limit(10 * 1_048_576, "bytes per API request, a commit included (10 MiB)", FIRESTORE_QUOTAS),
    # The project's own bound (DESIGN.md): the 500 writes per commit Firestore long documented.
    "commit_writes": Limit(500, "writes per commit (the design's bound)", FIRESTORE_QUOTAS),
    # RateLimits.max_dispatches_per_second: "The maximum allowed value is 500."
    "queue_dispatch_rate": Limit(500, "task dispatches/s per queue", TASKS_RATE_LIMITS),
    # RateLimits.max_concurrent_dispatches: the maximum allowed value is 5,000.
    "queue_concurrency": Limit(5000, "concurrent dispatches per queue", TASKS_RATE_LIMITS),
    "queues": Limit(1000, "queues per region (quota, can be raised)", TASKS_QUOTAS),
    "tasks_api": Limit(6_000_000 / 60, "Cloud Tasks API requests/s (6,000,000 per minute, quota)", TASKS_QUOTAS),
    # tasks.create: "The maximum task size is 100KB." (the stricter of the documented figures)
    "task_size": Limit(100 * 1024, "bytes per task (100 KB)", TASKS_CREATE),
    "instance_concurrency": Limit(1000, "concurrent requests per function instance", FUNCTIONS_CONCURRENCY),
    "max_instances_default": Limit(100, "default max instances of a 2nd gen function", FUNCTIONS_MAX_INSTANCES),
    # Firebase's default concurrency of a 2nd gen function with >= 1 vCPU (callables).
    "callable_concurrency_default": Limit(
        80, "default concurrency of a Firebase 2nd gen function", FIREBASE_CONCURRENCY_OPTION
    ),
}


@dataclass(frozen=True)
class Prices:
    location: str
    read: float  # per 100,000 document reads
    write: float  # per 100,000 document writes
    delete: float  # per 100,000 document deletes
    task_operation: float = 0.40 / 1_000_000  # a billable operation: an API call or a push delivery attempt, per 32 KB
    invocation: float = 0.40 / 1_000_000  # Cloud Run (functions 2nd gen) requests, tier 1
    vcpu_second: float = 0.000024  # CPU allocated only during requests, tier 1
    gib_second: float = 0.0000025


PRICES = [
    Prices("us-central1 (regional)", read=0.03, write=0.09, delete=0.01),  # FIRESTORE_PRICING, Standard edition
    Prices("nam5 (multi-region)", read=0.06, write=0.18, delete=0.02),  # FIRESTORE_PRICING, Standard edition
]
TASK_CHUNK = 32 * 1024  # TASKS_PRICING: tasks are billed in 32 KB chunks


@dataclass(frozen=True)
class Assumed:
    """What the model assumes (not measured here)."""

    run_seconds: float = 10.0  # one worker delivery: model latency dominates (5-15 s in the issue)
    cycle_seconds: float = 30.0  # an active chat posts one turn every 30 s (the run, then reading and typing)
    stream_seconds: float = 10.0  # a streamed answer grows for 10 s
    callable_seconds: float = 0.2  # a callable or the multiplier, billed in 100 ms steps
    vcpu: float = 1.0  # Firebase's default for a 2nd gen function with <= 2 GB
    memory_gib: float = 0.25  # 256 MiB, the default memory
    free_tiers: bool = False  # the free tiers are left out (they matter below ~1,000 turns a day)


ASSUMED = Assumed()


@dataclass(frozen=True)
class Design:
    """The capacity settings of a design: before issue 19 (as built) and after (the design's targets)."""

    name: str
    queues: int  # worker queues; a chat always on one
    dispatches_per_queue: int  # the worker queue's max_concurrent_dispatches
    runs_per_instance: int  # function concurrency of the worker (threads)
    max_instances: int  # of the worker function
    stream_interval: float  # seconds between two partial writes of a streamed message
    hot_index: bool  # chats.createdAt / updatedAt indexed (and the (status, updatedAt) composite index)
    watchdog: bool  # a delayed watchdog task per run (instead of the scheduled sweeper)


BEFORE = Design("before", 1, 6, 1, LIMITS["max_instances_default"].value.__int__(), 0.5, True, False)
_LANDED = Capacity()  # the library's defaults since issue 19 (one queue; an app may declare more)
AFTER = Design(
    "after",
    _LANDED.queues,
    _LANDED.max_concurrent_dispatches or LIMITS["max_instances_default"].value.__int__(),
    _LANDED.runs_per_instance,
    _LANDED.max_instances or LIMITS["max_instances_default"].value.__int__(),
    STREAM_INTERVAL,
    False,  # firestore.indexes.json exempts chats.createdAt/updatedAt (tests/test_indexes.py)
    True,  # watchdog.py: one delayed task per run
)


@dataclass
class Turn:
    """What one turn costs, per kind (measured)."""

    name: str
    reads: int = 0  # RPC layer: gets and queries (an empty query is one read)
    listener_reads: int = 0  # versions sent to the worker's stop listener (billed reads)
    writes: int = 0
    deletes: int = 0
    commits: int = 0
    chat_writes: int = 0  # writes of the chat document itself
    message_writes: int = 0  # writes of message documents (a client's messages listener reads each)
    user_writes: int = 0  # writes of the user's usage document (with per-user limits on)
    partial_writes: int = 0  # partial writes of streamed messages (in ``writes``)
    tasks: int = 0  # Cloud Tasks enqueued (worker runs and the app's own tasks)
    worker_deliveries: int = 0  # deliveries of the worker's tasks
    other_deliveries: int = 0  # deliveries of the app's other task functions (the multiplier)
    watchdog_tasks: int = 0  # delayed watchdog tasks armed (in ``tasks``)
    watchdog_deliveries: int = 0  # their deliveries (to the worker function; no model call)
    watchdog_reads: int = 0  # what those deliveries read (in ``reads``)
    callables: int = 0
    largest_document: int = 0  # bytes of the largest document write (encoded)
    largest_commit: int = 0  # writes in the largest commit
    largest_commit_bytes: int = 0
    largest_task: int = 0  # bytes of the largest task payload (JSON)

    def on_rpc(self) -> None:
        pass

    def on_reads(self, documents: int) -> None:
        self.reads += documents

    def on_commit(self, writes: Sequence[Any]) -> None:
        self.commits += 1
        self.largest_commit = max(self.largest_commit, len(writes))
        total = 0
        for write in writes:
            operation = write.WhichOneof("operation")
            name = {"update": write.update.name, "delete": write.delete}.get(operation, write.transform.document)
            path, size = name.split("/documents/", 1)[-1], write.ByteSize()
            total += size
            self.largest_document = max(self.largest_document, size)
            self.deletes += operation == "delete"
            self.writes += operation != "delete"
            self.chat_writes += operation != "delete" and _is_chat(path)
            self.message_writes += operation != "delete" and "/messages/" in path
            self.user_writes += operation != "delete" and path.startswith("chatUsage/")
        self.largest_commit_bytes = max(self.largest_commit_bytes, total)

    def on_transaction(self) -> None:
        pass

    @property
    def listened(self) -> int:  # the name ``turn_costs.ListenedStore`` counts into
        return self.listener_reads

    @listened.setter
    def listened(self, value: int) -> None:
        self.listener_reads = value

    @property
    def client_reads(self) -> int:
        """Reads of one client following the chat (its listeners on the chat and on the messages are
        sent each version written; an upper bound: a listener may skip versions that come fast)."""
        return self.chat_writes + self.message_writes

    @property
    def invocations(self) -> int:
        return self.callables + self.deliveries

    @property
    def deliveries(self) -> int:
        return self.worker_deliveries + self.other_deliveries + self.watchdog_deliveries


# ---------------------------------------------------------------------------------------------------
# Measuring (the emulator)
# ---------------------------------------------------------------------------------------------------


def _is_chat(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 2 and parts[0] == "chats"


@dataclass
class _Bench:
    """The calculator's front API and worker in this process, on counted Firestore clients."""

    app: Any
    chat: Any
    worker: Any
    queue: Any
    scheduler: Any
    limits: Any = None
    current: list[Turn] = field(default_factory=lambda: [Turn("setup")])
    app_tasks: list[tuple[str, Any]] = field(default_factory=list)

    def turn(self) -> Turn:
        return self.current[0]


def _bench(chunks: int, *, limited: bool = False) -> _Bench:
    """``limited``: with per-user limits on (the usage document read and written by the post, billed by the run)."""
    from counting import counted_client
    from turn_costs import BENCH_LIMITS, ListenedStore, _app

    from firebase_ai_chat import AssistantChat, ChatWorker, ContinuationScheduler
    from firebase_ai_chat.engines.base import Engine
    from firebase_ai_chat.engines.offline import OfflineEngine
    from firebase_ai_chat.runtime.spending import Spending
    from firebase_ai_chat.testing import InMemoryTaskQueue
    from firebase_ai_chat.testing.streamed import Streamed
    from firebase_ai_chat.usage import Gate

    app = _app()
    holder: list[_Bench] = []
    client = counted_client(lambda: holder[0].turn())
    store = ListenedStore(client, lambda: holder[0].turn())  # type: ignore[arg-type, return-value]
    queue = InMemoryTaskQueue()
    offline = OfflineEngine(app.PHRASES)
    engines: dict[str, Engine] = {"offline": offline, "streamed": Streamed(offline, chunks=chunks)}
    tools = {"calculator": app.calculator_tools, "divider": app.divider_tools}
    spending = Spending("chatUsage") if limited else None
    worker = ChatWorker(
        store=store, queue=queue, engines=engines, dispatchers=tools, stream_interval=0, spending=spending
    )
    scheduler = ContinuationScheduler(store=store, queue=queue)
    chat = AssistantChat(store=store, queue=queue, gate=Gate("chatUsage") if limited else None)
    holder.append(_Bench(app, chat, worker, queue, scheduler, limits=BENCH_LIMITS if limited else None))
    return holder[0]


def _turn(bench: _Bench, name: str, engine: str, text: str, chunks: int) -> Turn:
    """One turn of kind ``name`` in a chat started (and answered) before counting."""
    app = bench.app
    assistant = app.CALCULATOR.model_copy(update={"engine": engine})
    data, limits = app.CalculatorData(), bench.limits
    started = bench.chat.create(user_id="bench", assistant=assistant, data=data, messages=["sum"], limits=limits)
    chat_id = started.chat_document.removeprefix("chats/")
    bench.queue.drain(bench.worker)
    _deliver_watchdogs(bench, Turn("setup"))
    turn, enqueued = Turn(name), len(bench.queue.enqueued)
    bench.current[0] = turn
    bench.chat.post_message(user_id="bench", chat_id=chat_id, messages=[text], limits=limits)
    turn.callables = 1
    turn.worker_deliveries = bench.queue.drain(bench.worker)
    for _function, task in list(bench.app_tasks):  # the multiplier: resume as its task does
        bench.app_tasks.remove((_function, task))
        product = app.calculator_tools.resumer(
            "multiply", lambda data, factor=task.factor: app.CalculatorData(sum=data.sum * factor)
        )
        bench.scheduler.resume(task.continuation_id, product)
        turn.other_deliveries += 1
        turn.worker_deliveries += bench.queue.drain(bench.worker)
    commands = bench.queue.enqueued[enqueued:]
    turn.tasks = len(commands) + turn.other_deliveries
    sizes = [len(json.dumps(c.to_document())) for c in commands]
    turn.largest_task = max(sizes, default=0)
    turn.partial_writes = chunks if engine == "streamed" else 0
    _deliver_watchdogs(bench, turn)
    bench.current[0] = Turn("between")
    return turn


def _deliver_watchdogs(bench: _Bench, turn: Turn) -> None:
    """Deliver the watchdogs the turn armed when they fall due (the run has ended: each reads the
    chat and ends), counted into ``turn`` apart: tasks, deliveries and reads."""
    from firebase_ai_chat.tasks.watchdog_timer import WATCHDOG_DEADLINE

    before, bench.current[0] = bench.current[0], Turn("watchdogs")
    due = bench.queue.advance(WATCHDOG_DEADLINE)
    delivered = bench.queue.drain(bench.worker)
    if delivered != len(due) or bench.queue.scheduled:
        raise RuntimeError(f"{len(due)} watchdog(s) due, {delivered} delivered, {len(bench.queue.scheduled)} re-armed")
    counted, bench.current[0] = bench.current[0], before
    turn.watchdog_tasks += len(due)
    turn.tasks += len(due)
    turn.watchdog_deliveries += delivered
    turn.watchdog_reads += counted.reads
    turn.reads += counted.reads
    turn.writes += counted.writes


def measure(chunks: int = 5) -> list[Turn]:
    """The per-turn inputs of a text, tool, streamed and suspended-and-resumed turn."""
    bench = _bench(chunks)
    original = bench.app.app.enqueue

    def enqueue(function: str, payload: Any, *, task_id: str) -> None:  # the multiplier's task, kept here
        bench.app_tasks.append((function, payload))

    bench.app.app.enqueue = enqueue
    try:
        kinds = (("text", "offline", "hello"), ("tool", "offline", "add 1"), ("streamed", "streamed", "hi"))
        turns = [_turn(bench, name, engine, text, chunks) for name, engine, text in kinds]
        turns.append(_turn(bench, "suspended + resumed", "offline", "multiply by 2", chunks))
    finally:
        bench.app.app.enqueue = original
    turns.append(_turn(_bench(chunks, limited=True), "tool, limits on", "offline", "add 1", chunks))
    return turns


# ---------------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------------


def modeled(turn: Turn, design: Design, assumed: Assumed = ASSUMED) -> Turn:
    """``turn`` as it is deployed under ``design``: a streamed answer of ``stream_seconds`` at the
    design's interval (the benchmark streams a fixed number of chunks), and the design's watchdog."""
    result = replace(turn, name=turn.name)
    if turn.partial_writes:
        partials = math.ceil(assumed.stream_seconds / design.stream_interval)
        extra = partials - turn.partial_writes
        result.writes += extra
        result.commits += extra  # a partial write is a commit of its own
        result.message_writes += extra
        result.partial_writes = partials
    if not design.watchdog:  # the scheduled sweeper instead: its cost is per sweep, not per turn
        result.tasks -= turn.watchdog_tasks
        result.reads -= turn.watchdog_reads
        result.watchdog_tasks = result.watchdog_deliveries = result.watchdog_reads = 0
    return result


def concurrent_runs(design: Design) -> int:
    """Worker runs at once: what the queues dispatch, bounded by what the instances hold."""
    return min(design.queues * design.dispatches_per_queue, design.max_instances * design.runs_per_instance)


@dataclass(frozen=True)
class Ceiling:
    limit: str
    documented: str
    url: str
    turn_input: str
    before: float
    after: float


def _worst(turns: list[Turn], rate: Callable[[Turn], float]) -> tuple[float, str]:
    """The smallest ceiling over the turn kinds, and the kind that sets it."""
    value, name = min((rate(t), t.name) for t in turns)
    return value, name


def _rate_ceiling(
    label: str,
    key: str,
    before: list[Turn],
    after: list[Turn],
    per_turn: Callable[[Turn], float],
    capacity: Callable[[Design], float],
    unit: str,
) -> Ceiling:
    """A ceiling ``capacity / per_turn`` (turns/s), worst over the kinds, before and after."""
    limit = LIMITS[key]
    low_before, kind = _worst(before, lambda t: capacity(BEFORE) / max(per_turn(t), 1e-9))
    low_after, kind_after = _worst(after, lambda t: capacity(AFTER) / max(per_turn(t), 1e-9))
    shown = next(t for t in after if t.name == kind_after)
    shown_before = next(t for t in before if t.name == kind)
    text = f"{_n(per_turn(shown_before))} → {_n(per_turn(shown))} {unit} ({kind_after})"
    return Ceiling(label, f"{_n(limit.value)} {limit.what}", limit.url, text, low_before, low_after)


def ceilings(measured: list[Turn], assumed: Assumed = ASSUMED) -> list[Ceiling]:
    """The ceiling each limit sets, in turns per second (the whole app, or one chat where it says)."""
    before = [modeled(t, BEFORE, assumed) for t in measured]
    after = [modeled(t, AFTER, assumed) for t in measured]
    rows = [
        _rate_ceiling(
            "(a) worker concurrency (the app's setting): runs at once / run time",
            "queue_concurrency",
            before,
            after,
            lambda t: t.worker_deliveries * assumed.run_seconds,
            concurrent_runs,
            "worker s",
        ),
        _rate_ceiling(
            "(e) task dispatches per queue (x queues)",
            "queue_dispatch_rate",
            before,
            after,
            lambda t: t.deliveries,
            lambda d: d.queues * LIMITS["queue_dispatch_rate"].value,
            "deliveries",
        ),
        _rate_ceiling(
            "Cloud Tasks API (enqueues, project)",
            "tasks_api",
            before,
            after,
            lambda t: t.tasks,
            lambda d: LIMITS["tasks_api"].value,
            "tasks",
        ),
        _rate_ceiling(
            "callables: max instances x concurrency / call time",
            "callable_concurrency_default",
            before,
            after,
            lambda t: t.callables * assumed.callable_seconds,
            lambda d: LIMITS["max_instances_default"].value * LIMITS["callable_concurrency_default"].value,
            "callable s",
        ),
    ]
    return rows + _document_ceilings(before)


def _document_ceilings(before: list[Turn]) -> list[Ceiling]:
    """The ceilings of documents written at every turn: the hot index of ``chats`` (the whole app) and
    the write rate of one chat's document and of one user's usage document (per chat, per user)."""
    rows = []
    hot, kind = _worst(before, lambda t: LIMITS["sequential_index"].value / max(t.chat_writes, 1))
    chat_writes = next(t.chat_writes for t in before if t.name == kind)
    documented = f"{_n(LIMITS['sequential_index'].value)} {LIMITS['sequential_index'].what}"
    label = "(b) hot index on `chats.updatedAt` (+ `(status, updatedAt)`)"
    rows.append(
        Ceiling(label, documented, LIMITS["sequential_index"].url, f"{chat_writes} chat writes ({kind})", hot, math.inf)
    )
    rate = LIMITS["document_rate"]
    documents: list[tuple[str, str, str, Callable[[Turn], int]]] = [
        ("chat", "chat", "chat-document", lambda t: t.chat_writes),
        ("user's usage", "user", "usage-document", lambda t: t.user_writes),
    ]
    for what, whose, unit, writes in documents:
        counted = [t for t in before if writes(t)]
        if not counted:
            continue
        one, kind = min((rate.value / writes(t), t.name) for t in counted)
        n = writes(next(t for t in counted if t.name == kind))
        rows.append(
            Ceiling(
                f"one {what} document (turns/s of **one** {whose}, sustained)",
                f"about {_n(rate.value)} sustained write/s per document",
                rate.url,
                f"{n} {unit} writes ({kind})",
                one,
                one,
            )
        )
    return rows


def headroom(measured: list[Turn]) -> list[tuple[str, str, str, str, str]]:
    """Sizes against their limits: (what, largest measured, limit, headroom, source)."""
    found = [
        ("document written", max(t.largest_document for t in measured), "document_size", "bytes"),
        ("writes in one commit", max(t.largest_commit for t in measured), "commit_writes", "writes"),
        ("commit request", max(t.largest_commit_bytes for t in measured), "request_size", "bytes"),
        ("task payload", max(t.largest_task for t in measured), "task_size", "bytes"),
    ]
    rows = []
    for what, value, key, unit in found:
        limit = LIMITS[key]
        rows.append(
            (
                what,
                f"{value:,} {unit}",
                f"{_n(limit.value)} ({limit.what})",
                f"{limit.value / max(value, 1):,.0f}x",
                limit.url,
            )
        )
    return rows


@dataclass(frozen=True)
class Cost:
    firestore: float
    tasks: float
    invocations: float
    vcpu: float
    memory: float

    @property
    def total(self) -> float:
        return self.firestore + self.tasks + self.invocations + self.vcpu + self.memory


def cost_per_1000(turn: Turn, design: Design, prices: Prices, assumed: Assumed = ASSUMED) -> Cost:
    """List price of 1,000 turns of ``turn`` (already ``modeled``) under ``design`` (no free tier, no tokens)."""
    reads = turn.reads + turn.listener_reads + turn.client_reads
    firestore = (reads * prices.read + turn.writes * prices.write + turn.deletes * prices.delete) / 100_000
    chunks = max(1, math.ceil(turn.largest_task / TASK_CHUNK))
    operations = turn.tasks * chunks + turn.deliveries * chunks  # the enqueue and each delivery attempt
    worker = turn.worker_deliveries * assumed.run_seconds / design.runs_per_instance  # runs share a full instance
    others = (turn.callables + turn.other_deliveries + turn.watchdog_deliveries) * assumed.callable_seconds
    seconds = worker + others
    cost = Cost(
        firestore=firestore,
        tasks=operations * prices.task_operation,
        invocations=turn.invocations * prices.invocation,
        vcpu=seconds * assumed.vcpu * prices.vcpu_second,
        memory=seconds * assumed.memory_gib * prices.gib_second,
    )
    return Cost(*(1000 * v for v in (cost.firestore, cost.tasks, cost.invocations, cost.vcpu, cost.memory)))


@dataclass(frozen=True)
class Size:
    chats: int
    turns_per_second: float
    runs: int  # the capacity setting: worker runs at once
    instances: int  # at the design's runs per instance
    dense_instances: int  # at DENSE runs per instance
    queues: int
    writes_per_second: float
    reads_per_second: float  # the server's and one client's per chat
    ramp_minutes: int
    cost_per_hour: float
    dense_cost_per_hour: float  # the same at DENSE runs per instance


DENSE = 32  # runs per instance an app may choose when its worker mostly waits on the model


def size(chats: int, turn: Turn, design: Design = AFTER, assumed: Assumed = ASSUMED) -> Size:
    """What ``chats`` concurrent chats of ``turn`` (modeled under ``design``) need."""
    rate = chats / assumed.cycle_seconds
    runs = math.ceil(rate * turn.worker_deliveries * assumed.run_seconds)
    by_rate = math.ceil(rate * turn.deliveries / LIMITS["queue_dispatch_rate"].value)
    by_concurrency = math.ceil(runs / LIMITS["queue_concurrency"].value)
    reads = rate * (turn.reads + turn.listener_reads + turn.client_reads)
    ops = reads + rate * turn.writes
    # Best practices' 500/50/5 rule: start at 500 operations/s, add 50% every 5 minutes.
    steps = 0 if ops <= 500 else math.ceil(math.log(ops / 500) / math.log(1.5))
    hourly = rate * 3600 / 1000
    cost = cost_per_1000(turn, design, PRICES[0], assumed).total * hourly
    dense = cost_per_1000(turn, replace(design, runs_per_instance=DENSE), PRICES[0], assumed).total * hourly
    return Size(
        chats=chats,
        turns_per_second=rate,
        runs=runs,
        instances=math.ceil(runs / design.runs_per_instance),
        dense_instances=math.ceil(runs / DENSE),
        queues=max(1, by_rate, by_concurrency),
        writes_per_second=rate * turn.writes,
        reads_per_second=reads,
        ramp_minutes=5 * steps,
        cost_per_hour=cost,
        dense_cost_per_hour=dense,
    )


# ---------------------------------------------------------------------------------------------------
# Printing (markdown tables that docs/SCALE.md embeds)
# ---------------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A figure for a table: ``none`` for no ceiling, thousands separated, two significant digits below 10."""
    if math.isinf(value):
        return "none"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}"


def _money(value: float) -> str:
    return f"${value:.4f}" if value < 0.01 else f"${value:.3f}" if value < 1 else f"${value:,.2f}"


def print_inputs(measured: list[Turn]) -> None:
    print("### Per-turn inputs (measured: callable + worker + the app's task functions)\n")
    print(
        "| turn | reads | listener reads | writes | deletes | commits | chat-doc writes | message writes "
        "| tasks | invocations (callable + deliveries) | watchdog tasks / reads | largest doc | largest commit "
        "| largest task |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in measured:
        print(
            f"| {t.name} | {t.reads} | {t.listener_reads} | {t.writes} | {t.deletes} | {t.commits} | {t.chat_writes} "
            f"| {t.message_writes} | {t.tasks} | {t.invocations} ({t.callables} + {t.deliveries}) "
            f"| {t.watchdog_tasks} / {t.watchdog_reads} | {t.largest_document:,} B "
            f"| {t.largest_commit} writes, {t.largest_commit_bytes:,} B "
            f"| {t.largest_task} B |"
        )
    streamed = next((t for t in measured if t.partial_writes), None)
    if streamed:
        print(
            f"\n(the streamed answer here: {streamed.partial_writes} partial writes, each one write and one commit)\n"
        )


def print_modeled(measured: list[Turn], assumed: Assumed = ASSUMED) -> None:
    print("### Per-turn inputs as deployed, before and after (modeled from the measured ones)\n")
    print(
        f"A streamed answer grows for {_n(assumed.stream_seconds)} s: a partial write every "
        f"{BEFORE.stream_interval} s before, every {AFTER.stream_interval} s after; after, each run also has its "
        "watchdog task (measured: the watchdogs the turn armed, delivered when due, each reading the chat).\n"
    )
    print(
        "| turn | design | reads (+ stop listener) | one client's listener reads | writes | commits "
        "| chat-doc writes | tasks | invocations |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for t in measured:
        for design in (BEFORE, AFTER):
            m = modeled(t, design, assumed)
            print(
                f"| {t.name} | {design.name} | {m.reads} (+{m.listener_reads}) | {m.client_reads} | {m.writes} "
                f"| {m.commits} "
                f"| {m.chat_writes} | {m.tasks} | {m.invocations} |"
            )
    print()


def print_ceilings(measured: list[Turn], assumed: Assumed = ASSUMED) -> None:
    print(
        f"### Ceilings: turns per second, and concurrent chats at one turn per chat every "
        f"{_n(assumed.cycle_seconds)} s\n"
    )
    print(
        f"Before: {BEFORE.queues} worker queue x {BEFORE.dispatches_per_queue} concurrent dispatches, "
        f"{BEFORE.runs_per_instance} run per instance ({concurrent_runs(BEFORE)} runs at once). After (the library's "
        f"defaults): {AFTER.queues} queue x {AFTER.dispatches_per_queue} dispatches, "
        f"{AFTER.runs_per_instance} runs per instance, max instances {AFTER.max_instances} "
        f"({concurrent_runs(AFTER)} runs at once; queues multiply it). A worker delivery takes "
        f"{_n(assumed.run_seconds)} s. Each ceiling is the lowest over the turn kinds (named).\n"
    )
    print("| limit | documented | per-turn input (before → after) | before: turns/s | chats | after: turns/s | chats |")
    print("|---|---|---|---|---|---|---|")
    for row in ceilings(measured, assumed):
        chats_before, chats_after = row.before * assumed.cycle_seconds, row.after * assumed.cycle_seconds
        per_chat = row.limit.startswith("one ")
        print(
            f"| {row.limit} | [{row.documented}]({row.url}) | {row.turn_input} | {_n(row.before)} "
            f"| {'—' if per_chat else _n(chats_before)} | {_n(row.after)} | {'—' if per_chat else _n(chats_after)} |"
        )
    print("\n#### Sizes against their limits (largest seen in the measured turns)\n")
    print("| what | largest measured | limit | headroom |")
    print("|---|---|---|---|")
    for what, value, limit, room, url in headroom(measured):
        print(f"| {what} | {value} | [{limit}]({url}) | {room} |")
    print()


def print_other_limits(measured: list[Turn], assumed: Assumed = ASSUMED) -> None:
    """The limits that set no turns/s ceiling of their own: what they cost or require, before and after."""
    streamed = next((t for t in measured if t.partial_writes), measured[0])
    runs_after = concurrent_runs(AFTER)
    rows = [
        (
            "(c) stuck chats",
            "a scheduled query every 300 s on the hot `(status, updatedAt)` index: 1 read per sweep + 1 per "
            "stuck chat, O(stuck chats) per sweep, on the index (b) caps",
            "a delayed watchdog task per run (measured in the costs above: the `watchdog` columns); no collection scan",
        ),
        (
            f"(d) a streamed message document ([about 1 write/s]({LIMITS['document_rate'].url}))",
            f"{1 / BEFORE.stream_interval:g} writes/s ({math.ceil(assumed.stream_seconds / BEFORE.stream_interval)} "
            f"partial writes for a {_n(assumed.stream_seconds)} s answer): over the documented rate",
            f"{1 / AFTER.stream_interval:g} write/s ({math.ceil(assumed.stream_seconds / AFTER.stream_interval)} "
            "partial writes): at it",
        ),
        (
            f"worker instances ([default max {_n(LIMITS['max_instances_default'].value)}]"
            f"({LIMITS['max_instances_default'].url}), "
            f"[≤ {_n(LIMITS['instance_concurrency'].value)} requests each]({LIMITS['instance_concurrency'].url}))",
            f"{concurrent_runs(BEFORE)} instances for {concurrent_runs(BEFORE)} runs (1 run each)",
            f"{math.ceil(runs_after / AFTER.runs_per_instance)} instances for {runs_after} runs "
            f"({AFTER.runs_per_instance} each, threads): over the default max: max instances must be set (derived)",
        ),
        (
            "(f) cold start (a new instance)",
            "importing the app ~1.4x the SDKs: the first turn on each new instance waits for it",
            "≤ 1.15x (lazy imports); with 8 runs per instance, 8x fewer instances start for the same load",
        ),
        (
            f"a streamed answer's partial writes (measured: {streamed.partial_writes} here)",
            "1 write and 1 commit each, no read",
            "the same, at most 1 per second",
        ),
    ]
    print("#### Limits that set no turns/s ceiling of their own\n")
    print("| limit | before | after (design) |")
    print("|---|---|---|")
    for limit, before, after in rows:
        print(f"| {limit} | {before} | {after} |")
    print()


def print_costs(measured: list[Turn], assumed: Assumed = ASSUMED) -> None:
    print("### Cost per 1,000 turns at list prices (USD; no free tier, no model tokens)\n")
    print(
        f"Functions: {assumed.vcpu:g} vCPU and {assumed.memory_gib:g} GiB; a worker delivery "
        f"{_n(assumed.run_seconds)} s (shared by {AFTER.runs_per_instance} runs per instance after, "
        f"alone before), a callable or a task function {assumed.callable_seconds} s. Firestore Standard "
        f"edition at {PRICES[0].location}; the last column at {PRICES[1].location}.\n"
    )
    print(
        "| turn | design | Firestore | Cloud Tasks | invocations | vCPU-s | GiB-s | total "
        f"| total, {PRICES[1].location.split()[0]} |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for t in measured:
        for design in (BEFORE, AFTER):
            m = modeled(t, design, assumed)
            c, other = cost_per_1000(m, design, PRICES[0], assumed), cost_per_1000(m, design, PRICES[1], assumed)
            print(
                f"| {t.name} | {design.name} | {_money(c.firestore)} | {_money(c.tasks)} | {_money(c.invocations)} "
                f"| {_money(c.vcpu)} | {_money(c.memory)} | **{_money(c.total)}** | {_money(other.total)} |"
            )
    print()


def print_sizing(measured: list[Turn], assumed: Assumed = ASSUMED) -> None:
    tool = modeled(next(t for t in measured if t.name == "tool"), AFTER, assumed)
    print(
        f"### Sizing (after; tool turns, one per chat every {_n(assumed.cycle_seconds)} s, a worker delivery "
        f"{_n(assumed.run_seconds)} s)\n"
    )
    print(
        f"| concurrent chats | turns/s | capacity (runs at once) | worker instances at {AFTER.runs_per_instance} "
        f"/ {DENSE} runs each | worker queues (dispatches each) | Firestore writes/s | reads/s (server + one "
        "client) | 500/50/5 ramp | cost per hour, us-central1 (at 8 / 32 runs each) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for chats in (10, 1_000, 100_000):
        s = size(chats, tool, AFTER, assumed)
        ramp = "none" if not s.ramp_minutes else f"{s.ramp_minutes} min"
        print(
            f"| {chats:,} | {_n(s.turns_per_second)} | {s.runs:,} | {s.instances:,} / {s.dense_instances:,} "
            f"| {s.queues} ({math.ceil(s.runs / s.queues):,}) | {_n(s.writes_per_second)} "
            f"| {_n(s.reads_per_second)} | {ramp} | {_money(s.cost_per_hour)} / {_money(s.dense_cost_per_hour)} |"
        )
    print()


def report(measured: list[Turn]) -> None:
    print_inputs(measured)
    print_modeled(measured)
    print_ceilings(measured)
    print_other_limits(measured)
    print_costs(measured)
    print_sizing(measured)
    print("<details><summary>Per-turn inputs (JSON, for <code>--inputs</code>)</summary>\n")
    print("```json")
    print(json.dumps([asdict(t) for t in measured], indent=1))
    print("```\n</details>")


def _load(path: str) -> list[Turn]:
    return [Turn(**row) for row in json.loads(Path(path).read_text())]


BEGIN, END = "<!-- bench/capacity.py: begin -->", "<!-- bench/capacity.py: end -->"
DOC = Path(__file__).resolve().parents[1] / "docs" / "SCALE.md"


def write_doc(measured: list[Turn], doc: Path = DOC) -> None:
    """Replace what ``doc`` holds between ``BEGIN`` and ``END`` with this run's tables."""
    import contextlib
    import io

    tables = io.StringIO()
    with contextlib.redirect_stdout(tables):
        report(measured)
    text = doc.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n\n{tables.getvalue().strip()}\n\n{END}{tail}")


def main(args: list[str]) -> None:
    """``[--inputs FILE] [--write-doc]``: measure (or load the inputs), print the tables or write them
    into docs/SCALE.md."""
    measured = _load(args[args.index("--inputs") + 1]) if "--inputs" in args else measure()
    if "--write-doc" in args:
        write_doc(measured)
        print(f"wrote {DOC}")
    else:
        report(measured)


if __name__ == "__main__":
    import logging

    logging.getLogger("firebase_ai_chat").setLevel(logging.WARNING)
    main(sys.argv[1:])
