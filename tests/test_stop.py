"""Stopping an answer, wherever the run is: while the model streams, between tool calls, while a call
is suspended, before the run started; on the in-memory store and on the Firestore emulator.

The worker runs in the test process (``crew``); a stop that the worker must hear is given a long
``wait`` (30 s) before the front API would stop the run itself, so these tests fail (the worker did
not stop: the engine streamed everything, the tools all ran) rather than pass by the fallback.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from crew import CALC, PHRASES, Crew
from support import wait_until

from firebase_ai_chat import ChatError, ErrorCode
from firebase_ai_chat.engines.base import AssistantText, ToolOutput, UserInput
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.records import EngineContextRecord, RunState, context_path, run_path
from firebase_ai_chat.runtime.stop import STOPPED_CALL
from firebase_ai_chat.testing.streamed import Streamed

LONG = " ".join(f"word{n}" for n in range(400))
"""A message the offline engine echoes (``You said "…"``): a long answer to stop while it streams."""


def _in_background(work: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _streaming(crew: Crew, chat_id: str) -> bool:
    return any(m.streaming for m in crew.messages(chat_id))


def _context(crew: Crew, chat_id: str) -> EngineContextRecord:
    return EngineContextRecord.model_validate(crew.record(chat_id, context_path("calc")) or {})


def test_a_streamed_answer_stops_with_its_text_so_far_kept(make_crew: Callable[..., Crew]) -> None:
    engine = Streamed(OfflineEngine(PHRASES), chunks=400, delay=0.02)  # ~8 s if nobody stops it
    crew = make_crew(engine=engine, stream_interval=0.1)
    chat_id = crew.start(LONG)
    worker = _in_background(crew.drain)
    wait_until(lambda: _streaming(crew, chat_id), what="a partial answer")

    result = crew.stop(chat_id)
    worker.join(timeout=60)

    assert result["status"] == "userInput"
    assert engine.deltas < 400, "the worker did not stop the model's stream"
    [user, answer] = crew.messages(chat_id)
    assert (user.text, answer.author, answer.stopped, answer.streaming) == (LONG, "ai", True, False)
    assert answer.text and f'You said "{LONG}".'.startswith(answer.text)
    assert len(answer.text) < len(f'You said "{LONG}".')
    state = crew.state(chat_id)
    assert state["stoppedDispatchId"] == answer.dispatch_id and "stopRequested" not in state
    run = RunState.model_validate(crew.record(chat_id, run_path(answer.dispatch_id)))
    assert run.outcome == "stopped"
    assert _context(crew, chat_id).pending[-1] == AssistantText(text=answer.text)


def test_the_next_post_goes_on_with_what_was_said_before_the_stop(make_crew: Callable[..., Crew]) -> None:
    engine = Streamed(OfflineEngine(PHRASES), chunks=400, delay=0.02)
    crew = make_crew(engine=engine, stream_interval=0.1)
    chat_id = crew.start(LONG)
    worker = _in_background(crew.drain)
    wait_until(lambda: _streaming(crew, chat_id), what="a partial answer")
    crew.stop(chat_id)
    worker.join(timeout=60)

    crew.post(chat_id, "add 5")
    crew.drain()

    assert crew.state(chat_id)["status"] == "userInput"
    assert crew.state(chat_id)["data"] == {"sum": 5}
    assert crew.ai_texts(chat_id)[-1] == 'add: data is now {"sum": 5}'
    assert _context(crew, chat_id).pending == [], "the stopped context was not sent with the next post"


def test_calls_not_yet_run_are_not_run_and_the_model_is_told(make_crew: Callable[..., Crew]) -> None:
    crew = make_crew()
    chat_id = crew.start("add 1 and add 2 and add 3")
    heard = threading.Event()
    unwatch = crew.store.watch(chat_id, lambda chat: chat and chat.stop_requested and heard.set())
    adds: list[int] = []

    def on_add() -> None:
        adds.append(1)
        if len(adds) == 1:  # the owner stops while the first call runs
            _in_background(lambda: crew.stop(chat_id))
            assert heard.wait(30), "the stop request was never committed"
            threading.Event().wait(1.0)  # the worker's own listener hears it too

    crew.on_add = on_add
    crew.drain()
    unwatch()

    state = crew.state(chat_id)
    assert (state["status"], state["data"], len(adds)) == ("userInput", {"sum": 1}, 1)
    pending = _context(crew, chat_id).pending
    outputs = [item for item in pending if isinstance(item, ToolOutput)]
    assert [o.is_error for o in outputs] == [False, True, True]
    assert all(STOPPED_CALL in o.output for o in outputs[1:])
    assert pending[-1] == AssistantText(text="")


def test_a_suspended_call_is_cancelled_and_a_later_resume_changes_nothing(crew: Crew) -> None:
    chat_id = crew.start("add 1 and multiply by 2 and add 1", total=1)
    crew.drain()
    assert crew.state(chat_id)["status"] == "processing"

    result = crew.stop(chat_id, wait=30)  # no worker runs a suspended call: stopped at once

    assert (result["status"], result["data"]) == ("userInput", {"sum": 2})
    continuation = crew.parked[0][0]
    assert crew.record(chat_id, f"continuations/{continuation}")["status"] == "cancelled"
    assert crew.resume(0) is False
    assert crew.state(chat_id)["data"] == {"sum": 2}
    assert crew.queue.pending == []
    crew.post(chat_id, "add 5")
    crew.drain()
    assert (crew.state(chat_id)["status"], crew.state(chat_id)["data"]) == ("userInput", {"sum": 7})


def test_a_run_not_started_yet_stops_with_its_messages_unanswered(crew: Crew) -> None:
    chat_id = crew.start("add 5")  # its task waits in the queue

    result = crew.stop(chat_id, wait=0.3)
    crew.drain()  # the task arrives after the stop: stale

    assert result["status"] == "userInput"
    assert [(m.author, m.text) for m in crew.messages(chat_id)] == [("user", "add 5")]
    assert crew.state(chat_id)["data"] == {"sum": 0}
    assert _context(crew, chat_id).pending == [UserInput(text="add 5"), AssistantText(text="")]
    crew.post(chat_id, "add 1")
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 1}, "the stopped request ran after all"


def test_posts_queued_behind_a_stopped_answer_are_answered_next(make_crew: Callable[..., Crew]) -> None:
    crew = make_crew(engine=Streamed(OfflineEngine(PHRASES), chunks=400, delay=0.02), stream_interval=0.1)
    chat_id = crew.start(LONG)
    worker = _in_background(crew.drain)
    wait_until(lambda: _streaming(crew, chat_id), what="a partial answer")
    posts = [_in_background(lambda: crew.post(chat_id, "add 2")), _in_background(lambda: crew.stop(chat_id))]
    for thread in posts:
        thread.join(timeout=60)
    worker.join(timeout=60)
    crew.drain()

    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 2}), "the post racing the stop was lost"
    assert [m.text for m in crew.messages(chat_id) if m.author == "user"] == [LONG, "add 2"]


def test_stopping_a_chat_that_is_not_processing_returns_it_unchanged(crew: Crew) -> None:
    chat_id = crew.start("add 5")
    crew.drain()
    before = crew.state(chat_id)

    result = crew.stop(chat_id)

    assert (result["status"], result["data"]) == ("userInput", {"sum": 5})
    assert crew.state(chat_id) == before


def test_a_single_run_stopped_is_complete(crew: Crew) -> None:
    result = crew.chat.single_run(user_id=crew.user_id, assistant=CALC, data={"sum": 0}, messages=["add 5"])
    chat_id = result.chat_document.split("/", 1)[1]

    assert crew.stop(chat_id, wait=0.3)["status"] == "complete"


def test_only_the_owner_stops_a_chat(crew: Crew) -> None:
    chat_id = crew.start("add 5")
    front = crew.chat
    with pytest.raises(ChatError) as refused:
        front.stop(user_id="someone-else", chat_id=chat_id)
    assert refused.value.code is ErrorCode.PERMISSION_DENIED
    assert crew.state(chat_id)["status"] == "processing" and "stopRequested" not in crew.state(chat_id)


def test_a_chat_listener_hears_the_chat_deleted(crew: Crew) -> None:
    chat_id = crew.start("add 1")
    heard: list[object] = []
    gone = threading.Event()

    def on_change(chat: object) -> None:
        heard.append(chat)
        if chat is None:
            gone.set()

    unwatch = crew.store.watch(chat_id, on_change)
    try:
        wait_until(lambda: heard, what="the listener's first snapshot")
        assert heard[0] is not None
        crew.store.delete_chat(chat_id)
        assert gone.wait(30), "the listener was never told the chat is gone"
    finally:
        unwatch()
