"""Shared fixtures: the emulators started by ``./emulator/exec``, users, a Firestore client, watchers."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from crew import Crew, FlakyStore
from fake_openai import FakeOpenAI, serve
from google.cloud import firestore

from firebase_ai_chat.firebase.admin import firestore_client
from firebase_ai_chat.models import ChatMessage
from firebase_ai_chat.runtime.streaming import STREAM_INTERVAL
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.testing import EmulatorClient, InMemoryChatStore, User

REQUIRED = (
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "FUNCTIONS_EMULATOR_URL",
)


@pytest.fixture(scope="session")
def client() -> EmulatorClient:
    """The app-like client; fails loudly when the emulators are not running."""
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"The emulators are not running ({', '.join(missing)} unset): run ./emulator/exec -- python -m pytest"
        )
    return EmulatorClient()


@pytest.fixture(scope="session")
def engine_mode() -> str:
    """``openai`` when the functions were started with ``OPENAI_API_KEY`` (the fake server's pass), else ``offline``."""
    return "openai" if os.environ.get("OPENAI_API_KEY") else "offline"


@pytest.fixture(scope="session", autouse=True)
def fake_openai(engine_mode: str) -> Iterator[FakeOpenAI | None]:
    """In the ``openai`` pass, the local fake OpenAI server at ``OPENAI_BASE_URL`` (loopback only)."""
    if engine_mode != "openai":
        yield None
        return
    url = urlsplit(os.environ.get("OPENAI_BASE_URL", ""))
    if url.hostname != "127.0.0.1" or url.port is None:
        pytest.fail(
            f"OPENAI_BASE_URL must point at the local fake server (http://127.0.0.1:PORT/v1), not {url.geturl()!r}"
        )
    from main import PHRASES

    fake = FakeOpenAI(phrases=PHRASES)
    try:
        server = serve(fake, url.port)
    except OSError as error:
        pytest.fail(f"cannot start the fake OpenAI server on port {url.port}: {error}")
    yield fake
    server.shutdown()


@pytest.fixture
def fake(fake_openai: FakeOpenAI | None) -> Iterator[FakeOpenAI]:
    """The session's fake server; every queued fault must be used by the test that queued it."""
    if fake_openai is None:
        pytest.fail("these tests need the OpenAI pass of tests/run (OPENAI_API_KEY and the fake server)")
    yield fake_openai
    fake_openai.stream_delay = 0.0
    left = list(fake_openai.faults)
    fake_openai.faults.clear()
    assert left == [], f"faults not consumed: {left}"


@pytest.fixture(scope="session")
def db(client: EmulatorClient) -> firestore.Client:
    """An admin Firestore client on the emulator (rules do not apply)."""
    return firestore_client()


@pytest.fixture
def user(client: EmulatorClient) -> User:
    """A fresh signed-in user."""
    return client.sign_up()


@pytest.fixture
def other_user(client: EmulatorClient) -> User:
    """A second signed-in user."""
    return client.sign_up()


@pytest.fixture(params=["memory", "firestore"])
def make_crew(request: pytest.FixtureRequest) -> Callable[..., Crew]:
    """``make_crew(flaky=False, engine=None, hooks=(), wrap=None)``: the test crew on the in-memory store,
    then on the Firestore emulator (the same scenario, both stores); ``wrap`` wraps the store."""

    def make(
        *,
        flaky: bool = False,
        engine: Any = None,
        hooks: Any = (),
        stream_interval: float = STREAM_INTERVAL,
        wrap: Callable[[Any], Any] | None = None,
    ) -> Crew:
        store: Any
        if request.param == "memory":
            memory = InMemoryChatStore()
            store, messages = memory, memory.all_messages
        else:
            database: firestore.Client = request.getfixturevalue("db")
            store = FirestoreChatStore(database, collection="crew_chats")  # any collection works

            def messages(chat_id: str) -> list[ChatMessage]:
                found = database.collection(f"crew_chats/{chat_id}/messages").stream()
                return [ChatMessage.model_validate(m.to_dict()) for m in found]

        user_id = f"user-{uuid.uuid4().hex[:8]}"
        options = {"engine": engine, "hooks": hooks, "stream_interval": stream_interval}
        if wrap is not None:
            store = wrap(store)
        return Crew(FlakyStore(store) if flaky else store, user_id, messages, **options)

    return make


@pytest.fixture
def crew(make_crew: Callable[..., Crew]) -> Crew:
    """The test crew (``tests/crew.py``), on each store."""
    return make_crew()


E = TypeVar("E", bound=Exception)


def at_once(calls: Sequence[Callable[[], Any]], refused: type[E]) -> tuple[list[Any], list[E]]:
    """Run ``calls`` in threads released together: the results of those that returned, and the
    ``refused`` errors of the others (any other exception fails the test)."""
    results: list[Any] = []
    errors: list[E] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results.append(call())
        except refused as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def wait_until(predicate: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


class ChatWatcher:
    """Listens to a chat document and its messages (``where userId == uid`` ordered by ``createdAt``)."""

    def __init__(self, db: firestore.Client, chat_document: str, uid: str) -> None:
        self._lock = threading.Lock()
        self.chat_document = chat_document
        self.statuses: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {}
        self.rereads = 0
        self._heard = time.monotonic()
        self._chat = db.document(chat_document)
        self._messages = (
            self._chat.collection("messages")
            .where(filter=firestore.FieldFilter("userId", "==", uid))
            .order_by("createdAt")
            .order_by("inBatchSortIndex")
        )
        self._watches = [self._chat.on_snapshot(self._on_chat), self._messages.on_snapshot(self._on_messages)]

    def reread_if_quiet(self, quiet: float = 3.0) -> None:
        """Read the chat and its messages directly when the listeners have said nothing for ``quiet`` s.

        Under load the Firestore emulator has sent a listener a corrupt frame ("Wire format was
        corrupt", docs/EMULATORS.md); the Python client's watch then stops for good and a test waited
        out its timeout although the chat had long moved on."""
        if time.monotonic() - self._heard < quiet:
            return
        state = self._chat.get().to_dict() or {}
        messages = [snapshot.to_dict() for snapshot in self._messages.get()]
        with self._lock:
            self.rereads += 1
            self._heard = time.monotonic()
            if state:
                self._on_chat_state(state)
            self.messages = messages

    def _on_chat_state(self, state: dict[str, Any]) -> None:
        self.state = state
        if not self.statuses or self.statuses[-1] != state["status"]:
            self.statuses.append(state["status"])

    def _on_chat(self, snapshots: list[Any], *_: Any) -> None:
        with self._lock:
            self._heard = time.monotonic()
            for snapshot in snapshots:
                if snapshot.exists:
                    self._on_chat_state(snapshot.to_dict())

    def _on_messages(self, snapshots: list[Any], *_: Any) -> None:
        with self._lock:
            self._heard = time.monotonic()
            self.messages = [snapshot.to_dict() for snapshot in snapshots]
            self.versions.extend(self.messages)

    def wait_for_status(self, status: str, *, timeout: float = 60) -> dict[str, Any]:
        """Wait until the chat has ``status``; return its document."""

        def reached() -> dict[str, Any] | None:
            self.reread_if_quiet()
            return self.state if self.state.get("status") == status else None

        return wait_until(
            reached,
            timeout=timeout,
            what=f"status {status} (seen {self.statuses})",
        )

    def wait_for_messages(self, count: int, *, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until at least ``count`` messages are listed and none is still streaming; return them."""

        def settled() -> list[dict[str, Any]] | None:
            self.reread_if_quiet()
            with self._lock:
                messages = list(self.messages)
            done = len(messages) >= count and not any(m.get("streaming") for m in messages)
            return messages if done else None

        return wait_until(settled, timeout=timeout, what=f"{count} settled messages (have {len(self.messages)})")

    def wait_answered(self, text: str, *, timeout: float = 60) -> dict[str, Any]:
        """Wait until the run that answers the user message ``text`` is over; return the chat document."""

        def answered() -> dict[str, Any] | None:
            self.reread_if_quiet()
            with self._lock:
                dispatches = [m["dispatchId"] for m in self.messages if m["author"] == "user" and m["text"] == text]
                state = dict(self.state)
                if any(m.get("streaming") for m in self.messages):
                    return None
                answered = any(
                    m["author"] == "ai" and m["dispatchId"] == state.get("latestDispatchId") for m in self.messages
                )
            if not dispatches or state.get("latestDispatchId") != dispatches[-1]:
                return None
            if state.get("status") == "failed":
                return state
            return state if answered and state.get("status") in ("userInput", "complete") else None

        return wait_until(answered, timeout=timeout, what=f"the answer to {text!r} (statuses {self.statuses})")

    def ai_texts(self) -> list[str]:
        """The paragraphs of the AI messages so far, in order.

        Paragraphs, not messages: the Responses API may answer with several messages where Chat
        Completions answers one message of several paragraphs; the user reads the same text.
        """
        with self._lock:
            return [p for m in self.messages if m["author"] == "ai" for p in m["text"].split("\n\n")]

    def wait_for_ai_texts(self, count: int, *, timeout: float = 60) -> list[str]:
        """Wait until at least ``count`` AI paragraphs are there and nothing is streaming; return them."""

        def settled() -> list[str] | None:
            self.reread_if_quiet()
            with self._lock:
                streaming = any(m.get("streaming") for m in self.messages)
            texts = self.ai_texts()
            return texts if len(texts) >= count and not streaming else None

        return wait_until(settled, timeout=timeout, what=f"{count} AI paragraphs (have {self.ai_texts()})")

    def close(self) -> None:
        """Stop listening."""
        for watch in self._watches:
            watch.unsubscribe()


@pytest.fixture
def watch(db: firestore.Client) -> Iterator[Callable[[str, str], ChatWatcher]]:
    """``watch(chat_document, uid)`` opens a ``ChatWatcher`` closed after the test."""
    watchers: list[ChatWatcher] = []

    def open_watcher(chat_document: str, uid: str) -> ChatWatcher:
        watcher = ChatWatcher(db, chat_document, uid)
        watchers.append(watcher)
        return watcher

    yield open_watcher
    for watcher in watchers:
        watcher.close()


def database_fingerprint(db: firestore.Client, *uids: str) -> list[tuple[str, Any]]:
    """Every chat and message of these users with its update time: equal fingerprints mean nothing was written."""
    documents: list[Any] = []
    for uid in uids:
        by_user = firestore.FieldFilter("userId", "==", uid)
        documents += db.collection("chats").where(filter=by_user).stream()
        documents += db.collection_group("messages").where(filter=by_user).stream()
    return sorted((snapshot.reference.path, snapshot.update_time) for snapshot in documents)


RELIABILITY: dict[str, int] = {}
"""Counters the reliability suite adds to; written to docs/RELIABILITY.md at the end of a passing run."""


def count(key: str, amount: int = 1) -> None:
    """Add ``amount`` to the reliability counter ``key``."""
    RELIABILITY[key] = RELIABILITY.get(key, 0) + amount


def pytest_testnodedown(node: Any, error: Any) -> None:
    """Under pytest-xdist: add a worker's counters to the controller's."""
    for key, value in getattr(node, "workeroutput", {}).get("reliability", {}).items():
        count(key, value)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write this engine's table into docs/RELIABILITY.md when the suite ran and passed (a pytest-xdist
    worker hands its counters to the controller instead)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["reliability"] = dict(RELIABILITY)
        return
    whole_suite = not session.config.option.keyword and session.config.args == [str(session.config.rootpath)]
    if not RELIABILITY or exitstatus != 0 or not (whole_suite or session.config.args == ["tests"]):
        return
    import re
    from pathlib import Path

    mode = os.environ.get("OPENAI_API_MODE", "responses") if os.environ.get("OPENAI_API_KEY") else "offline"
    mode = os.environ.get("RELIABILITY_TABLE", mode)  # a stage of its own (the sustained load) has its table
    rows = "\n".join(f"| {key} | {value} |" for key, value in sorted(RELIABILITY.items()))
    heading = "Sustained load (offline engine)" if mode == "load" else f"Engine: {mode}"
    table = f"<!-- {mode}:start -->\n### {heading}\n\n| what | count |\n|---|---|\n{rows}\n<!-- {mode}:end -->"
    path = Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md"
    text = path.read_text() if path.exists() else "# Reliability\n"
    pattern = re.compile(rf"<!-- {mode}:start -->.*?<!-- {mode}:end -->", re.DOTALL)
    text = pattern.sub(lambda _: table, text) if pattern.search(text) else f"{text.rstrip()}\n\n{table}\n"
    path.write_text(text)
