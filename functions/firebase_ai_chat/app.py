"""``ChatApp``: declare the data, the assistants and their tools once; get the Cloud Functions from it.

```python
app = ChatApp(data=Cart, assistants=[shop, support], worker="shopWorker", offline=PHRASES)
startShopping = app.start_function("startShopping")
postToShop = app.post_function("postToShop")
closeShop = app.close_function("closeShop")
shopWorker = app.worker_function()
sweepStuckChats = app.sweeper_function()
```

Everything is checked when the module loads: assistant names, hand-offs to
assistants that exist, one toolset per assistant. The engine is chosen when
the worker starts: the OpenAI engines when the ``OPENAI_API_KEY`` secret has a
value (the Responses API, or Chat Completions with ``OPENAI_API_MODE=chat``),
the offline engine on the emulators when it has none, and a loud failure
when a deployed worker has no key (never a silent offline answer). The
callables and the worker run in ``region``; the worker's task queue is
named after ``worker``; chats live in ``collection`` (``chats``), and clients
name them ``{collection}/{chatId}``.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from firebase_functions import https_fn, options, params, scheduler_fn, tasks_fn
from pydantic import BaseModel

from .callables import Caller, handle_call
from .chat import AssistantChat
from .continuations import ContinuationScheduler
from .engines.base import Engine
from .engines.offline import OfflineEngine, Phrase
from .errors import ChatError, ErrorCode
from .firebase_app import firebase_app, firestore_client
from .firestore import FirestoreChatStore
from .hooks import CompletionEvent
from .local_runtime import fault_hooks, steady_local_runtime
from .models import CHATS, AssistantConfig, ChatDocumentInput, ChatMeta, ChatResult, MessageInput, PostMessageInput
from .store import ChatStore
from .structured_logs import structured_logging
from .stuck import StuckChatSweeper
from .task_handler import delivery_of, handle_task
from .task_queue import TaskQueue
from .tasks import CloudTasksQueue, enqueue_task
from .tool_calls import Handoffs
from .tools import CompletedResult, Resumer, Toolset
from .worker import ChatWorker, Delivery

logger = logging.getLogger(__name__)

DataT = TypeVar("DataT", bound=BaseModel)
PayloadT = TypeVar("PayloadT", bound=BaseModel)

OPENAI_API_KEY = params.SecretParam("OPENAI_API_KEY")
"""The model key: a Secret Manager secret when deployed, ``functions/.secret.local`` on the emulators."""
OPENAI_MODEL = params.StringParam("OPENAI_MODEL", default="gpt-4.1-mini")
"""The model of assistants that name none (``functions/.env.local`` on the emulators)."""
OPENAI_API_MODE = params.StringParam("OPENAI_API_MODE", default="responses")
"""``chat`` for Chat Completions (any OpenAI-compatible server at ``OPENAI_BASE_URL``); else the Responses API."""
OPENAI_STREAM = params.StringParam("OPENAI_STREAM", default="1")
"""``0`` turns streaming off."""

APP_ENGINE = "app"
"""The engine name chats of a ``ChatApp`` store: the worker resolves it to the engine chosen at start."""


@dataclass(frozen=True)
class Assistant:
    """One assistant: its instructions, its tools, and where it may hand the chat."""

    name: str
    instructions: str
    tools: Toolset[Any] | None = None
    model: str | None = None
    handoffs: tuple[str, ...] = ()
    can_hand_back: bool = False
    context_tokens: int | None = None


def choose_engine(offline: Sequence[Phrase]) -> Engine:
    """The engine for this process (see the module): OpenAI with a key, offline on the emulators."""
    if OPENAI_API_KEY.value:
        stream = OPENAI_STREAM.value.lower() not in ("0", "false", "no")
        if OPENAI_API_MODE.value == "chat":
            from .engines.openai_chat import OpenAIChatEngine

            return OpenAIChatEngine(stream=stream)
        from .engines.openai_responses import OpenAIResponsesEngine

        return OpenAIResponsesEngine(stream=stream)
    if os.environ.get("FUNCTIONS_EMULATOR") == "true":
        return OfflineEngine(offline)
    raise ChatError(
        ErrorCode.FAILED_PRECONDITION, "The OPENAI_API_KEY secret is not set for the worker.", permanent=True
    )


class _Named:
    """An engine under the name ``APP_ENGINE``, created on first use (a missing key fails the run)."""

    name = APP_ENGINE

    def __init__(self, offline: Sequence[Phrase]) -> None:
        self._offline = offline

    @functools.cached_property
    def engine(self) -> Engine:
        return choose_engine(self._offline)

    def run(self, request: Any, *, on_text: Any = None) -> Any:
        return self.engine.run(request, on_text=on_text)


class ChatApp(Generic[DataT]):
    """An app's chats: its data model, its assistants (the first answers new chats), its functions."""

    def __init__(
        self,
        *,
        data: type[DataT],
        assistants: Sequence[Assistant],
        worker: str,
        offline: Sequence[Phrase] = (),
        region: str | None = None,
        meta: ChatMeta | None = None,
        on_complete: Callable[[CompletionEvent], None] | None = None,
        max_attempts: int = 3,
        concurrency: int = 6,
        collection: str = CHATS,
        store: ChatStore | None = None,
        queue: TaskQueue | None = None,
        engine: Engine | None = None,
    ) -> None:
        """``store``, ``queue`` and ``engine`` replace Firestore, Cloud Tasks and the engine chosen at
        start: for an app's unit tests (``firebase_ai_chat.testing``'s in-memory store and queue)."""
        self._store, self._queue, self._engine = store, queue, engine
        self.collection = collection
        self.data = data
        self.worker_name = worker
        self.region = region
        self.meta = meta
        self.max_attempts = max_attempts
        self._concurrency = concurrency
        self._offline = list(offline)
        self._on_complete = on_complete
        self._assistants = {assistant.name: assistant for assistant in assistants}
        _check(assistants)
        self.configs = {a.name: _config(a) for a in assistants}

    def config(self, name: str) -> AssistantConfig:
        """The stored configuration of assistant ``name``."""
        return self.configs[name]

    @functools.cached_property
    def chat(self) -> AssistantChat:
        """The front API on Firestore and this app's task queue."""
        return AssistantChat(store=self.store, queue=self.queue)

    @functools.cached_property
    def store(self) -> ChatStore:
        """The store: Firestore unless the app was given one."""
        return self._store or FirestoreChatStore(firestore_client(), collection=self.collection)

    @functools.cached_property
    def queue(self) -> TaskQueue:
        """The worker's task queue: Cloud Tasks unless the app was given one."""
        return self._queue or CloudTasksQueue(self._queue_name(self.worker_name), app=firebase_app())

    @functools.cached_property
    def worker(self) -> ChatWorker:
        """The worker, with the engine chosen for this process."""
        return ChatWorker(
            store=self.store,
            queue=self.queue,
            engines={APP_ENGINE: self._engine or _Named(self._offline)},
            dispatchers={name: a.tools for name, a in self._assistants.items() if a.tools is not None},
            hooks=fault_hooks(),
            on_complete=self._on_complete,
            assistants=list(self.configs.values()),
            handoffs={
                a.name: Handoffs(to=frozenset(a.handoffs), back=a.can_hand_back) for a in self._assistants.values()
            },
        )

    @functools.cached_property
    def continuations(self) -> ContinuationScheduler:
        """Resumes suspended tool calls (from any function of the app)."""
        return ContinuationScheduler(store=self.store, queue=self.queue)

    def resume(self, continuation_id: str, result: CompletedResult | Resumer) -> bool:
        """Resume a suspended tool call (see ``ContinuationScheduler.resume``)."""
        return self.continuations.resume(continuation_id, result)

    def enqueue(self, function: str, payload: BaseModel, *, task_id: str) -> None:
        """Enqueue ``payload`` for the app's task function ``function`` (named ``task_id``: no duplicate)."""
        document = payload.model_dump(mode="json", by_alias=True)
        enqueue_task(self._queue_name(function), document, task_id=task_id.replace(".", "_"), app=firebase_app())

    def _queue_name(self, function: str) -> str:
        return f"locations/{self.region}/functions/{function}" if self.region else function

    @property
    def firestore(self) -> Any:
        """The Admin SDK's Firestore client (anonymous credentials on the emulators): for the app's own
        collections, e.g. in tools."""
        return firestore_client()

    def callable(
        self, name: str, payload: type[PayloadT]
    ) -> Callable[[Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]], Callable[..., Any]]:
        """Decorates ``f(caller, payload)`` as the app's own callable ``name``, with the chat callables'
        handling: sign-in required, ``payload`` validated (readable ``invalid-argument``), a
        ``ChatError`` answered with its code, anything else ``internal`` (details in the log). ``f``
        returns a model (sent as its JSON) or a mapping; ``caller.claims`` holds the ID token's claims."""

        def register(function: Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]) -> Callable[..., Any]:
            return self._callable(name, lambda request: handle_call(request, payload, function))

        return register

    def _callable(self, name: str, handler: Callable[[https_fn.CallableRequest[Any]], Any]) -> Callable[..., Any]:
        _prepare_process()
        handler.__name__ = handler.__qualname__ = name
        return https_fn.on_call(region=self.region)(handler)

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
            )

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
            )

        return self._callable(name, lambda request: handle_call(request, PostMessageInput, post))

    def close_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable ``{chatDocument}`` that closes a chat."""

        def close(caller: Caller, payload: ChatDocumentInput) -> ChatResult:
            chat_id = payload.in_collection(self.store.collection)
            return self.chat.close_chat(user_id=caller.uid, chat_id=chat_id, command_meta=command_meta)

        return self._callable(name, lambda request: handle_call(request, ChatDocumentInput, close))

    def _task_options(self) -> dict[str, Any]:
        retry = options.RetryConfig(max_attempts=self.max_attempts, min_backoff_seconds=1, max_backoff_seconds=30)
        return {"retry_config": retry, "region": self.region}

    def worker_function(self) -> Callable[..., Any]:
        """The task-queue function that runs the assistants (named after ``worker``)."""

        def handler(request: tasks_fn.CallableRequest[Any]) -> None:
            handle_task(self.worker, request, max_attempts=self.max_attempts)

        _prepare_process()
        handler.__name__ = handler.__qualname__ = self.worker_name
        return tasks_fn.on_task_dispatched(
            **self._task_options(),
            rate_limits=options.RateLimits(max_concurrent_dispatches=self._concurrency),
            timeout_sec=300,
            secrets=[OPENAI_API_KEY],
        )(handler)

    def task_function(
        self, name: str, payload: type[PayloadT]
    ) -> Callable[[Callable[[PayloadT, Delivery], None]], Callable[..., Any]]:
        """Decorates ``f(payload, delivery)`` as the app's task-queue function ``name`` (an async tool's
        job: it resumes the call with ``app.resume``)."""

        def register(function: Callable[[PayloadT, Delivery], None]) -> Callable[..., Any]:
            def handler(request: tasks_fn.CallableRequest[Any]) -> None:
                function(payload.model_validate(request.data), delivery_of(request, max_attempts=self.max_attempts))

            _prepare_process()
            handler.__name__ = handler.__qualname__ = name
            return tasks_fn.on_task_dispatched(**self._task_options())(handler)

        return register

    def sweeper_function(self, name: str = "sweepStuckChats", schedule: str = "every 5 minutes") -> Callable[..., Any]:
        """The scheduled function that re-enqueues, then fails, chats stuck in ``processing``."""

        def handler(event: scheduler_fn.ScheduledEvent) -> None:
            report = StuckChatSweeper(store=self.store, queue=self.queue).sweep()
            logger.info("sweep: requeued %s, failed %s", report.requeued, report.failed)

        _prepare_process()
        handler.__name__ = handler.__qualname__ = name
        return scheduler_fn.on_schedule(schedule=schedule, region=self.region)(handler)


@functools.cache
def _prepare_process() -> None:
    """What a process serving the app's functions needs, done when it declares its first function:
    structured logs through ``firebase_functions.logger``, steady keep-alive on the Functions emulator,
    and the default Firebase app (callables verify ID tokens with it before any handler runs)."""
    structured_logging()
    steady_local_runtime()
    firebase_app()


def _config(assistant: Assistant) -> AssistantConfig:
    return AssistantConfig(
        engine=APP_ENGINE,
        assistant_id=assistant.name,
        dispatcher_id=assistant.name,
        model=assistant.model,
        instructions=assistant.instructions,
        context_tokens=assistant.context_tokens,
    )


def _check(assistants: Sequence[Assistant]) -> None:
    """Fail at import on what would fail at run time."""
    names = [assistant.name for assistant in assistants]
    if not names:
        raise ValueError("a ChatApp needs at least one assistant")
    if len(set(names)) != len(names):
        raise ValueError(f"assistant names must be unique: {names}")
    for assistant in assistants:
        unknown = [name for name in assistant.handoffs if name not in names]
        if unknown:
            raise ValueError(f"assistant {assistant.name!r} hands off to unknown assistants {unknown}")
