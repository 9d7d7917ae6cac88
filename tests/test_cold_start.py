"""Cold start: importing the functions' ``main.py`` (every cold instance of every function does, and
``firebase deploy`` to discover them) loads nothing that is only needed when a function first runs.

Checked by what a fresh process has imported, not by timing (``bench/cold_start.py`` measures it).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

import firebase_ai_chat

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"

LAZY = (
    # SDKs a function imports on first use: Firestore (with gRPC and protobuf), Cloud Tasks, OpenAI
    "openai",
    "google.cloud.firestore",
    "google.cloud.firestore_v1",
    "grpc",
    "google.protobuf",
    "firebase_admin.firestore",
    "firebase_admin.functions",
    "httpx_sse",
    # the library's run-time parts: the worker and run loop, the front API, the event stream, the
    # OpenAPI document, the adapters, the OpenAI engines, and the test doubles (never in production)
    "firebase_ai_chat.runtime.worker",
    "firebase_ai_chat.runtime.run_loop",
    "firebase_ai_chat.records",
    "firebase_ai_chat.front.chat",
    "firebase_ai_chat.runtime.continuations",
    "firebase_ai_chat.store.port",
    "firebase_ai_chat.usage",
    "firebase_ai_chat.firebase.sse",
    "firebase_ai_chat.events.log",
    "firebase_ai_chat.firebase.events_request",
    "firebase_ai_chat.firebase.openapi",
    "firebase_ai_chat.runtime.watchdog",
    "firebase_ai_chat.firebase.task_handler",
    "firebase_ai_chat.store.firestore",
    "firebase_ai_chat.tasks.cloud_tasks",
    "firebase_ai_chat.engines.openai.client",
    "firebase_ai_chat.engines.openai.chat",
    "firebase_ai_chat.engines.openai.responses",
    "firebase_ai_chat.client",
    "firebase_ai_chat.testing",
)

EMULATOR_VARIABLES = ("FUNCTIONS_EMULATOR", "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")


def _imported_by_main(**env: str) -> dict[str, list[str]]:
    """What a fresh process has loaded after ``import main`` (run as ``firebase deploy`` would)."""
    probe = (
        "import json, sys, main\n"
        "lazy = sys.argv[1:]\n"
        "loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in lazy))\n"
        "built = sorted(\n"
        "    f'{m.__name__}.{name}' for m in list(sys.modules.values())\n"
        "    if getattr(m, '__name__', '').startswith('firebase_ai_chat')\n"
        "    for name, value in vars(m).items()\n"
        "    if isinstance(value, type) and value.__module__ == m.__name__\n"
        "    and getattr(value, '__pydantic_complete__', False)\n"
        ")\n"
        "print(json.dumps({'loaded': loaded, 'built': built}))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key not in EMULATOR_VARIABLES}
    environment.pop("CHAT_FAULTS_DIR", None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", probe, *LAZY], cwd=FUNCTIONS, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("emulated", [False, True], ids=["deployed", "emulator"])
def test_importing_main_loads_nothing_that_waits_for_first_use(emulated: bool) -> None:
    env = {"FUNCTIONS_EMULATOR": "true"} if emulated else {}
    assert _imported_by_main(**env)["loaded"] == []


def test_the_library_builds_at_import_only_the_models_main_instantiates() -> None:
    # pydantic's validators and serializers of the library's models are built on first use
    # (``defer_build``); main.py's ChatMeta, its Capacity and the assistants' AssistantConfig are made at import.
    built = _imported_by_main()["built"]
    assert built == [
        "firebase_ai_chat.capacity.Capacity",
        "firebase_ai_chat.models.AssistantConfig",
        "firebase_ai_chat.models.ChatMeta",
    ]


def test_every_name_of_the_package_resolves_lazily() -> None:
    for name in firebase_ai_chat.__all__:
        value = getattr(firebase_ai_chat, name)
        if name != "__version__":
            assert value.__name__ == name, name
    assert set(firebase_ai_chat.__all__) <= set(dir(firebase_ai_chat))
    assert firebase_ai_chat.ChatApp.__module__ == "firebase_ai_chat.firebase.app"
    with pytest.raises(AttributeError):
        _ = firebase_ai_chat.NoSuchName


def test_every_model_of_the_library_builds() -> None:
    # Built on first use, a model whose annotations name something its module cannot resolve (say, a
    # type imported under TYPE_CHECKING only) would fail at its first use in production: build them all.
    models: set[type[BaseModel]] = set()
    for info in pkgutil.walk_packages(firebase_ai_chat.__path__, "firebase_ai_chat."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == info.name:
                models.add(value)
    assert len(models) > 40
    for model in models:
        model.model_rebuild()
        assert model.__pydantic_complete__, model
        model.model_json_schema()


THREADS = """
import json, threading
from firebase_ai_chat.models import ChatConfig, PostMessageInput

barrier, results = threading.Barrier(16), []

def first_use(n):
    barrier.wait()
    try:
        post = PostMessageInput.model_validate({"chatDocument": "chats/c1", "message": f"add {n}"})
        config = ChatConfig.model_validate(
            {"engine": "app", "assistantId": "a", "dispatcherId": "a", "stack": [], "model": "m"}
        )
        results.append((post.message == f"add {n}" and post.chat_document == "chats/c1", config.model))
    except Exception as error:
        results.append((repr(error), None))

threads = [threading.Thread(target=first_use, args=(n,)) for n in range(16)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(json.dumps(sorted(set(results), key=str)))
"""


def test_models_first_used_by_many_threads_at_once_validate_as_themselves() -> None:
    # A deferred model's first use builds it (pydantic's model_rebuild is not thread-safe): sixteen
    # threads use two at once, the first time; none may validate with another model's validator (a
    # subclass checked by its parent's would refuse the fields the parent lacks). Each process is fresh.
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", THREADS], cwd=FUNCTIONS, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [[True, "m"]]
