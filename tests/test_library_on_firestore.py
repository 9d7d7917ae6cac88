"""The library's run loop on the real Firestore emulator, with deliveries under the test's control.

The worker runs in this process on ``FirestoreChatStore``; tasks wait in an ``InMemoryTaskQueue``
until the test delivers them, so each scenario plays one exact interleaving of deliveries,
redeliveries and continuation resumes (the emulator's Cloud Tasks would pick one by chance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from google.cloud import firestore
from pydantic import BaseModel, Field

from conftest import count
from firebase_ai_chat import (
    AssistantChat,
    AssistantConfig,
    ChatCommand,
    ChatError,
    ChatStatus,
    ChatWorker,
    ContinuationScheduler,
    ErrorCode,
)
from firebase_ai_chat.engines.base import ToolSpec
from firebase_ai_chat.engines.offline import OfflineEngine, Phrase
from firebase_ai_chat.firestore import FirestoreChatStore
from firebase_ai_chat.store import ChatWrite, Loaded
from firebase_ai_chat.testing import InMemoryTaskQueue
from firebase_ai_chat.tools import Continuation, Dispatch, ToolContext, Toolset, ToolValue
from firebase_ai_chat.worker import Delivery

SECRET = "<html><body>Traceback: /srv/app/secret_module.py line 12</body></html>"


class Total(BaseModel):
    """The test chat's data."""

    sum: int | float = 0


class Number(BaseModel):
    """A finite number."""

    value: float = Field(allow_inf_nan=False)


def whole(value: float) -> int | float:
    """Whole numbers as ints, as the example app shows them."""
    return int(value) if float(value).is_integer() else value


NUMBER = r"(-?\d+(?:\.\d+)?)"
PHRASES = [
    Phrase(rf"add {NUMBER}", "add", lambda m: {"value": float(m[1])}),
    Phrase(rf"multiply by {NUMBER}", "multiply", lambda m: {"value": float(m[1])}),
    Phrase(r"halve", "halve"),
    Phrase(r"switch", "switch"),
    Phrase(r"explode", "explode"),
    Phrase(r"huge", "huge"),
    Phrase(r"crash", "crash"),
]
CALC = AssistantConfig(engine="offline", assistant_id="calc", dispatcher_id="calc")
HALF = AssistantConfig(engine="offline", assistant_id="half", dispatcher_id="half")


class RaisingDispatcher:
    """A hand-written dispatcher (no ``Toolset``) whose tool raises with a leaky message."""

    def specs(self) -> list[ToolSpec]:
        return [ToolSpec(name="crash", description="Crash", parameters={"type": "object", "properties": {}})]

    def dispatch(
        self, data: Mapping[str, Any], name: str, args: str, continuation: Continuation, chat: Any
    ) -> Dispatch:
        raise RuntimeError(SECRET)


