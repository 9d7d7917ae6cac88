"""Per-user limits, cost caps and the global switch: the core, on the in-memory store and on the Firestore
emulator (the ``make_crew`` fixture runs each scenario on both). Tasks are delivered by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from crew import CALC, PHRASES, Crew, Total
from support import at_once, count

import main
from firebase_ai_chat import ChatError, ErrorCode
from firebase_ai_chat.engines.base import Engine, EngineReply, EngineRequest
from firebase_ai_chat.engines.offline import OfflineEngine, estimate_tokens
from firebase_ai_chat.firebase.app import Assistant, Caller, ChatApp
from firebase_ai_chat.front.chat import AssistantChat
from firebase_ai_chat.limits import PAUSED, Allowance, Limits, Price, reached, reset_text
from firebase_ai_chat.records import EngineContextRecord, RunState, context_path, run_path
from firebase_ai_chat.runtime import stop_committed
from firebase_ai_chat.runtime.spending import Spending
from firebase_ai_chat.runtime.worker import ChatWorker
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue
from firebase_ai_chat.usage import Gate, UsageDocument, read_usage, usage_path

USAGE = "crewUsage"
EVENING = datetime(2026, 11, 30, 20, 48, tzinfo=UTC)


class Clock:
    """A clock a test moves."""

    def __init__(self, now: datetime = EVENING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Switch:
    """The global switch, as a test flips it."""

    def __init__(self) -> None:
        self.on = False

    def __call__(self) -> bool:
        return self.on


def limited(
    crew: Crew,
    *,
    clock: Clock | None = None,
    switch: Switch | None = None,
    prices: dict[str, Price] | None = None,
    engine: Engine | None = None,
) -> Crew:
    """``crew`` with a gate on its front API and a metered worker."""
    clock, switch = clock or Clock(), switch or Switch()
    crew.chat = AssistantChat(
        store=crew.store, queue=crew.queue, gate=Gate(USAGE, clock=clock), paused=switch, committed_stop=stop_committed
    )
    spending = Spending(USAGE, prices=prices or {}, paused=switch, clock=clock)
    crew.worker = ChatWorker(
        store=crew.store,
        queue=crew.queue,
        engines={"offline": engine or OfflineEngine(PHRASES)},
        spending=spending,
        dispatchers={"calc": crew.tools},
    )
    return crew


class FailsSecondCall:
    """The offline engine, failing (permanently) from its second call on."""

    name = "offline"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, request: EngineRequest, *, on_text: Any = None) -> EngineReply:
        self.calls += 1
        if self.calls > 1:
            raise ChatError(ErrorCode.FAILED_PRECONDITION, "The model refused.", permanent=True)
        return OfflineEngine(PHRASES).run(request)


def usage(crew: Crew) -> UsageDocument:
    found = crew.store.read_outside(usage_path(USAGE, crew.user_id)).data
    assert found is not None
    return read_usage(found, crew.user_id)


def start(crew: Crew, text: str, limits: Limits, **options: Any) -> str:
    result = crew.chat.create(
        user_id=crew.user_id, assistant=CALC, data=Total(), messages=[text], limits=limits, **options
    )
    return result.chat_document.split("/", 1)[1]


def post(crew: Crew, chat_id: str, text: str, limits: Limits, **options: Any) -> None:
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=[text], limits=limits, **options)


def refused(action: Callable[[], Any]) -> ChatError:
    with pytest.raises(ChatError) as caught:
        action()
    return caught.value


def slowed(crew: Crew) -> Crew:
    """``crew`` whose store pauses between a load and what follows, so racing calls interleave (every
    call reads before any writes) on the in-memory store too."""
    store: Any = crew.store
    load = store.load

    def slow_load(*args: Any, **kwargs: Any) -> Any:
        loaded = load(*args, **kwargs)
        time.sleep(0.02)
        return loaded

    store.load = slow_load
    return crew


def race(calls: list[Callable[[], Any]]) -> tuple[int, list[ChatError]]:
    """Run ``calls`` at once; the number that succeeded and the errors of the others."""
    results, errors = at_once(calls, ChatError)
    return len(results), errors


DAILY_10 = Limits(tier="guest", day=Allowance(posts=10))
TEN_MESSAGES = "You have reached your daily limit of 10 messages. It resets at 00:00 UTC, in 3 h 12 min."


def test_twenty_new_chats_at_once_with_a_limit_of_ten_accept_exactly_ten(make_crew: Callable[..., Crew]) -> None:
    crew = slowed(limited(make_crew()))
    accepted, errors = race([lambda i=i: start(crew, f"add {i}", DAILY_10) for i in range(20)])
    assert accepted == 10
    assert [(e.code, e.message) for e in errors] == [(ErrorCode.RESOURCE_EXHAUSTED, TEN_MESSAGES)] * 10
    assert len(crew.queue.pending) == 10, "a refused post enqueued a run"
    count("posts over a limit refused (nothing stored)", len(errors))
    tally = usage(crew).day(EVENING)
    assert (tally.posts, tally.chats) == (10, 10)
    assert usage(crew).limits == DAILY_10


def test_twenty_posts_at_once_to_one_chat_store_only_what_the_limit_allows(make_crew: Callable[..., Crew]) -> None:
    crew = slowed(limited(make_crew()))
    chat_id = start(crew, "hello", DAILY_10)
    accepted, errors = race([lambda i=i: post(crew, chat_id, f"add {i}", DAILY_10) for i in range(20)])
    assert accepted == 9 and len(errors) == 11
    assert all(e.code is ErrorCode.RESOURCE_EXHAUSTED for e in errors)
    user_texts = [m.text for m in crew.messages(chat_id) if m.author == "user"]
    assert len(user_texts) == 10, "a refused post was stored"
    crew.drain()
    assert crew.state(chat_id)["status"] == "userInput"


def test_new_chats_count_apart_and_a_retried_call_counts_once(crew: Crew) -> None:
    limited(crew)
    two_chats = Limits(day=Allowance(chats=2, posts=5))
    start(crew, "hello", two_chats, client_message_id="key-1")
    start(crew, "hello", two_chats, client_message_id="key-1")  # the client's retry: replayed
    chat_id = start(crew, "hi", two_chats)
    error = refused(lambda: start(crew, "again", two_chats))
    assert error.code is ErrorCode.RESOURCE_EXHAUSTED
    assert error.message.startswith("You have reached your daily limit of 2 new chats. It resets at 00:00 UTC")
    post(crew, chat_id, "more", two_chats)
    assert (usage(crew).day(EVENING).chats, usage(crew).day(EVENING).posts) == (2, 3)


def test_a_limit_resets_with_the_day_and_old_days_are_dropped(crew: Crew) -> None:
    clock = Clock()
    limited(crew, clock=clock)
    one = Limits(day=Allowance(posts=1), month=Allowance(posts=2))
    start(crew, "hello", one)
    assert refused(lambda: start(crew, "hello", one)).message == (
        "You have reached your daily limit of 1 messages. It resets at 00:00 UTC, in 3 h 12 min."
    )
    clock.now = EVENING + timedelta(hours=4)  # 1 December, 00:48
    start(crew, "hello", one)
    assert list(usage(crew).days) == ["2026-12-01"] and list(usage(crew).months) == ["2026-12"]
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    start(crew, "hello", one)
    assert refused(lambda: start(crew, "hello", one)).message == (
        "You have reached your monthly limit of 2 messages. It resets on 1 January at 00:00 UTC, in 29 d 15 h."
    )


def test_reset_texts_read_well() -> None:
    assert reset_text("day", datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)) == "It resets at 00:00 UTC, in 1 min."
    assert reset_text("month", datetime(2026, 12, 31, 22, 0, tzinfo=UTC)) == (
        "It resets on 1 January at 00:00 UTC, in 2 h 0 min."
    )
    cost = Limits(day=Allowance(cost=0.5), currency="EUR")
    assert reached("cost", "day", cost, EVENING) == (
        "You have used your daily allowance of spending (0.50 EUR). It resets at 00:00 UTC, in 3 h 12 min."
    )


def test_users_and_tiers_count_apart(make_crew: Callable[..., Crew]) -> None:
    guest, member = limited(make_crew()), limited(make_crew())
    for index in range(10):
        start(guest, f"add {index}", DAILY_10)
    assert refused(lambda: start(guest, "one more", DAILY_10)).code is ErrorCode.RESOURCE_EXHAUSTED
    plenty = Limits(tier="user", day=Allowance(posts=100))
    for index in range(11):
        start(member, f"add {index}", plenty)
    assert usage(member).day(EVENING).posts == 11 and usage(member).limits == plenty


def test_a_run_that_crosses_the_token_limit_ends_its_turn_with_a_message(make_crew: Callable[..., Crew]) -> None:
    clock = Clock()
    crew = limited(make_crew(), clock=clock)
    tokens = Limits(day=Allowance(tokens=10))
    chat_id = start(crew, "add 2 and add 3", tokens)
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 5}), "the tools of the last model call ran"
    message = "You have used your daily allowance of tokens. It resets at 00:00 UTC, in 3 h 12 min."
    assert crew.ai_texts(chat_id) == [message]
    run = RunState.model_validate(crew.record(chat_id, run_path(state["latestDispatchId"])))
    assert run.turn == 1 and run.billed_tokens == run.input_tokens + run.output_tokens > 10
    assert usage(crew).day(EVENING).tokens == run.billed_tokens
    owed = EngineContextRecord.model_validate(crew.record(chat_id, context_path("calc")))
    assert [item.kind for item in owed.pending] == ["tool", "tool"], "the tool outputs wait for the next run"
    error = refused(lambda: post(crew, chat_id, "add 1", tokens))
    assert (error.code, error.message) == (ErrorCode.RESOURCE_EXHAUSTED, message)
    clock.now += timedelta(days=1)
    post(crew, chat_id, "thanks", tokens)
    crew.drain()
    assert crew.ai_texts(chat_id)[1:] == [
        'add: data is now {"sum": 2}',
        'add: data is now {"sum": 5}',
        'You said "thanks".',
    ]


def test_a_suspended_run_is_billed_once_across_its_deliveries(make_crew: Callable[..., Crew]) -> None:
    crew = limited(make_crew())
    chat_id = start(crew, "add 1 and multiply by 2", Limits(day=Allowance(tokens=10_000)))
    crew.drain()
    suspended = RunState.model_validate(crew.record(chat_id, run_path(crew.state(chat_id)["latestDispatchId"])))
    assert usage(crew).day(EVENING).tokens == suspended.billed_tokens > 0
    crew.worker.handle(crew.command(chat_id))  # a redelivery while suspended bills nothing more
    assert crew.resume(0) is True
    crew.drain()
    crew.worker.handle(crew.command(chat_id))  # stale
    count("runs redelivered without billing twice")
    run = RunState.model_validate(crew.record(chat_id, run_path(crew.state(chat_id)["latestDispatchId"])))
    assert run.billed_tokens == run.input_tokens + run.output_tokens > suspended.billed_tokens
    assert usage(crew).day(EVENING).tokens == run.billed_tokens
    assert usage(crew).month(EVENING).tokens == run.billed_tokens


def test_a_failed_run_bills_the_tokens_it_used(make_crew: Callable[..., Crew]) -> None:
    crew = limited(make_crew(), engine=FailsSecondCall())
    chat_id = start(crew, "add 2", Limits(day=Allowance(tokens=10_000)))
    crew.drain()
    state = crew.state(chat_id)
    assert state["status"] == "failed" and state["data"] == {"sum": 2}
    run = RunState.model_validate(crew.record(chat_id, run_path(state["latestDispatchId"])))
    assert run.outcome == "failed" and run.billed_tokens == run.input_tokens + run.output_tokens > 0
    assert usage(crew).day(EVENING).tokens == run.billed_tokens


def test_tokens_billed_before_any_counted_post_are_kept(crew: Crew) -> None:
    chat_id = crew.start("hello")  # limits were off when this chat was posted to
    limited(crew)
    crew.drain()
    billed = usage(crew).day(EVENING).tokens
    assert billed > 0
    post(crew, chat_id, "again", Limits(day=Allowance(posts=5)))
    stored = crew.store.read_outside(usage_path(USAGE, crew.user_id)).data or {}
    assert stored["userId"] == crew.user_id
    assert (usage(crew).day(EVENING).tokens, usage(crew).day(EVENING).posts) == (billed, 1)


def test_cost_is_counted_from_the_price_table_and_capped(crew: Crew) -> None:
    limited(crew, prices={"offline": Price(input=100_000, output=200_000)})
    capped = Limits(day=Allowance(cost=1.0), currency="EUR")
    chat_id = start(crew, "hello", capped)
    crew.drain()
    run = RunState.model_validate(crew.record(chat_id, run_path(crew.state(chat_id)["latestDispatchId"])))
    expected = (run.input_tokens * 100_000 + run.output_tokens * 200_000) / 1_000_000
    assert usage(crew).day(EVENING).cost == pytest.approx(expected) and run.billed_cost == pytest.approx(expected)
    assert expected >= 1.0
    error = refused(lambda: post(crew, chat_id, "hello", capped))
    assert error.message.startswith("You have used your daily allowance of spending (1.00 EUR).")


def test_the_switch_refuses_posts_and_ends_a_run_before_its_next_model_call(make_crew: Callable[..., Crew]) -> None:
    switch = Switch()
    crew = limited(make_crew(), switch=switch)
    unlimited = Limits()
    chat_id = start(crew, "add 1", unlimited)
    switch.on = True
    crew.drain()
    state = crew.state(chat_id)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 0})
    assert crew.ai_texts(chat_id) == [PAUSED]
    error = refused(lambda: post(crew, chat_id, "add 2", unlimited))
    assert (error.code, error.message) == (ErrorCode.UNAVAILABLE, PAUSED)
    assert refused(lambda: start(crew, "hello", unlimited)).code is ErrorCode.UNAVAILABLE
    switch.on = False
    post(crew, chat_id, "add 2", unlimited)
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 3}, "the input of the paused turn was kept"


def test_limits_cost_a_turn_one_read_and_a_write_on_each_side() -> None:
    spent = {}
    for name in ("without", "with"):
        store = InMemoryChatStore()
        crew = Crew(store, "u", store.all_messages)
        limits = None
        if name == "with":
            limited(crew)
            limits = Limits(day=Allowance(posts=100, tokens=100_000))
        chat_id = start(crew, "add 1", limits) if limits else crew.start("add 1")
        crew.drain()
        before = store.stats.copy()
        crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["add 2"], limits=limits)
        crew.drain()
        spent[name] = store.stats - before
    extra = spent["with"] - spent["without"]
    # the post reads and writes the usage document; the run is metered on what the post wrote (its
    # command carries it) and bills in its last commit: one read, two writes, no commit more
    assert (extra.reads, extra.writes, extra.commits) == (1, 2, 0), extra


def test_the_offline_engine_estimates_tokens() -> None:
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2


def calculator_app(store: InMemoryChatStore) -> ChatApp[main.CalculatorData]:
    """The calculator's assistants and limits on a ``ChatApp`` with the in-memory store and queue."""
    assistant = Assistant(name="calculator", instructions="Sum.", tools=main.calculator_tools)
    return ChatApp(
        data=main.CalculatorData,
        assistants=[assistant],
        worker="w",
        store=store,
        queue=InMemoryTaskQueue(),
        engine=OfflineEngine(main.PHRASES),
        limits=main.limits_for,
    )


