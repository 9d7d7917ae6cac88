"""``AppRuntime``: what an app's functions run on, built from its settings and its assistants on first
use (the store, the task queues, the front API, the worker, the continuations), and the operations
an app calls itself (resume a call, enqueue a task, write under a chat, delete a user's data)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .._once import once
from ..engines.base import Engine
from ..engines.offline import Phrase
from ..limits import Limits, Price
from ..store.deletion import DeletedData
from ..store.retention import expiry
from ..tasks.routed import RoutedQueue
from ..tools.results import CompletedResult, Resumer
from .admin import firebase_app, firestore_client
from .assistants import Assistant, engines
from .callables import Caller
from .settings import AppSettings
from .user_data import delete_user_data, write_under_chat

if TYPE_CHECKING:
    from ..front.chat import AssistantChat
    from ..front.stop import Messages, StopOutcome
    from ..runtime.continuations import ContinuationScheduler
    from ..runtime.hooks import CompletionEvent, RunHooks
    from ..runtime.worker import ChatWorker
    from ..store.documents import ChatSnapshot, ChatWrite
    from ..store.port import ChatStore
    from ..tasks.port import TaskQueue


class AppRuntime:
    """The parts of one app (see the module); ``store``, ``queue`` and ``engine`` replace Firestore,
    Cloud Tasks and the engine chosen at start (an app's unit tests)."""

    def __init__(
        self,
        settings: AppSettings,
        assistants: Sequence[Assistant],
        *,
        offline: Sequence[Phrase] = (),
        store: ChatStore | None = None,
        queue: TaskQueue | None = None,
        engine: Engine | None = None,
        on_complete: Callable[[CompletionEvent], None] | None = None,
        hooks: Sequence[RunHooks] = (),
        limits: Limits | Callable[[Caller], Limits | None] | None = None,
        prices: Mapping[str, Price] | None = None,
        usage: str,
        paused: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.limits = limits
        self.prices = dict(prices or {})
        self.usage = usage
        self.paused = paused
        self.declared_workers: set[str] = set()
        """The worker functions this codebase declared (all of them must be, to enqueue)."""
        self._assistants = tuple(assistants)
        self._offline = tuple(offline)
        self._given_store, self._given_queue, self._engine = store, queue, engine
        self._on_complete = on_complete
        self._hooks = tuple(hooks)

    def limits_for(self, caller: Caller) -> Limits | None:
        """The limits of ``caller``'s tier (``None``: unlimited)."""
        return self.limits(caller) if callable(self.limits) else self.limits

    @once
    def store(self) -> ChatStore:
        """The store: Firestore unless the app was given one (the Firestore SDK is imported here)."""
        if self._given_store is not None:
            return self._given_store
        from ..store.firestore import FirestoreChatStore

        settings = self.settings
        return FirestoreChatStore(firestore_client(), collection=settings.collection, retention=settings.retention)

    @once
    def queue(self) -> TaskQueue:
        """The worker's task queues: Cloud Tasks unless the app was given one; with several
        (``capacity.queues``) each chat's commands go to the queue its id picks (``tasks/routed.py``)."""
        if self._given_queue is not None:
            return self._given_queue
        from ..tasks import CloudTasksQueue

        names = self.settings.worker_names
        missing = [name for name in names if self.declared_workers and name not in self.declared_workers]
        if missing:
            raise RuntimeError(
                f"Capacity(queues={self.settings.capacity.queues}) spreads the chats over the worker functions "
                f"{', '.join(names)}, but this codebase declares no {', '.join(missing)}: "
                "export every one (globals().update(app.worker_functions()) in main.py) or lower queues"
            )
        queues = [CloudTasksQueue(self.settings.queue_name(name), app=firebase_app()) for name in names]
        return queues[0] if len(queues) == 1 else RoutedQueue(queues)

    @once
    def chat(self) -> AssistantChat:
        """The front API on this app's store and task queue."""
        from ..front.chat import AssistantChat
        from ..usage import Gate

        gate = Gate(self.usage) if self.limits is not None else None
        return AssistantChat(
            store=self.store, queue=self.queue, gate=gate, paused=self.paused, committed_stop=_stop_committed
        )

    @once
    def worker(self) -> ChatWorker:
        """The worker, with the engine chosen for this process, from one spec per assistant (imported
        here: the run loop and what it needs are not loaded by the functions that never run it)."""
        from ..runtime.assistants import AssistantSpec, Handoffs
        from ..runtime.spending import Spending
        from ..runtime.worker import ChatWorker

        specs = [
            AssistantSpec(
                config=self.settings.configs[a.name],
                tools=a.tools,
                handoffs=Handoffs(to=frozenset(a.handoffs), back=a.can_hand_back),
            )
            for a in self._assistants
        ]
        limited = self.limits is not None
        return ChatWorker(
            store=self.store,
            queue=self.queue,
            engines=engines(self._offline, self._engine),
            assistants=specs,
            hooks=list(self._hooks),
            on_complete=self._on_complete,
            spending=Spending(self.usage, prices=self.prices, paused=self.paused, limited=limited),
        )

    @once
    def continuations(self) -> ContinuationScheduler:
        """Resumes suspended tool calls (from any function of the app)."""
        from ..runtime.continuations import ContinuationScheduler

        return ContinuationScheduler(store=self.store, queue=self.queue)

    def expiry(self) -> dict[str, Any]:
        """``{"expiresAt": now + retention}`` for a document the app writes under a chat itself."""
        return expiry(self.settings.retention, datetime.now(UTC))

    def resume(self, continuation_id: str, result: CompletedResult | Resumer) -> bool:
        """Resume a suspended tool call (see ``ContinuationScheduler.resume``)."""
        return self.continuations.resume(continuation_id, result)

    def enqueue(self, function: str, payload: BaseModel, *, task_id: str) -> None:
        """Enqueue ``payload`` for the app's task function ``function`` (named ``task_id``: no duplicate)."""
        from ..tasks import enqueue_task

        document = payload.model_dump(mode="json", by_alias=True)
        queue = self.settings.queue_name(function)
        enqueue_task(queue, document, task_id=task_id.replace(".", "_"), app=firebase_app())

    def write_under_chat(self, chat_document: str, path: str, fields: dict[str, Any]) -> bool:
        """See ``user_data.write_under_chat`` (with the chat's retention)."""
        return write_under_chat(chat_document, path, {**fields, **self.expiry()})

    def delete_user_data(self, user_id: str) -> DeletedData:
        """See ``user_data.delete_user_data``."""
        on_firestore = self._given_store is None  # an app tested on an in-memory store has no user documents
        documents = self.settings.user_documents if on_firestore else ()
        return delete_user_data(self.store, user_id, documents)


def _stop_committed(
    snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, messages: Messages
) -> tuple[ChatWrite, StopOutcome]:
    """The runtime's stop of a run no worker stops, imported when a stop first needs it (the callables
    load no run loop at start)."""
    from ..runtime.stop import stop_committed

    return stop_committed(snapshot, chat_id=chat_id, dispatch_id=dispatch_id, messages=messages)
