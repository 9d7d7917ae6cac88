"""The task-queue functions a ``ChatApp`` declares (``TaskFunctions``): its worker (one function per
queue, sized by ``Capacity``) and the app's own task functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from firebase_functions import options, tasks_fn
from pydantic import BaseModel

from ..capacity import Capacity
from .app_runtime import AppRuntime
from .params import secret_params
from .process import declared
from .serving_threads import serve_threads
from .settings import AppSettings

if TYPE_CHECKING:
    from ..runtime.worker import Delivery

PayloadT = TypeVar("PayloadT", bound=BaseModel)


class TaskFunctions:
    """Declares an app's task-queue functions from its settings, on its runtime."""

    def __init__(self, settings: AppSettings, runtime: AppRuntime) -> None:
        self._settings = settings
        self._runtime = runtime

    def _task_options(self) -> dict[str, Any]:
        settings = self._settings
        retry = options.RetryConfig(max_attempts=settings.max_attempts, min_backoff_seconds=1, max_backoff_seconds=30)
        return {"retry_config": retry, "region": settings.region}

    def worker_function(self, queue: int = 1) -> Callable[..., Any]:
        """The task-queue function that runs the assistants: for ``queue`` 1 (the default) named after
        ``worker``, for queue n ≥ 2 ``{worker}n``. Its concurrency, instances and its queue's
        dispatches come from ``capacity``; every one of them answers any chat's task."""
        if not 1 <= queue <= self._settings.capacity.queues:
            raise ValueError(
                f"queue {queue} of {self._settings.capacity.queues}: see ChatApp(capacity=Capacity(queues=...))"
            )
        name = self._settings.worker_names[queue - 1]
        self._runtime.declared_workers.add(name)

        def handler(request: tasks_fn.CallableRequest[Any]) -> None:
            from .task_handler import handle_task  # with the worker: imported by its first task

            handle_task(self._runtime.worker, request, max_attempts=self._settings.max_attempts)

        serve_threads(self._settings.capacity.runs_per_instance, self._settings.worker_names)
        declared(name, handler)
        return tasks_fn.on_task_dispatched(
            **self._task_options(),
            **worker_options(self._settings.capacity),
            timeout_sec=300,
            secrets=secret_params(self._settings.secrets),
        )(handler)

    def worker_functions(self) -> dict[str, Callable[..., Any]]:
        """Every worker function by name (``globals().update(app.worker_functions())`` in ``main.py``)."""
        return {name: self.worker_function(index) for index, name in enumerate(self._settings.worker_names, start=1)}

    def task_function(
        self, name: str, payload: type[PayloadT]
    ) -> Callable[[Callable[[PayloadT, Delivery], None]], Callable[..., Any]]:
        """Decorates ``f(payload, delivery)`` as the app's task-queue function ``name`` (an async tool's
        job: it resumes the call with ``app.resume``)."""

        def register(function: Callable[[PayloadT, Delivery], None]) -> Callable[..., Any]:
            def handler(request: tasks_fn.CallableRequest[Any]) -> None:
                from .task_handler import delivery_of

                function(
                    payload.model_validate(request.data), delivery_of(request, max_attempts=self._settings.max_attempts)
                )

            declared(name, handler)
            return tasks_fn.on_task_dispatched(**self._task_options())(handler)

        return register


def worker_options(capacity: Capacity) -> dict[str, Any]:
    """The worker functions' options from ``capacity``, as firebase-functions takes them (``capacity.py``)."""
    settings: dict[str, Any] = {
        "concurrency": capacity.runs_per_instance,
        "max_instances": capacity.max_instances,
        "min_instances": capacity.min_instances or None,
        "rate_limits": options.RateLimits(max_concurrent_dispatches=capacity.max_concurrent_dispatches),
    }
    if capacity.runs_per_instance > 1:
        settings["cpu"] = 1  # concurrency > 1 needs a whole CPU on 2nd gen
    if capacity.memory_mb is not None:
        settings["memory"] = capacity.memory_mb
    return settings
