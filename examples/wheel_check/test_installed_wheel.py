"""An app's unit test on the installed ``firebase-ai-chat`` wheel: a counter assistant with one tool.

It imports only the package's public API, as an app developer would, and runs a whole chat turn on the
in-memory store and task queue with the offline engine: no server, no key, no network. ``tests/wheel``
runs it in a clean venv that holds nothing but the built wheel (no extras) and pytest. Run from the
source tree (``functions/`` on ``sys.path``, no installed distribution), the wheel check fails by design.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

import firebase_ai_chat
from firebase_ai_chat import AssistantChat, AssistantConfig, ChatStatus, ChatWorker
from firebase_ai_chat.engines.offline import OfflineEngine, Phrase
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue
from firebase_ai_chat.tools import ToolContext, Toolset

REPO = Path(__file__).resolve().parents[2]


class Counter(BaseModel):
    """The chat's data."""

    count: float = 0


class Amount(BaseModel):
    """The ``add`` tool's arguments."""

    value: float


def counter_tools() -> Toolset[Counter]:
    tools = Toolset(Counter)

    @tools.tool(description="Add a value to the counter")
    def add(ctx: ToolContext[Counter], args: Amount) -> Counter:
        return Counter(count=ctx.data.count + args.value)

    return tools


COUNTER = AssistantConfig(engine="offline", assistant_id="counter", dispatcher_id="counter")


def test_a_chat_turn_runs_the_tool_and_answers() -> None:
    store = InMemoryChatStore()
    queue = InMemoryTaskQueue()
    chat = AssistantChat(store=store, queue=queue)
    worker = ChatWorker(
        store=store,
        queue=queue,
        engines={"offline": OfflineEngine([Phrase(r"add (\d+)", "add", lambda m: {"value": float(m[1])})])},
        dispatchers={"counter": counter_tools()},
    )

    created = chat.create(user_id="user-1", assistant=COUNTER, data=Counter(count=1), messages=["add 2"])
    chat_id = created.chat_document.removeprefix("chats/")
    assert created.status is ChatStatus.PROCESSING
    assert queue.drain(worker) == 1

    state = store.chat_now(chat_id)
    assert state is not None
    assert state.status is ChatStatus.USER_INPUT
    assert state.data == {"count": 3.0}
    messages = store.all_messages(chat_id)
    assert [(m.author, m.text) for m in messages] == [("user", "add 2"), ("ai", 'add: data is now {"count": 3.0}')]


def test_the_installed_wheel_is_what_got_imported() -> None:
    assert firebase_ai_chat.__version__ == importlib.metadata.version("firebase-ai-chat")
    module = Path(firebase_ai_chat.__file__).resolve()
    assert not module.is_relative_to(REPO / "functions"), f"imported from the source tree: {module}"
    assert (module.parent / "py.typed").is_file()


def test_the_in_memory_pieces_import_without_requests() -> None:
    """``firebase_ai_chat.testing`` without the ``testing`` extra: ``requests`` is needed only by ``EmulatorClient``."""
    code = (
        "import sys; sys.modules['requests'] = None\n"  # as if requests were not installed
        "from firebase_ai_chat.testing import EmulatorClient, InMemoryChatStore, InMemoryTaskQueue\n"
        "InMemoryChatStore(); InMemoryTaskQueue()\n"
        "try:\n"
        "    EmulatorClient()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    env = {"GCLOUD_PROJECT": "p", "FUNCTIONS_EMULATOR_URL": "u", "FIREBASE_AUTH_EMULATOR_HOST": "a"}
    env["FIRESTORE_EMULATOR_HOST"] = "f"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "firebase-ai-chat[testing]" in done.stdout
