"""The worker's capacity: one ``Capacity`` setting gives the worker functions' concurrency, CPU,
instances and their queues' dispatches (no servers; the deploy manifest is in test_deploy_manifest)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from firebase_functions import options
from pydantic import BaseModel, ValidationError

from firebase_ai_chat._once import once
from firebase_ai_chat.capacity import Capacity
from firebase_ai_chat.firebase.app import Assistant, ChatApp
from firebase_ai_chat.firebase.serving_threads import serve_threads, threads_now
from firebase_ai_chat.firebase.task_functions import worker_options
from firebase_ai_chat.tasks import CloudTasksQueue
from firebase_ai_chat.tasks.routed import RoutedQueue
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue


class Note(BaseModel):
    text: str = ""


def _app(**settings: object) -> ChatApp[Note]:
    assistants = [Assistant(name="helper", instructions="Help.")]
    return ChatApp(
        data=Note, assistants=assistants, worker="helperWorker", store=InMemoryChatStore(), queue=InMemoryTaskQueue(),
        **settings,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_default_serves_many_runs_per_instance_and_no_app_wide_handful() -> None:
    capacity = _app().capacity
    assert capacity.runs_per_instance >= 8
    assert capacity.max_concurrent_dispatches is not None and capacity.max_concurrent_dispatches >= 100
    settings = worker_options(capacity)
    assert settings["concurrency"] == capacity.runs_per_instance and settings["cpu"] == 1
    assert settings["max_instances"] == capacity.max_instances
    assert settings["rate_limits"] == options.RateLimits(
        max_concurrent_dispatches=capacity.runs_per_instance * capacity.max_instances  # type: ignore[operator]
    )


def test_dispatches_follow_instances_or_are_left_to_cloud_tasks() -> None:
    assert Capacity(runs_per_instance=10, max_instances=30).max_concurrent_dispatches == 300
    assert Capacity(runs_per_instance=10, max_instances=30, queues=4).runs_at_once == 1200
    unbounded = Capacity(max_instances=None)
    assert unbounded.max_concurrent_dispatches is None and unbounded.runs_at_once is None
    assert worker_options(unbounded)["rate_limits"] == options.RateLimits()  # Cloud Tasks' default
    single = worker_options(Capacity(runs_per_instance=1, memory_mb=None))
    assert "cpu" not in single and "memory" not in single and single["concurrency"] == 1


@pytest.mark.parametrize("bad", [{"runs_per_instance": 0}, {"queues": 0}, {"max_instances": 0}, {"threads": 4}])
def test_impossible_capacities_fail_when_the_module_loads(bad: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        Capacity(**bad)  # type: ignore[arg-type]


def test_concurrency_is_deprecated_and_keeps_its_meaning() -> None:
    with pytest.warns(DeprecationWarning, match="capacity"):
        app = _app(concurrency=6)
    assert app.capacity.max_concurrent_dispatches == 6 and app.capacity.runs_per_instance == 6
    with pytest.raises(ValueError, match="not both"):
        _app(concurrency=6, capacity=Capacity())


def test_several_queues_declare_one_worker_function_each_the_first_keeps_its_name() -> None:
    app = _app(capacity=Capacity(queues=3))
    assert app.worker_names == ["helperWorker", "helperWorker2", "helperWorker3"]
    assert list(app.worker_functions()) == app.worker_names
    with pytest.raises(ValueError, match="queue 4 of 3"):
        app.worker_function(4)


def test_the_process_serving_the_worker_gets_threads_for_its_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # one CPU: functions-framework would start 4 threads
    monkeypatch.setenv("FUNCTION_TARGET", "someCallable")
    assert not serve_threads(16, ["helperWorker"]) and threads_now() == 4
    monkeypatch.setenv("FUNCTION_TARGET", "helperWorker")
    assert serve_threads(16, ["helperWorker"]) and threads_now() == 16
    assert not serve_threads(8, ["helperWorker"]) and threads_now() == 16  # never lowered


def test_shared_parts_are_built_once_however_many_runs_ask_at_once() -> None:
    built: list[object] = []
    gate = threading.Barrier(8)

    class Parts:
        @once
        def client(self) -> object:
            time.sleep(0.05)  # a slow build (an SDK client): the other threads arrive meanwhile
            built.append(object())
            return built[-1]

    parts = Parts()

    def ask() -> object:
        gate.wait(timeout=30)
        return parts.client

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(lambda _: ask(), range(8)))
    assert len(built) == 1 and all(value is built[0] for value in seen)


def test_an_app_on_several_queues_enqueues_on_its_worker_functions_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "firebase_ai_chat.firebase.app_runtime.firebase_app", lambda: None
    )  # no Admin SDK app: nothing is sent
    assistants = [Assistant(name="helper", instructions="Help.")]
    several = ChatApp(data=Note, assistants=assistants, worker="helperWorker", region="europe-west1",
                      store=InMemoryChatStore(), capacity=Capacity(queues=3))  # fmt: skip
    assert isinstance(several.queue, RoutedQueue)
    assert [queue._function_name for queue in several.queue.queues] == [  # type: ignore[attr-defined]
        f"locations/europe-west1/functions/{name}" for name in ("helperWorker", "helperWorker2", "helperWorker3")
    ]
    one = ChatApp(data=Note, assistants=assistants, worker="helperWorker", store=InMemoryChatStore())
    assert isinstance(one.queue, CloudTasksQueue)  # one queue: as before, no routing


def test_an_app_on_several_queues_refuses_to_enqueue_when_a_worker_function_is_not_declared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "firebase_ai_chat.firebase.app_runtime.firebase_app", lambda: None
    )  # no Admin SDK app: nothing is sent
    assistants = [Assistant(name="helper", instructions="Help.")]
    app = ChatApp(data=Note, assistants=assistants, worker="helperWorker", store=InMemoryChatStore(),
                  capacity=Capacity(queues=3))  # fmt: skip
    app.worker_function(1)
    app.worker_function(3)  # queue 2's function forgotten: a third of the chats would wait forever
    with pytest.raises(RuntimeError, match="declares no helperWorker2: export every one"):
        app.queue  # noqa: B018
    app.worker_function(2)
    assert isinstance(app.queue, RoutedQueue)