class Crew:
    """The calculator-like crew of these tests, on the emulator's Firestore, delivered by hand."""

    def __init__(self, db: firestore.Client, user_id: str, store: FirestoreChatStore | None = None) -> None:
        self.db = db
        self.user_id = user_id
        self.store = store or FirestoreChatStore(db)
        self.queue = InMemoryTaskQueue()
        self.parked: list[tuple[str, float]] = []
        self.on_multiply: Callable[[str], None] | None = None
        self.on_add: Callable[[], None] | None = None
        self.scheduler = ContinuationScheduler(store=self.store, queue=self.queue)
        self.chat = AssistantChat(store=self.store, queue=self.queue)
        self.tools = self._calculator()
        self.worker = ChatWorker(
            store=self.store,
            queue=self.queue,
            engines={"offline": OfflineEngine(PHRASES)},
            dispatchers={"calc": self.tools, "half": self._halver(), "raising": RaisingDispatcher()},
        )

    def _calculator(self) -> Toolset[Total]:
        tools = Toolset(Total)

        @tools.tool(description="Add")
        def add(ctx: ToolContext[Total], args: Number) -> Total:
            if self.on_add is not None:
                self.on_add()
            return Total(sum=whole(ctx.data.sum + args.value))

        @tools.tool(description="Multiply, later")
        def multiply(ctx: ToolContext[Total], args: Number) -> Any:
            self.parked.append((ctx.continuation.id, args.value))
            if self.on_multiply is not None:
                self.on_multiply(ctx.continuation.id)
            return ctx.continuation.suspend()

        @tools.tool(description="Hand over to the halver")
        def switch(ctx: ToolContext[Total]) -> ToolValue:
            ctx.hand_over(HALF, messages=["halve"])
            return ToolValue(value="the halver takes over")

        @tools.tool(description="Raise")
        def explode(ctx: ToolContext[Total]) -> Total:
            raise RuntimeError(SECRET)

        @tools.tool(description="Return a number Firestore cannot store")
        def huge(ctx: ToolContext[Total]) -> Total:
            return Total(sum=2**70)

        return tools

    @staticmethod
    def _halver() -> Toolset[Total]:
        tools = Toolset(Total)

        @tools.tool(description="Halve the sum")
        def halve(ctx: ToolContext[Total]) -> Total:
            return Total(sum=whole(ctx.data.sum / 2))

        return tools

    def start(self, text: str, *, total: float = 0, assistant: AssistantConfig = CALC) -> str:
        """Create a chat with ``text`` (its run waits in the queue); returns the chat id."""
        result = self.chat.create(user_id=self.user_id, assistant=assistant, data=Total(sum=total), messages=[text])
        return result.chat_document.removeprefix("chats/")

    def drain(self) -> int:
        return self.queue.drain(self.worker)

    def multiplied(self, index: int) -> Callable[[dict[str, Any]], Any]:
        factor = self.parked[index][1]
        return self.tools.resumer("multiply", lambda data: Total(sum=whole(data.sum * factor)))

    def resume(self, index: int) -> bool:
        """Resume the ``index``-th parked multiplication with the product of the sum as it is now."""
        return self.scheduler.resume(self.parked[index][0], self.multiplied(index))

    def state(self, chat_id: str) -> dict[str, Any]:
        return self.db.document(f"chats/{chat_id}").get().to_dict()

    def ai_texts(self, chat_id: str) -> list[str]:
        messages = self.db.collection(f"chats/{chat_id}/messages").where(
            filter=firestore.FieldFilter("author", "==", "ai")
        )
        ordered = sorted(
            (m.to_dict() for m in messages.stream()), key=lambda m: (m["createdAt"], m["inBatchSortIndex"])
        )
        return [p for m in ordered for p in m["text"].split("\n\n")]

    def command(self, chat_id: str) -> ChatCommand:
        return ChatCommand(chat_id=chat_id, dispatch_id=self.state(chat_id)["latestDispatchId"])


@pytest.fixture
def crew(db: firestore.Client, user: Any) -> Crew:
    return Crew(db, user.uid)


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
        run = crew.db.document(f"chats/{chat}/runs/{crew.state(chat)['latestDispatchId']}").get().to_dict()
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
    assert len(list(crew.db.collection(f"chats/{chat_id}/messages").stream())) <= 21
    count("tool calls past the cap refused", 24)


class FlakyStore(FirestoreChatStore):
    """Fails one chosen update with a transient error (as a busy emulator does)."""

    def __init__(self, client: firestore.Client) -> None:
        super().__init__(client)
        self.fail_in: threading.Thread | None = None

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        if self.fail_in is threading.current_thread():
            self.fail_in = None
            raise ChatError(ErrorCode.UNAVAILABLE, "The chat is busy. Please try again.")
        return super().commit(base, write)


def test_a_failing_delivery_does_not_fail_a_run_another_delivery_advances(db: firestore.Client, user: Any) -> None:
    crew = Crew(db, user.uid, store=FlakyStore(db))
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


def test_queued_posts_end_a_run_with_a_documented_outcome(crew: Crew, db: firestore.Client) -> None:
    chat_id = crew.start("add 1")
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["add 2"])
    first = crew.queue.pending[0].dispatch_id
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 3}
    outcomes = [r.to_dict()["outcome"] for r in db.collection(f"chats/{chat_id}/runs").stream()]
    assert sorted(outcomes) == ["userInput", "userInput"]
    assert db.document(f"chats/{chat_id}/runs/{first}").get().to_dict()["outcome"] == "userInput"
    assert ChatStatus(crew.state(chat_id)["status"]) is ChatStatus.USER_INPUT
