"""The Cloud Functions a ``ChatApp`` declares: its callables, worker and task functions (a
mixin of ``ChatApp``; see ``app``; the event stream and the OpenAPI document are in ``http_functions``)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import flask
from firebase_functions import https_fn, options, tasks_fn
from pydantic import BaseModel

from ..capacity import Capacity
from ..errors import ErrorCode
from ..models import AssistantConfig, ChatDocumentInput, ChatMeta, ChatResult, MessageInput, PostMessageInput
from .admin import firestore_client
from .callables import Caller, handle_call, rejected_response
from .control_functions import ControlFunctions
from .http_functions import HttpFunctions
from .params import OPENAI_API_KEY
from .process import declared
from .serving_threads import serve_threads
from .specs import CALLABLE_ERRORS, CHAT_ERRORS, LIMIT_ERRORS, CallableSpec

if TYPE_CHECKING:
    from ..front.chat import AssistantChat
    from ..limits import Limits
    from ..runtime.worker import ChatWorker, Delivery
    from ..store.port import ChatStore
    from ..tasks.port import TaskQueue

logger = logging.getLogger("firebase_ai_chat.firebase.app")

DataT = TypeVar("DataT", bound=BaseModel)
PayloadT = TypeVar("PayloadT", bound=BaseModel)


class AppFunctions(HttpFunctions, ControlFunctions, Generic[DataT]):
    """Declares an app's Cloud Functions from its configuration (``ChatApp`` provides the attributes)."""

    data: type[DataT]
    region: str | None
    meta: ChatMeta | None
    max_attempts: int
    worker_name: str
    declared_workers: set[str]
    collection: str
    configs: dict[str, AssistantConfig]
    capacity: Capacity
    _specs: list[CallableSpec]

    @property
    def chat(self) -> AssistantChat:
        raise NotImplementedError

    def limits_for(self, caller: Caller) -> Limits | None:
        raise NotImplementedError

    @property
    def store(self) -> ChatStore:
        raise NotImplementedError

    @property
    def queue(self) -> TaskQueue:
        raise NotImplementedError

    @property
    def worker(self) -> ChatWorker:
        raise NotImplementedError

    @property
    def firestore(self) -> Any:
        """The Admin SDK's Firestore client (anonymous credentials on the emulators): for the app's own
        collections, e.g. in tools."""
        return firestore_client()

    def callable(
        self,
        name: str,
        payload: type[PayloadT],
        *,
        result: type[BaseModel] | None = None,
        errors: Sequence[ErrorCode | str] = (),
    ) -> Callable[[Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]], Callable[..., Any]]:
        """Decorates ``f(caller, payload)`` as the app's own callable ``name``, with the chat callables'
        handling: sign-in required, ``payload`` validated (readable ``invalid-argument``), a
        ``ChatError`` answered with its code, anything else ``internal`` (details in the log). ``f``
        returns a model (sent as its JSON) or a mapping; ``caller.claims`` holds the ID token's claims.
        ``result`` (the model ``f`` returns) and ``errors`` (the statuses of the ``ChatError``s it
        raises: ``ErrorCode.NOT_FOUND`` or its status name ``"NOT_FOUND"``) describe it in the app's
        OpenAPI document."""

        def register(function: Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]) -> Callable[..., Any]:
            summary = (function.__doc__ or name).strip().split("\n")[0]
            self._specs.append(
                CallableSpec(name, summary, payload, result, (*CALLABLE_ERRORS, *map(ErrorCode.of, errors)))
            )
            return self._callable(name, lambda request: handle_call(request, payload, function))

        return register

    def _callable(
        self, name: str, handler: Callable[[https_fn.CallableRequest[Any]], Any], **settings: Any
    ) -> Callable[..., Any]:
        handler = declared(name, self._checked(handler))  # App Check's replay protection, when asked
        on_call = https_fn.on_call(region=self.region, **self._call_options(), **settings)
        return _object_bodies_only(on_call(handler))

    def start_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{message, clientMessageId?}`` → ``{chatDocument, status, data}`` that starts a chat."""
        first = next(iter(self.configs.values()))

        def start(caller: Caller, payload: MessageInput) -> ChatResult:
            return self.chat.create(
                user_id=caller.uid,
                assistant=first,
                data=self.data(),
                messages=[payload.message],
                meta=self.meta,
                command_meta=command_meta,
                client_message_id=payload.client_message_id,
                limits=self.limits_for(caller),
            )

        errors = (*CALLABLE_ERRORS, *LIMIT_ERRORS)
        self._specs.append(CallableSpec(name, "Start a chat with a first message.", MessageInput, ChatResult, errors))
        return self._callable(name, lambda request: handle_call(request, MessageInput, start))

    def post_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{chatDocument, message, clientMessageId?}`` that posts to a chat."""

        def post(caller: Caller, payload: PostMessageInput) -> ChatResult:
            return self.chat.post_message(
                user_id=caller.uid,
                chat_id=payload.in_collection(self.store.collection),
                messages=[payload.message],
                command_meta=command_meta,
                client_message_id=payload.client_message_id,
                limits=self.limits_for(caller),
            )

        errors = (*CHAT_ERRORS, ErrorCode.RESOURCE_EXHAUSTED)
        self._specs.append(CallableSpec(name, "Post a message to a chat.", PostMessageInput, ChatResult, errors))
        return self._callable(name, lambda request: handle_call(request, PostMessageInput, post))

    def close_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{chatDocument}`` that closes a chat."""

        def close(caller: Caller, payload: ChatDocumentInput) -> ChatResult:
            chat_id = payload.in_collection(self.store.collection)
            return self.chat.close_chat(user_id=caller.uid, chat_id=chat_id, command_meta=command_meta)

        self._specs.append(CallableSpec(name, "Close a chat.", ChatDocumentInput, ChatResult, CHAT_ERRORS))
        return self._callable(name, lambda request: handle_call(request, ChatDocumentInput, close))

    def stop_function(self, name: str) -> Callable[..., Any]:
        """The callable ``{chatDocument}`` that stops the answer in progress (the owner only): the text
        so far is kept, marked ``stopped``; the chat returns to ``userInput``. A chat that is not
        ``processing`` is returned unchanged."""

        def stop(caller: Caller, payload: ChatDocumentInput) -> ChatResult:
            return self.chat.stop(user_id=caller.uid, chat_id=payload.in_collection(self.store.collection))

        self._specs.append(
            CallableSpec(name, "Stop the answer in progress.", ChatDocumentInput, ChatResult, CHAT_ERRORS)
        )
        return self._callable(name, lambda request: handle_call(request, ChatDocumentInput, stop))

    def _task_options(self) -> dict[str, Any]:
        retry = options.RetryConfig(max_attempts=self.max_attempts, min_backoff_seconds=1, max_backoff_seconds=30)
        return {"retry_config": retry, "region": self.region}

    @property
    def worker_names(self) -> list[str]:
        """The worker's functions, one per queue (``capacity.queues``): ``worker``, then ``{worker}2`` …"""
        return [self.worker_name, *(f"{self.worker_name}{n}" for n in range(2, self.capacity.queues + 1))]

    def worker_function(self, queue: int = 1) -> Callable[..., Any]:
        """The task-queue function that runs the assistants: for ``queue`` 1 (the default) named after
        ``worker``, for queue n ≥ 2 ``{worker}n``. Its concurrency, instances and its queue's
        dispatches come from ``capacity``; every one of them answers any chat's task."""
        if not 1 <= queue <= self.capacity.queues:
            raise ValueError(f"queue {queue} of {self.capacity.queues}: see ChatApp(capacity=Capacity(queues=...))")
        name = self.worker_names[queue - 1]
        self.declared_workers.add(name)

        def handler(request: tasks_fn.CallableRequest[Any]) -> None:
            from .task_handler import handle_task  # with the worker: imported by its first task

            handle_task(self.worker, request, max_attempts=self.max_attempts)

        serve_threads(self.capacity.runs_per_instance, self.worker_names)
        declared(name, handler)
        return tasks_fn.on_task_dispatched(
            **self._task_options(), **worker_options(self.capacity), timeout_sec=300, secrets=[OPENAI_API_KEY]
        )(handler)

    def worker_functions(self) -> dict[str, Callable[..., Any]]:
        """Every worker function by name (``globals().update(app.worker_functions())`` in ``main.py``)."""
        return {name: self.worker_function(index) for index, name in enumerate(self.worker_names, start=1)}

    def task_function(
        self, name: str, payload: type[PayloadT]
    ) -> Callable[[Callable[[PayloadT, Delivery], None]], Callable[..., Any]]:
        """Decorates ``f(payload, delivery)`` as the app's task-queue function ``name`` (an async tool's
        job: it resumes the call with ``app.resume``)."""

        def register(function: Callable[[PayloadT, Delivery], None]) -> Callable[..., Any]:
            def handler(request: tasks_fn.CallableRequest[Any]) -> None:
                from .task_handler import delivery_of

                function(payload.model_validate(request.data), delivery_of(request, max_attempts=self.max_attempts))

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


def _object_bodies_only(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` (an ``on_call`` function), answering a POST whose body is not a JSON object with
    ``invalid-argument`` (firebase-functions 0.6.0 fails on ``false`` or ``"x"`` with HTTP 500).
    ``functools.wraps`` keeps the endpoint's manifest for ``firebase deploy``."""

    @functools.wraps(endpoint)
    def guarded(request: flask.Request) -> Any:
        if request.method == "POST" and not isinstance(request.get_json(silent=True), dict):
            return rejected_response(
                ErrorCode.INVALID_ARGUMENT, 'The request body must be a JSON object: {"data": ...}.'
            )
        return endpoint(request)

    return guarded