GUEST = Caller("g", {"firebase": {"sign_in_provider": "anonymous"}})


def test_the_calculators_tiers_come_from_the_callers_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUEST_DAILY_POSTS", "3")
    monkeypatch.setenv("USER_DAILY_TOKENS", "1000")
    store = InMemoryChatStore()
    app = calculator_app(store)
    user = Caller("u", {"firebase": {"sign_in_provider": "password"}})
    pro = Caller("p", {"plan": "pro", "firebase": {"sign_in_provider": "password"}})
    assert (app.limits_for(GUEST).tier, app.limits_for(GUEST).day.posts) == ("guest", 3)
    assert (app.limits_for(user).tier, app.limits_for(user).day.tokens) == ("user", 1000)
    assert (app.limits_for(pro).day.posts, app.limits_for(pro).day.tokens) == (None, 10_000)
    calculator, limits = app.config("calculator"), app.limits_for(GUEST)

    def start_guest() -> Any:
        return app.chat.create(user_id="g", assistant=calculator, data={}, messages=["add 1"], limits=limits)

    for _ in range(3):
        start_guest()
    assert refused(start_guest).code is ErrorCode.RESOURCE_EXHAUSTED
    assert app.queue.drain(app.worker) == 3
    assert (store.outside_now("chatUsage/g") or {})["limits"]["tier"] == "guest"


def test_the_chat_paused_param_stops_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    store = InMemoryChatStore()
    app = calculator_app(store)
    guest, calculator = app.limits_for(GUEST), app.config("calculator")
    started = app.chat.create(user_id="g", assistant=calculator, data={}, messages=["add 1"], limits=guest)
    monkeypatch.setenv("CHAT_PAUSED", "true")
    error = refused(lambda: app.chat.create(user_id="g", assistant=calculator, data={}, messages=["x"], limits=guest))
    assert (error.code, error.message) == (ErrorCode.UNAVAILABLE, PAUSED)
    app.queue.drain(app.worker)
    chat_id = started.chat_document.split("/", 1)[1]
    assert [m.text for m in store.all_messages(chat_id) if m.author == "ai"] == [PAUSED]
    monkeypatch.setenv("CHAT_PAUSED", "false")
    app.chat.post_message(user_id="g", chat_id=chat_id, messages=["add 2"], limits=guest)
    app.queue.drain(app.worker)
    assert store.chat_now(chat_id).data == {"sum": 3}  # type: ignore[union-attr]
