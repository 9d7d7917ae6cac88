"""Shared fixtures: the emulators started by ``./emulator/exec``, users, a Firestore client, crews, watchers
(the helpers they use are in ``support.py``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from crew import Crew, FlakyStore
from fake_gemini import FakeGemini
from fake_gemini import serve as serve_gemini
from fake_openai import FakeOpenAI, serve
from google.cloud import firestore
from support import RELIABILITY, ChatWatcher, FakeModel, count

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
    """The engine the functions were started with: ``gemini`` (the Gemini passes: ``GEMINI_BASE_URL`` at the
    fake Gemini server), ``openai`` (``OPENAI_API_KEY``: the fake OpenAI server's passes), else ``offline``."""
    if os.environ.get("GEMINI_BASE_URL"):
        return "gemini"
    return "openai" if os.environ.get("OPENAI_API_KEY") else "offline"


def _local_server(variable: str, path: str, start: Callable[[int], Any]) -> Any:
    """``start(port)`` at the loopback port of ``variable``'s URL (the functions call it there)."""
    url = urlsplit(os.environ.get(variable, ""))
    if url.hostname != "127.0.0.1" or url.port is None:
        pytest.fail(
            f"{variable} must point at the local fake server (http://127.0.0.1:PORT{path}), not {url.geturl()!r}"
        )
    try:
        return start(url.port)
    except OSError as error:
        pytest.fail(f"cannot start the fake server of {variable} on port {url.port}: {error}")


@pytest.fixture(scope="session", autouse=True)
def fake_openai(engine_mode: str) -> Iterator[FakeOpenAI | None]:
    """In the ``openai`` passes, the local fake OpenAI server at ``OPENAI_BASE_URL`` (loopback only)."""
    if engine_mode != "openai":
        yield None
        return
    from main import PHRASES

    stateless = os.environ.get("OPENAI_STORE") == "false"  # and sparse: as llama-server is
    fake = FakeOpenAI(phrases=PHRASES, stateless=stateless, sparse=stateless)
    server = _local_server("OPENAI_BASE_URL", "/v1", lambda port: serve(fake, port))
    yield fake
    server.shutdown()


@pytest.fixture(scope="session", autouse=True)
def fake_gemini(engine_mode: str) -> Iterator[FakeGemini | None]:
    """In the Gemini passes, the local fake Gemini server at ``GEMINI_BASE_URL`` (loopback only); the
    Vertex AI leg's credentials (``GOOGLE_APPLICATION_CREDENTIALS``) get their tokens from it too."""
    if engine_mode != "gemini":
        yield None
        return
    from main import PHRASES

    fake = FakeGemini(phrases=PHRASES)
    server = _local_server("GEMINI_BASE_URL", "", lambda port: serve_gemini(fake, port))
    yield fake
    server.shutdown()


@pytest.fixture
def fake(fake_openai: FakeOpenAI | None, fake_gemini: FakeGemini | None) -> Iterator[FakeModel]:
    """The session's fake model server (OpenAI or Gemini); every queued fault must be used by the test
    that queued it."""
    server: FakeModel | None = fake_openai or fake_gemini
    if server is None:
        pytest.fail("these tests need a model server pass of tests/run (the fake OpenAI or Gemini server)")
    yield server
    server.stream_delay = 0.0
    left = list(server.faults)
    server.faults.clear()
    assert left == [], f"faults not consumed: {left}"


@pytest.fixture
def fake_model(fake_openai: FakeOpenAI | None, fake_gemini: FakeGemini | None) -> FakeModel | None:
    """The session's fake model server, if any (``None`` with the offline engine)."""
    return fake_openai or fake_gemini


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
