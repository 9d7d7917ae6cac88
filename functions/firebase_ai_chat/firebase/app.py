"""``ChatApp``: declare the data, the assistants and their tools once; get the Cloud Functions from it.

```python
app = ChatApp(data=Cart, assistants=[shop, support], worker="shopWorker", offline=PHRASES)
startShopping = app.start_function("startShopping")
postToShop = app.post_function("postToShop")
closeShop = app.close_function("closeShop")
shopWorker = app.worker_function()
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

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from .._once import once
from ..capacity import Capacity, from_concurrency
from ..engines.base import Engine
from ..engines.offline import Phrase
from ..limits import Limits, Price, usage_collection
from ..models import CHATS, AssistantConfig, ChatMeta
from ..store.retention import expiry
from ..tasks.routed import RoutedQueue
from ..tools.results import CompletedResult, Resumer
from .admin import firebase_app, firestore_client
from .app_check import AppCheck, app_check_setting
from .assistants import APP_ENGINE, NamedEngine, assistant_config, check_assistants
from .assistants import Assistant as Assistant  # re-exported: the app author's name for it
from .callables import Caller as Caller  # re-exported: what an app's own callables receive
from .control_functions import STREAMS_DOCUMENT, USAGE_DOCUMENT
from .functions import AppFunctions
from .params import CHAT_PAUSED
from .specs import CallableSpec

if TYPE_CHECKING:
    from ..front.chat import AssistantChat
    from ..front.stop import Messages, StopOutcome
    from ..runtime.continuations import ContinuationScheduler
    from ..runtime.hooks import CompletionEvent, RunHooks
    from ..runtime.worker import ChatWorker
    from ..store.documents import ChatSnapshot, ChatWrite
    from ..store.port import ChatStore
    from ..tasks.port import TaskQueue

logger = logging.getLogger(__name__)

DataT = TypeVar("DataT", bound=BaseModel)
PayloadT = TypeVar("PayloadT", bound=BaseModel)


def _stop_committed(
    snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, messages: Messages
) -> tuple[ChatWrite, StopOutcome]:
    """The runtime's stop of a run no worker stops, imported when a stop first needs it (the callables
    load no run loop at start)."""
    from ..runtime.stop import stop_committed

    return stop_committed(snapshot, chat_id=chat_id, dispatch_id=dispatch_id, messages=messages)


class ChatApp(AppFunctions[DataT]):
    """An app's chats: its data model, its assistants (the first answers new chats), its functions.

    ``store``, ``queue`` and ``engine`` replace Firestore, Cloud Tasks and the engine chosen at
    start: for an app's unit tests (``firebase_ai_chat.testing``'s in-memory store and queue; a
    given store keeps its own ``retention``). ``retention`` (off by default) puts ``expiresAt``
    on every document a chat owns, for Firestore's TTL policies (``retention.py``). ``app_check``
    enforces App Check on the callables and ``chatEvents`` (``app_check.py``). ``user_documents``
    are deleted with a user's chats (``delete_user_data``; ``{uid}`` is the user's id).

    ``limits``: each user's limits (a ``Limits``, or a function of the caller giving their tier's,
    ``None`` for none), counted in the ``usage`` collection (default: ``chatUsage`` for
    ``chats``); ``prices`` per model (``*``: any other) give a cost to limit; ``paused`` is the
    global switch (default: the ``CHAT_PAUSED`` param). See ``limits``.

    ``hooks``: observers of every run's steps (``RunHooks``), e.g. crash injection under the
    emulator (``firebase_ai_chat.testing.faults``, opted into by the example's ``main.py``).

    ``capacity``: how many runs the worker answers at once (``capacity.py``; README "Sizing the
    worker"). ``concurrency=N`` (deprecated) is ``Capacity(runs_per_instance=N, max_instances=1)``:
    N runs at once in the whole app, as it meant before."""

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
        capacity: Capacity | None = None,
        concurrency: int | None = None,
        collection: str = CHATS,
        store: ChatStore | None = None,
        queue: TaskQueue | None = None,
        engine: Engine | None = None,
        retention: timedelta | None = None,
        app_check: bool | AppCheck = False,
        user_documents: Sequence[str] = (USAGE_DOCUMENT, STREAMS_DOCUMENT),
        limits: Limits | Callable[[Caller], Limits | None] | None = None,
        prices: Mapping[str, Price] | None = None,
        usage: str | None = None,
        paused: Callable[[], bool] | None = None,
        hooks: Sequence[RunHooks] = (),
    ) -> None:
        self.capacity = _capacity(capacity, concurrency)
        self.limits = limits
        self.prices = dict(prices or {})
        self.usage = usage or usage_collection(collection)
        self._paused = paused or (lambda: CHAT_PAUSED.value)
        self._store, self._queue, self._engine = store, queue, engine
        self.retention = retention
        self.app_check = app_check_setting(app_check)
        self.user_documents = tuple(user_documents)
        self.collection = collection
        self.data = data
        self.worker_name = worker
        self.declared_workers: set[str] = set()
        self.region = region
        self.meta = meta
        self.max_attempts = max_attempts
        self._offline = list(offline)
        self._on_complete = on_complete
        self._hooks = tuple(hooks)
        self._assistants = {assistant.name: assistant for assistant in assistants}
        check_assistants(assistants)
        self.configs = {a.name: assistant_config(a) for a in assistants}
        self._specs: list[CallableSpec] = []  # the callables declared so far (for the OpenAPI document)
        self._events: str | None = None
        self._openapi: str | None = None

    def config(self, name: str) -> AssistantConfig:
        """The stored configuration of assistant ``name``."""
        return self.configs[name]

    @once
    def chat(self) -> AssistantChat:
        """The front API on Firestore and this app's task queue."""
        from ..front.chat import AssistantChat
        from ..usage import Gate

        gate = Gate(self.usage) if self.limits is not None else None
        return AssistantChat(
            store=self.store, queue=self.queue, gate=gate, paused=self._paused, committed_stop=_stop_committed
        )

    def limits_for(self, caller: Caller) -> Limits | None:
        """The limits of ``caller``'s tier (``None``: unlimited)."""
        return self.limits(caller) if callable(self.limits) else self.limits

    @once
    def store(self) -> ChatStore:
        """The store: Firestore unless the app was given one (the Firestore SDK is imported here)."""
        if self._store is not None:
            return self._store
        from ..store.firestore import FirestoreChatStore

        return FirestoreChatStore(firestore_client(), collection=self.collection, retention=self.retention)

    @once
    def queue(self) -> TaskQueue:
        """The worker's task queues: Cloud Tasks unless the app was given one; with several
        (``capacity.queues``) each chat's commands go to the queue its id picks (``tasks/routed.py``)."""
        if self._queue is not None:
            return self._queue
        from ..tasks import CloudTasksQueue

        missing = [name for name in self.worker_names if self.declared_workers and name not in self.declared_workers]
        if missing:
            raise RuntimeError(
                f"Capacity(queues={self.capacity.queues}) spreads the chats over the worker functions "
                f"{', '.join(self.worker_names)}, but this codebase declares no {', '.join(missing)}: "
                "export every one (globals().update(app.worker_functions()) in main.py) or lower queues"
            )
        queues = [CloudTasksQueue(self._queue_name(name), app=firebase_app()) for name in self.worker_names]
        return queues[0] if len(queues) == 1 else RoutedQueue(queues)

    @once
    def worker(self) -> ChatWorker:
        """The worker, with the engine chosen for this process (imported here: the run loop and what it
        needs are not loaded by the functions that never run it)."""
        from ..runtime.spending import Spending
        from ..runtime.tool_calls import Handoffs
        from ..runtime.worker import ChatWorker

        return ChatWorker(
            store=self.store,
            queue=self.queue,
            engines={APP_ENGINE: self._engine or NamedEngine(self._offline)},
            dispatchers={name: a.tools for name, a in self._assistants.items() if a.tools is not None},
            hooks=list(self._hooks),
            on_complete=self._on_complete,
            assistants=list(self.configs.values()),
            handoffs={
                a.name: Handoffs(to=frozenset(a.handoffs), back=a.can_hand_back) for a in self._assistants.values()
            },
            spending=Spending(self.usage, prices=self.prices, paused=self._paused, limited=self.limits is not None),
        )

    @once
    def continuations(self) -> ContinuationScheduler:
        """Resumes suspended tool calls (from any function of the app)."""
        from ..runtime.continuations import ContinuationScheduler

        return ContinuationScheduler(store=self.store, queue=self.queue)

    def expiry(self) -> dict[str, Any]:
        """``{"expiresAt": now + retention}`` for a document the app writes under a chat itself (merge
        it into the document), so the TTL policies delete it with the chat; ``{}`` without retention."""
        return expiry(self.retention, datetime.now(UTC))

    def resume(self, continuation_id: str, result: CompletedResult | Resumer) -> bool:
        """Resume a suspended tool call (see ``ContinuationScheduler.resume``)."""
        return self.continuations.resume(continuation_id, result)

    def enqueue(self, function: str, payload: BaseModel, *, task_id: str) -> None:
        """Enqueue ``payload`` for the app's task function ``function`` (named ``task_id``: no duplicate)."""
        from ..tasks import enqueue_task

        document = payload.model_dump(mode="json", by_alias=True)
        enqueue_task(self._queue_name(function), document, task_id=task_id.replace(".", "_"), app=firebase_app())

    def _queue_name(self, function: str) -> str:
        return f"locations/{self.region}/functions/{function}" if self.region else function


def _capacity(capacity: Capacity | None, concurrency: int | None) -> Capacity:
    if concurrency is None:
        return capacity or Capacity()
    if capacity is not None:
        raise ValueError("give ChatApp capacity= or the deprecated concurrency=, not both")
    warnings.warn(
        "ChatApp(concurrency=N) is deprecated: use capacity=Capacity(...) (README, 'Sizing the worker')",
        DeprecationWarning,
        stacklevel=3,
    )
    return from_concurrency(concurrency)
