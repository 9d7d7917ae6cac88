"""The core scenarios: tools, continuations, hand-over, failures, caps, on every store.

Each test runs twice through the ``crew`` fixture: on the in-memory store (fast, the core) and on
the Firestore emulator (the adapter). The worker runs in the test process; tasks are delivered by
hand, so each scenario plays one exact interleaving.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from crew import CALC, PHRASES, Crew, FlakyStore, Total
from support import count

from firebase_ai_chat import AssistantConfig, ChatError, ChatStatus, ErrorCode
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.runtime.worker import Delivery
from firebase_ai_chat.testing import InMemoryChatStore
from firebase_ai_chat.testing.faults import POINTS, KillAt, WorkerKilled
from firebase_ai_chat.testing.streamed import Streamed
from firebase_ai_chat.tools import ToolValue

EXPECTED_ORDERED = ['add: data is now {"sum": 2}', 'multiply: data is now {"sum": 4}', 'add: data is now {"sum": 5}']


def _resume_then_drain(crew: Crew, chat_id: str) -> None:
    assert crew.resume(0) is True
    crew.drain()


def _redeliver_while_suspended(crew: Crew, chat_id: str) -> None:
    first = crew.command(chat_id)
    crew.worker.handle(first)  # the original task again: the later add must still wait
    assert crew.state(chat_id)["data"] == {"sum": 2}
    assert crew.resume(0) is True
    crew.drain()
    crew.worker.handle(first)  # and once more after the end: stale
    count("stale tasks delivered")


def _redeliveries_race_the_resumed_run(crew: Crew, chat_id: str) -> None:
    assert crew.resume(0) is True
    resumed = crew.queue.pending.pop()
    threads = [threading.Thread(target=crew.worker.handle, args=(resumed,)) for _ in range(2)]
    threads.append(threading.Thread(target=crew.worker.handle, args=(crew.command(chat_id),)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    count("tasks delivered twice (or more)", 2)
    crew.drain()


def _resumed_twice(crew: Crew, chat_id: str) -> None:
    assert crew.resume(0) is True
    assert crew.resume(0) is False
    crew.drain()


INTERLEAVINGS = {
    "resume then deliver": _resume_then_drain,
    "redelivered while suspended": _redeliver_while_suspended,
    "redeliveries race the resumed run": _redeliveries_race_the_resumed_run,
    "resumed twice": _resumed_twice,
}


@pytest.mark.parametrize("interleaving", INTERLEAVINGS)
def test_a_call_after_a_suspended_one_waits_and_sees_its_result(crew: Crew, interleaving: str) -> None:
    chat_id = crew.start("add 1 and multiply by 2 and add 1", total=1)
    crew.drain()
    assert crew.state(chat_id)["status"] == "processing"
    assert crew.state(chat_id)["data"] == {"sum": 2}, "the add after the suspended multiply ran early"
    INTERLEAVINGS[interleaving](crew, chat_id)
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 5})
    assert crew.ai_texts(chat_id) == EXPECTED_ORDERED
    count("resume interleavings checked")


def test_two_suspended_calls_of_one_turn_apply_in_order(crew: Crew) -> None:
    chat_id = crew.start("multiply by 2 and multiply by 3", total=5)
    crew.drain()
    assert len(crew.parked) == 1, "the second multiply ran before the first was resumed"
    assert crew.resume(0) is True
    crew.drain()
    assert crew.resume(1) is True
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 30}
    count("resume interleavings checked")


def test_a_resume_that_beats_the_suspension_is_retried_not_lost(crew: Crew) -> None:
    early: list[ErrorCode] = []

    def resume_at_once(continuation: str) -> None:  # a multiplier faster than the worker's commit
        with pytest.raises(ChatError) as raised:
            crew.scheduler.resume(continuation, crew.multiplied(len(crew.parked) - 1))
        early.append(raised.value.code)

    crew.on_multiply = resume_at_once
    chat_id = crew.start("multiply by 2 and add 1", total=5)
    crew.drain()
    assert early == [ErrorCode.UNAVAILABLE]
    assert crew.resume(0) is True
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 11}
    count("resume interleavings checked")


def test_a_resume_that_beats_the_suspension_waits_for_it(crew: Crew) -> None:
    resumers: list[threading.Thread] = []

    def resume_from_another_process(continuation: str) -> None:  # the job is done before the worker commits
        index = len(crew.parked) - 1
        resumers.append(threading.Thread(target=crew.scheduler.resume, args=(continuation, crew.multiplied(index))))
        resumers[-1].start()

    crew.on_multiply = resume_from_another_process
    chat_id = crew.start("multiply by 2 and add 1", total=5)
    crew.drain()
    for resumer in resumers:
        resumer.join()
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 11}
    count("resume interleavings checked")


@pytest.mark.parametrize("redeliver", [False, True], ids=["once", "redelivered"])
def test_a_tools_hand_over_waits_for_the_end_of_the_turn(crew: Crew, redeliver: bool) -> None:
    chat_id = crew.start("switch and multiply by 3 and add 1", total=10)
    crew.drain()
    assert crew.state(chat_id)["config"]["assistantId"] == "calc", "the hand-over happened mid-turn"
    if redeliver:
        crew.worker.handle(crew.command(chat_id))
    assert crew.resume(0) is True
    crew.drain()
    state = crew.state(chat_id)
    assert state["data"] == {"sum": 15.5}, "a call of the turn ran on the wrong assistant"
    assert state["config"]["assistantId"] == "half"
    assert crew.ai_texts(chat_id) == ['halve: data is now {"sum": 15.5}']  # calc's outputs wait for calc
    count("hand-over interleavings checked")


def test_tool_exceptions_reach_the_model_as_a_generic_error(crew: Crew) -> None:
    chat_id = crew.start("explode and add 2")
    crew.drain()
    texts = crew.ai_texts(chat_id)
    assert texts == [
        "explode failed: explode failed unexpectedly. Details are in the server log.",
        'add: data is now {"sum": 2}',
    ]
    raising = AssistantConfig(engine="offline", assistant_id="raising", dispatcher_id="raising")
    other = crew.start("crash", assistant=raising)
    crew.drain()
    assert crew.ai_texts(other) == ["crash failed: crash failed unexpectedly. Details are in the server log."]
    for chat in (chat_id, other):
        run = crew.record(chat, f"runs/{crew.state(chat)['latestDispatchId']}")
        assert "secret_module" not in repr(run) + repr(crew.ai_texts(chat))
    count("tool exceptions kept from the user", 2)


def test_unstorable_tool_results_are_tool_errors_and_the_chat_goes_on(crew: Crew) -> None:
    chat_id = crew.start("huge and add 1")
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 1})
    assert crew.ai_texts(chat_id)[0] == (
        "huge failed: huge returned data that cannot be stored: the integer 1180591620717411303424 is out of range "
        "(64 bits)."
    )
    count("unstorable values refused")


@pytest.mark.parametrize(
    ("resumer", "expected"),
    [
        (lambda data: Total(sum=2**70), "multiply failed: multiply returned data that cannot be stored: the integer"),
        (lambda data: Total(sum=float("inf")), "multiply failed: multiply returned data that cannot be stored: inf is"),
        (lambda data: 1 / 0, "multiply failed: multiply failed unexpectedly."),
    ],
    ids=["out of range", "infinite", "raises"],
)
def test_a_failing_resumer_answers_the_chat(crew: Crew, resumer: Callable[[Total], Any], expected: str) -> None:
    chat_id = crew.start("add 3 and multiply by 2", total=0)
    crew.drain()
    assert crew.scheduler.resume(crew.parked[0][0], crew.tools.resumer("multiply", resumer)) is True
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 3})
    assert crew.ai_texts(chat_id)[-1].startswith(expected)
    count("unstorable values refused")


def test_a_turn_makes_at_most_the_capped_number_of_tool_calls(crew: Crew) -> None:
    chat_id = crew.start(", ".join(["add 1"] * 40))
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 16})
    texts = crew.ai_texts(chat_id)
    assert (
        texts.count(
            "add failed: Not run: a turn may make at most 16 tool calls. Make the remaining calls in the next turn."
        )
        == 24
    )
    assert len(crew.messages(chat_id)) <= 21
    count("tool calls past the cap refused", 24)


def test_posts_queued_during_a_run_all_apply_however_many_calls_they_make(crew: Crew) -> None:
    chat_id = crew.start("add 1")
    for value in range(2, 21):  # 19 posts while the first run is queued: the next run answers them together
        crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=[f"add {value}"])
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 210})
    assert not [text for text in crew.ai_texts(chat_id) if "Not run" in text]
    run = crew.record(chat_id, f"runs/{state['latestDispatchId']}") or {}
    assert run["userMessages"] == 19
    count("queued posts applied past the one-message cap", 19 - 16)


def test_a_run_answering_queued_posts_is_capped_per_message(crew: Crew) -> None:
    chat_id = crew.start("add 1")
    for _ in range(2):  # each asks for 20 calls: 40 in one turn, 2 x 16 allowed
        crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=[", ".join(["add 1"] * 20)])
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 1 + 32})
    refused = [text for text in crew.ai_texts(chat_id) if "Not run: a turn may make at most 32 tool calls" in text]
    assert len(refused) == 8


def test_a_failing_delivery_does_not_fail_a_run_another_delivery_advances(make_crew: Callable[..., Crew]) -> None:
    crew = make_crew(flaky=True)
    store = crew.store
    assert isinstance(store, FlakyStore)
    chat_id = crew.start("add 1 and multiply by 2")
    command = crew.queue.pending.pop()
    main = threading.current_thread()

    def overtaken() -> None:
        if threading.current_thread() is main:  # the first delivery's add: another delivery overtakes it
            other = threading.Thread(target=crew.worker.handle, args=(command,))
            other.start()
            other.join()
            store.fail_in = main  # then this delivery's next write fails, on its last attempt

    crew.on_add = overtaken
    crew.worker.handle(command, delivery=Delivery(attempt=2, max_attempts=3))
    assert crew.state(chat_id)["status"] == "processing", "the overtaken delivery failed the chat"
    assert crew.resume(0) is True
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 2})
    count("failing deliveries that left an advancing run alone")


def test_reserved_and_malformed_continuation_ids_are_not_found(crew: Crew) -> None:
    for continuation in ("__x__.d.0.0", "c.__d__.0.0", "not an id"):
        with pytest.raises(ChatError) as raised:
            crew.scheduler.resume(continuation, ToolValue(value=1))
        assert raised.value.code is ErrorCode.NOT_FOUND
    count("reserved ids refused", 2)


def test_queued_posts_end_a_run_with_a_documented_outcome(crew: Crew) -> None:
    chat_id = crew.start("add 1")
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["add 2"])
    first = crew.queue.pending[0].dispatch_id
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 3}
    second = crew.state(chat_id)["latestDispatchId"]
    outcomes = [(crew.record(chat_id, f"runs/{d}") or {}).get("outcome") for d in (first, second)]
    assert outcomes == ["userInput", "userInput"]
    assert ChatStatus(crew.state(chat_id)["status"]) is ChatStatus.USER_INPUT


SCENARIO_TEXTS = ['add: data is now {"sum": 5}', 'multiply: data is now {"sum": 15}']


def deliver_surviving_kills(crew: Crew) -> None:
    """Deliver every waiting task; a killed delivery is delivered again, as Cloud Tasks retries it."""
    while crew.queue.pending:
        command = crew.queue.pending.pop(0)
        for _ in range(3):
            try:
                crew.worker.handle(command)
                break
            except WorkerKilled:
                count("worker processes killed")


@pytest.mark.parametrize("point", POINTS)
def test_a_worker_killed_at_a_step_boundary_recovers_on_redelivery(make_crew: Callable[..., Crew], point: str) -> None:
    kill = KillAt(point)
    crew = make_crew(engine=Streamed(OfflineEngine(PHRASES)), hooks=[kill], stream_interval=0)
    chat_id = crew.start("add 5 and multiply by 3")
    deliver_surviving_kills(crew)
    assert crew.resume(0) is True
    deliver_surviving_kills(crew)
    assert not kill.armed, f"the run never reached {point}"
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 15})
    assert crew.ai_texts(chat_id) == SCENARIO_TEXTS
    assert not any(m.streaming for m in crew.messages(chat_id))
    assert [m.text for m in crew.messages(chat_id) if m.author == "user"] == ["add 5 and multiply by 3"]


def test_streamed_partial_writes_cost_one_write_and_no_read() -> None:
    store = InMemoryChatStore()
    crew = Crew(store, "u", store.all_messages, engine=Streamed(OfflineEngine(PHRASES), chunks=4), stream_interval=0)
    chat_id = crew.start("hello there")
    before = store.stats.copy()
    crew.drain()
    spent = store.stats - before
    run = crew.record(chat_id, f"runs/{crew.state(chat_id)['latestDispatchId']}") or {}
    partials = run["steps"][0]["detail"]["streamWrites"]
    assert partials == 4
    # The turn without streaming costs 3 reads, 4 writes, 1 commit; each partial adds exactly one write.
    assert (spent.reads, spent.writes, spent.commits) == (3, 4 + partials, 1 + partials)
    assert crew.ai_texts(chat_id) == ['You said "hello there".']


def test_a_text_turn_and_a_tool_turn_cost_what_the_targets_allow() -> None:
    store = InMemoryChatStore()
    crew = Crew(store, "u", store.all_messages)
    chat_id = crew.start("add 1")
    crew.drain()
    for text, most, commits in (("hello", 10, 2), ("add 2", 14, 3)):
        before = store.stats.copy()
        crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=[text])
        crew.drain()
        spent = store.stats - before
        assert spent.reads + spent.writes <= most, (text, spent)
        assert spent.commits <= commits, (text, spent)
        # hearing a stop: the worker's listener is sent the chat once, then each version it commits
        assert spent.listened <= 1 + spent.commits, (text, spent)
    assert crew.state(chat_id)["data"] == {"sum": 3}


def test_duplicate_stale_and_out_of_order_deliveries_change_nothing(crew: Crew) -> None:
    chat_id = crew.start("add 1")
    first = crew.queue.pending[0]
    crew.drain()
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["add 2"])
    second = crew.queue.pending[0]
    crew.drain()
    before = (crew.state(chat_id), crew.messages(chat_id))
    for command in (second, first, second, first):
        crew.worker.handle(command)
    assert (crew.state(chat_id), crew.messages(chat_id)) == before
    assert crew.ai_texts(chat_id) == ['add: data is now {"sum": 1}', 'add: data is now {"sum": 3}']
    count("stale tasks delivered", 4)


def test_a_single_run_answers_once_and_takes_no_posts(crew: Crew) -> None:
    result = crew.chat.single_run(user_id=crew.user_id, assistant=CALC, data=Total(sum=1), messages=["add 4"])
    chat_id = result.chat_document.split("/", 1)[1]
    crew.drain()
    assert (crew.state(chat_id)["status"], crew.state(chat_id)["data"]) == ("complete", {"sum": 5})
    with pytest.raises(ChatError) as refused:
        crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["more"])
    assert refused.value.code is ErrorCode.FAILED_PRECONDITION


def test_hand_over_and_back_keep_each_assistants_outputs(crew: Crew) -> None:
    chat_id = crew.start("add 4 and switch", total=0)
    crew.drain()
    assert crew.state(chat_id)["config"]["assistantId"] == "half"
    assert crew.state(chat_id)["data"] == {"sum": 2}
    result = crew.chat.hand_back(user_id=crew.user_id, chat_id=chat_id, messages=["add 1"])
    assert result.status == "processing"
    crew.drain()
    state = crew.state(chat_id)
    assert (state["config"]["assistantId"], state["data"]) == ("calc", {"sum": 3})
    assert crew.ai_texts(chat_id) == [  # back, calc gets its own outputs then the app's message, acted on
        'halve: data is now {"sum": 2}',
        'add: data is now {"sum": 3}',
    ]


def test_closing_a_running_chat_abandons_its_run(crew: Crew) -> None:
    chat_id = crew.start("add 2 and multiply by 5")
    crew.drain()
    crew.chat.close_chat(user_id=crew.user_id, chat_id=chat_id)
    assert crew.resume(0) is True  # the continuation is recorded, the run is not continued
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("complete", {"sum": 2})
    assert crew.ai_texts(chat_id) == []
