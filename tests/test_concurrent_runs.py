"""One worker handling many runs at once, in threads of one process (a worker instance with
``concurrency`` > 1): every guarantee holds, on each store. A barrier in the engine proves the runs
are in flight together (were they served one after the other, the barrier would break and the runs
fail): no clock is read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from crew import PHRASES, Crew
from support import wait_until

from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.engines.base import EngineReply, EngineRequest, TextSink
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.runtime.worker import Delivery
from firebase_ai_chat.status import ChatStatus
from firebase_ai_chat.testing.streamed import Streamed

RUNS = 8
PATIENCE = 60.0
"""How long a run waits at the barrier for the others: a guard against a hang, never a measure."""


class Together:
    """An engine whose every call waits until ``parties`` calls are in flight at once."""

    name = "offline"

    def __init__(self, parties: int) -> None:
        self._engine = OfflineEngine(PHRASES)
        self._barrier = threading.Barrier(parties, timeout=PATIENCE)
        self.calls = 0
        self._lock = threading.Lock()

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        with self._lock:
            self.calls += 1
        self._barrier.wait()
        return self._engine.run(request, on_text=on_text)


def _at_once(crew: Crew, commands: list[ChatCommand], attempts: int = 1) -> None:
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = [
            pool.submit(crew.worker.handle, command, delivery=Delivery(max_attempts=attempts)) for command in commands
        ]
        for future in futures:
            future.result()


def _answered_once(crew: Crew, chat_id: str, value: int) -> None:
    state = crew.state(chat_id)
    assert state["status"] == ChatStatus.USER_INPUT, state
    assert state["data"] == {"sum": value}
    messages = crew.messages(chat_id)
    assert len({m.model_dump_json() for m in messages}) == len(messages) == 2, messages  # no duplicate
    assert [m.author for m in messages] == ["user", "ai"]


def test_runs_handled_at_once_by_one_worker_each_answer_once(make_crew: Callable[..., Crew]) -> None:
    engine = Together(RUNS)
    crew = make_crew(engine=engine)
    chats = [crew.start(f"add {n}") for n in range(1, RUNS + 1)]
    commands = list(crew.queue.pending)
    crew.queue.pending.clear()
    _at_once(crew, commands)
    assert engine.calls == 2 * RUNS  # a tool call, then the answer: every run took both steps together
    for n, chat_id in enumerate(chats, start=1):
        _answered_once(crew, chat_id, n)
    assert crew.queue.pending == []


def test_duplicate_deliveries_at_once_change_nothing(make_crew: Callable[..., Crew]) -> None:
    crew = make_crew()
    chats = [crew.start(f"add {n}") for n in range(1, RUNS // 2 + 1)]
    commands = list(crew.queue.pending)
    crew.queue.pending.clear()
    _at_once(crew, [*commands, *commands], attempts=3)  # Cloud Tasks' at-least-once, in one instance
    crew.drain()
    for n, chat_id in enumerate(chats, start=1):
        _answered_once(crew, chat_id, n)


def test_posts_during_concurrent_runs_are_answered_after_them(make_crew: Callable[..., Crew]) -> None:
    engine = Together(RUNS // 2)
    crew = make_crew(engine=engine)
    chats = [crew.start(f"add {n}") for n in range(1, RUNS // 2 + 1)]
    commands = list(crew.queue.pending)
    crew.queue.pending.clear()
    posted = threading.Event()

    def post_all() -> Any:
        for chat_id in chats:
            crew.post(chat_id, "add 10")
        posted.set()

    poster = threading.Thread(target=post_all)
    poster.start()
    _at_once(crew, commands)
    poster.join()
    assert posted.is_set()
    engine_after = Together(1)
    crew.worker._parts.engines["offline"] = engine_after  # type: ignore[index]
    crew.drain()
    for n, chat_id in enumerate(chats, start=1):
        state = crew.state(chat_id)
        assert state["status"] == ChatStatus.USER_INPUT and state["data"] == {"sum": n + 10}, state
        messages = crew.messages(chat_id)
        assert [m.author for m in messages].count("user") == 2
        assert len({(m.author, m.dispatch_id, m.in_batch_sort_index, m.text) for m in messages}) == len(messages)


def test_a_stop_reaches_only_its_own_run_among_runs_at_once(make_crew: Callable[..., Crew]) -> None:
    engine = Streamed(OfflineEngine(PHRASES), chunks=200, delay=0.02)  # ~4 s each unless stopped
    crew = make_crew(engine=engine, stream_interval=0.1)
    chats = [crew.start(f"tell me something long, please ({n})") for n in range(RUNS // 2)]
    commands = list(crew.queue.pending)
    crew.queue.pending.clear()
    runs = threading.Thread(target=_at_once, args=(crew, commands), daemon=True)
    runs.start()
    wait_until(lambda: all(any(m.streaming for m in crew.messages(c)) for c in chats), what="every answer streaming")
    stopped, *others = chats
    assert crew.stop(stopped)["status"] == ChatStatus.USER_INPUT
    runs.join(timeout=PATIENCE)
    assert not runs.is_alive()
    [_, answer] = crew.messages(stopped)
    assert answer.stopped and not answer.streaming
    for chat_id in others:  # their own stop listeners heard nothing: each answer whole, once
        state = crew.state(chat_id)
        [user, whole] = crew.messages(chat_id)
        assert state["status"] == ChatStatus.USER_INPUT and "stoppedDispatchId" not in state
        assert whole.stopped is None and not whole.streaming and whole.text == f'You said "{user.text}".'
