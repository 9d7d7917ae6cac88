"""Fault injection through the emulators: duplicate and stale deliveries, crashes, concurrency, bad input.

Every scenario checks what the user sees: no message lost or duplicated, no tool applied twice,
no chat stuck. The counts go to docs/RELIABILITY.md (see ``conftest.count``).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore
from support import ChatWatcher, count, database_fingerprint, wait_until

from firebase_ai_chat import AssistantConfig, ChatStatus
from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.models import Author, ChatMessage, ChatState
from firebase_ai_chat.runtime.watchdog import Verdict, Watchdog
from firebase_ai_chat.store.documents import ChatWrite
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.tasks import CloudTasksQueue
from firebase_ai_chat.tasks.watchdog_timer import WATCHDOG_DEADLINE
from firebase_ai_chat.testing import CallableError, EmulatorClient, User
from firebase_ai_chat.testing.faults import POINTS, CrashOnMarker

Watch = Callable[[str, str], ChatWatcher]

SCENARIO = "add 5 and multiply by 3"
EXPECTED_TEXTS = ['add: data is now {"sum": 5}', 'multiply: data is now {"sum": 15}']


def lost_and_duplicated(texts: list[str], expected: list[str]) -> tuple[int, int]:
    """How many expected texts are missing, and how many appear more than once."""
    seen = Counter(texts)
    lost = sum(1 for text in expected if seen[text] == 0)
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    return lost, duplicated


def check_scenario_outcome(watcher: ChatWatcher, db: firestore.Client, chat: str) -> None:
    """The scenario ended exactly once: sum 15, two answers, one continuation."""
    state = watcher.wait_for_status("userInput")
    texts = watcher.wait_for_ai_texts(2)
    lost, duplicated = lost_and_duplicated(texts, EXPECTED_TEXTS)
    count("messages lost", lost)
    count("messages duplicated", duplicated)
    assert (lost, duplicated) == (0, 0), texts
    assert texts == EXPECTED_TEXTS
    assert state["data"] == {"sum": 15}, "a tool was applied twice or not at all"
    assert len(list(db.collection(f"{chat}/continuations").stream())) == 1
    user_messages = [m for m in watcher.messages if m["author"] == "user"]
    assert [m["text"] for m in user_messages] == [SCENARIO]
    assert not any(m.get("streaming") for m in watcher.messages)


def deliver_until_acknowledged(client: EmulatorClient, payload: dict[str, Any], attempts: int = 5) -> int:
    """Deliver a task again after a retryable failure (5xx), as Cloud Tasks would; returns the deliveries.

    Each is sent as a first attempt: these are extra copies of a task whose own delivery goes on.
    """
    for attempt in range(attempts):
        status = client.deliver_task("calculator", payload).status_code
        if status == 200:
            return attempt + 1
        assert status >= 500, f"a delivery was refused with {status}"
    pytest.fail(f"the task was never acknowledged in {attempts} deliveries")


def command_of(db: firestore.Client, chat: str) -> dict[str, Any]:
    state = db.document(chat).get().to_dict()
    return ChatCommand(chat_id=chat.removeprefix("chats/"), dispatch_id=state["latestDispatchId"]).to_document()


def test_duplicate_and_stale_deliveries_change_nothing(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch
) -> None:
    chat = client.call("calculate", {"message": SCENARIO}, user=user)["chatDocument"]
    first = command_of(db, chat)
    watcher = watch(chat, user.uid)
    with ThreadPoolExecutor(2) as pool:  # the same task delivered again, concurrently with the real one
        answers = list(pool.map(lambda _: deliver_until_acknowledged(client, first), range(3)))
    count("tasks delivered twice (or more)", sum(answers))
    assert all(1 <= deliveries <= 5 for deliveries in answers), answers
    check_scenario_outcome(watcher, db, chat)

    client.call("postToCalculate", {"chatDocument": chat, "message": "add 1"}, user=user)
    watcher.wait_answered("add 1")
    second = command_of(db, chat)
    before = database_fingerprint(db, user.uid)
    for payload in (second, first, second, first):  # late and out of order
        deliver_until_acknowledged(client, payload)
    count("tasks delivered twice (or more)", 4)
    count("stale tasks delivered", 2)
    assert database_fingerprint(db, user.uid) == before
    assert watcher.ai_texts() == [*EXPECTED_TEXTS, 'add: data is now {"sum": 16}']


@pytest.fixture(scope="module")
def crash() -> CrashOnMarker:
    directory = os.environ.get("CHAT_FAULTS_DIR")
    if not directory:
        pytest.fail("CHAT_FAULTS_DIR is not set: run the suite with tests/run (it arms crash injection)")
    return CrashOnMarker(directory)


CRASH_POINTS = [pytest.param(p, marks=pytest.mark.openai) if p == "mid_stream" else p for p in POINTS]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_worker_killed_at_a_step_boundary_recovers_on_redelivery(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch, crash: CrashOnMarker, point: str
) -> None:
    marker = crash.arm(user.uid, point)
    chat = client.call("calculate", {"message": SCENARIO}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    check_scenario_outcome(watcher, db, chat)
    assert not marker.exists(), f"the worker never reached {point}"
    count("worker crashes injected")


def test_many_posts_to_one_chat_are_all_answered_in_order(client: EmulatorClient, user: User, watch: Watch) -> None:
    chat = client.call("calculate", {"message": "m0"}, user=user)["chatDocument"]
    posts = [f"m{i}" for i in range(1, 21)]
    with ThreadPoolExecutor(len(posts)) as pool:  # 20 posts fired at once (bench/turn_costs.py times them)
        list(
            pool.map(
                lambda text: client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user), posts
            )
        )
    count("concurrent posts", len(posts))
    watcher = watch(chat, user.uid)
    watcher.wait_for_status("userInput", timeout=90)
    ai_texts = watcher.wait_for_ai_texts(21)
    user_texts = [m["text"] for m in watcher.messages if m["author"] == "user"]
    expected_user = ["m0", *posts]
    lost, duplicated = lost_and_duplicated(user_texts, expected_user)
    ai_lost, ai_duplicated = lost_and_duplicated(ai_texts, [f'You said "{t}".' for t in expected_user])
    count("messages lost", lost + ai_lost)
    count("messages duplicated", duplicated + ai_duplicated)
    assert (lost, duplicated, ai_lost, ai_duplicated) == (0, 0, 0, 0), (user_texts, ai_texts)
    assert ai_texts == [f'You said "{t}".' for t in user_texts], "answers out of order"
    assert len(user_texts) == 21


def test_twenty_tool_posts_at_once_all_apply(client: EmulatorClient, user: User, watch: Watch) -> None:
    chat = client.call("calculate", {"message": "what is the sum"}, user=user)["chatDocument"]
    posts = [f"add {value}" for value in range(1, 21)]
    with ThreadPoolExecutor(len(posts)) as pool:  # queued posts are answered together by the next run
        list(
            pool.map(
                lambda text: client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user), posts
            )
        )
    watcher = watch(chat, user.uid)

    def settled() -> bool:
        watcher.reread_if_quiet()
        state = watcher.state
        return state.get("status") == "userInput" and state.get("data") == {"sum": 210}

    wait_until(settled, timeout=120, what="the sum of 1..20 (210)")
    assert not [text for text in watcher.ai_texts() if "Not run" in text]
    count("concurrent tool posts applied", len(posts))


def test_many_chats_in_parallel_on_one_queue(client: EmulatorClient, user: User, watch: Watch) -> None:
    texts = [f"add {n}" for n in range(1, 9)]
    with ThreadPoolExecutor(8) as pool:
        chats = list(
            pool.map(lambda text: client.call("calculate", {"message": text}, user=user)["chatDocument"], texts)
        )
    count("chats run in parallel", len(chats))
    for n, chat in enumerate(chats, start=1):
        state = watch(chat, user.uid).wait_for_status("userInput", timeout=90)
        assert state["data"] == {"sum": n}


def _stuck_chat(db: firestore.Client, user: User) -> ChatCommand:
    """A chat left ``processing`` with a user message and no task (as after a lost enqueue): its
    first watchdog."""
    from main import CALCULATOR

    store = FirestoreChatStore(db)
    chat_id, dispatch_id = store.new_id(), f"stuck{os.urandom(6).hex()}"
    state = ChatState(
        user_id=user.uid,
        status=ChatStatus.PROCESSING,
        data={"sum": 2},
        config=AssistantConfig.model_validate(CALCULATOR.model_dump()).model_dump(),
        latest_dispatch_id=dispatch_id,
    )
    message = ChatMessage(user_id=user.uid, author=Author.USER, text="add 3", dispatch_id=dispatch_id)
    store.update(chat_id, lambda _: (ChatWrite(state=state, messages={store.new_id(): message}), None))
    return ChatCommand(chat_id=chat_id, dispatch_id=dispatch_id, action="watchdog", watch=0)


def _watchdog_later(db: firestore.Client, **settings: Any) -> Watchdog:
    """The watchdog as it runs when its task arrives, a deadline after the chat's last commit
    (the re-enqueued run goes through the emulators' task queue to the deployed worker)."""
    later = datetime.now(UTC) + WATCHDOG_DEADLINE + timedelta(seconds=5)
    return Watchdog(store=FirestoreChatStore(db), queue=CloudTasksQueue("calculator"), clock=lambda: later, **settings)


def test_stuck_chat_is_re_enqueued_by_its_watchdog(db: firestore.Client, user: User, watch: Watch) -> None:
    watchdog = _stuck_chat(db, user)
    assert _watchdog_later(db).check(watchdog).verdict is Verdict.REQUEUED
    state = watch(f"chats/{watchdog.chat_id}", user.uid).wait_for_status("userInput")
    assert state["data"] == {"sum": 5}
    count("stuck chats recovered")


def test_chat_stuck_for_good_is_failed_by_its_watchdog(db: firestore.Client, user: User) -> None:
    watchdog = _stuck_chat(db, user)
    assert _watchdog_later(db, max_requeues=0).check(watchdog).verdict is Verdict.FAILED
    state = db.document(f"chats/{watchdog.chat_id}").get().to_dict()
    assert state["status"] == "failed"
    assert state["error"]["code"] == "deadline-exceeded"
    assert state["error"]["message"]
    count("stuck chats failed")


ODD_TEXT = ["", " ", "\u200b", "\u202e", "\x00", "😀" * 10, "a" * 4001, "\ud800", "x" * 100_000, "\n\t"]
ODD_VALUES: list[Any] = [None, 0, -1, 3.5, True, [], {}, ["x"], {"a": 1}, "chats/", "chats/a/b", "users/x", "../x"]


def fuzz_payloads(seed: int, n: int) -> list[tuple[str, Any]]:
    """Malformed payloads for every callable: wrong types, missing/extra fields, odd strings, bad paths."""
    rng = random.Random(seed)
    pool = ODD_TEXT + ODD_VALUES
    cases: list[tuple[str, Any]] = []
    for _ in range(n):
        name = rng.choice(["calculate", "postToCalculate", "closeCalculate", "stopCalculate"])
        shape = rng.randrange(5)
        if shape == 0:
            cases.append((name, rng.choice(ODD_VALUES)))
        elif name == "calculate":
            payload = {"message": rng.choice(pool)} if shape != 1 else {"text": "add 1"}
            if shape == 4:
                payload["extra"] = rng.choice(pool)
            cases.append((name, payload))
        else:
            payload = {"chatDocument": rng.choice(pool[1:] + ODD_VALUES)}
            if name == "postToCalculate":
                payload["message"] = rng.choice(pool) if shape != 2 else "add 1"
            cases.append((name, payload))
    return cases


def test_fuzzed_callables_answer_the_right_error_and_write_nothing(
    client: EmulatorClient, db: firestore.Client, user: User
) -> None:
    before = database_fingerprint(db, user.uid)
    statuses: Counter[str] = Counter()
    cases = fuzz_payloads(seed=20261123, n=150)
    for name, payload in cases:
        if (
            name == "calculate"
            and isinstance(payload, dict)
            and list(payload) == ["message"]
            and isinstance(payload["message"], str)
            and payload["message"].strip()
            and len(payload["message"]) <= 4000
            and "\ud800" not in payload["message"]
        ):
            continue  # a valid start: not malformed
        with pytest.raises(CallableError) as raised:
            client.call(name, payload, user=user)
        statuses[raised.value.status] += 1
        assert raised.value.status == "INVALID_ARGUMENT", (name, payload, raised.value)
    count("malformed inputs tried", sum(statuses.values()))
    assert statuses["INVALID_ARGUMENT"] > 100
    assert database_fingerprint(db, user.uid) == before


def test_other_users_and_unknown_chats_are_refused_and_unchanged(
    client: EmulatorClient, db: firestore.Client, user: User, other_user: User, watch: Watch
) -> None:
    chat = client.call("calculate", {"message": "add 1"}, user=user)["chatDocument"]
    watch(chat, user.uid).wait_for_status("userInput")
    before = database_fingerprint(db, user.uid, other_user.uid)
    tried = 0
    for name, payload, who, status in [
        ("postToCalculate", {"chatDocument": chat, "message": "add 1"}, other_user, "PERMISSION_DENIED"),
        ("closeCalculate", {"chatDocument": chat}, other_user, "PERMISSION_DENIED"),
        ("postToCalculate", {"chatDocument": "chats/unknown-chat", "message": "x"}, user, "NOT_FOUND"),
        ("closeCalculate", {"chatDocument": "chats/unknown-chat"}, user, "NOT_FOUND"),
        ("calculate", {"message": "add 1"}, None, "UNAUTHENTICATED"),
    ]:
        with pytest.raises(CallableError) as raised:
            client.call(name, payload, user=who)
        assert raised.value.status == status
        tried += 1
    count("malformed inputs tried", tried)
    assert database_fingerprint(db, user.uid, other_user.uid) == before


@pytest.mark.openai
def test_no_api_key_in_firestore_or_logs(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch
) -> None:
    key = os.environ["OPENAI_API_KEY"]
    chat = client.call("calculate", {"message": SCENARIO}, user=user)["chatDocument"]
    watch(chat, user.uid).wait_for_status("userInput")
    scanned = 0
    for collection in ("chats", "messages", "runs", "contexts", "continuations", "completions", "sweeps"):
        for snapshot in db.collection_group(collection).stream():
            scanned += 1
            assert key not in str(snapshot.to_dict()), snapshot.reference.path
    assert scanned > 0
    log = Path(os.environ["EMULATOR_LOG"]).read_text(errors="replace")
    assert key not in log
    count("documents scanned for secrets", scanned)


def test_crash_before_the_follow_up_run_is_enqueued_recovers_on_retry(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch, crash: CrashOnMarker
) -> None:
    """A run ends with a post queued behind it, commits, and dies before enqueuing the next run."""
    from main import CALCULATOR

    store = FirestoreChatStore(db)
    chat_id, first, queued = store.new_id(), f"first{os.urandom(6).hex()}", f"queued{os.urandom(6).hex()}"
    state = ChatState(
        user_id=user.uid,
        status=ChatStatus.PROCESSING,
        data={"sum": 0},
        config=CALCULATOR.model_dump(),
        latest_dispatch_id=first,
        next_dispatch_id=queued,
    )
    messages = {
        store.new_id(): ChatMessage(user_id=user.uid, author=Author.USER, text="add 2", dispatch_id=first),
        store.new_id(): ChatMessage(user_id=user.uid, author=Author.USER, text="add 3", dispatch_id=queued),
    }
    store.update(chat_id, lambda _: (ChatWrite(state=state, messages=messages), None))
    command = ChatCommand(chat_id=chat_id, dispatch_id=first).to_document()

    crash.arm(user.uid, "after_finish")
    assert client.deliver_task("calculator", command).status_code >= 500, "the worker did not die"
    after_crash = db.document(f"chats/{chat_id}").get().to_dict()
    assert (after_crash["status"], after_crash["latestDispatchId"]) == ("processing", queued)
    count("worker crashes injected")

    assert client.deliver_task("calculator", command, attempt=1).status_code == 200  # Cloud Tasks' retry
    watcher = watch(f"chats/{chat_id}", user.uid)
    state_after = watcher.wait_for_status("userInput")
    assert state_after["data"] == {"sum": 5}
    texts = watcher.wait_for_ai_texts(2)
    lost, duplicated = lost_and_duplicated(texts, ['add: data is now {"sum": 2}', 'add: data is now {"sum": 5}'])
    count("messages lost", lost)
    count("messages duplicated", duplicated)
    assert (lost, duplicated) == (0, 0), texts
