"""``ChatApp``: declare the data, the assistants and their tools once; get the Cloud Functions from it.

```python
app = ChatApp(data=Cart, assistants=[shop, support], worker="shopWorker", offline=PHRASES)
startShopping = app.start_function("startShopping")
postToShop = app.post_function("postToShop")
closeShop = app.close_function("closeShop")
shopWorker = app.worker_function()
```

Everything is checked when the module loads: assistant names, hand-offs to
assistants that exist, one toolset per assistant. Each assistant runs on its
own engine (``Assistant(engine="gemini")``) or the app's, chosen when the worker
starts: ``CHAT_ENGINE``, else the engine whose key is set (``OPENAI_API_KEY``:
the Responses API, or Chat Completions with ``OPENAI_API_MODE=chat``;
``GEMINI_API_KEY``, or Vertex AI with ``GOOGLE_GENAI_USE_VERTEXAI=true``), the
offline engine on the emulators when none is, and a loud failure when a
deployed worker has none or both (never a silent offline answer). The worker
binds the ``secrets`` it is given (default ``OPENAI_API_KEY``): the model keys
the app uses, and any its tools need. The
callables and the worker run in ``region``; the worker's task queue is
named after ``worker``; chats live in ``collection`` (``chats``), and clients
name them ``{collection}/{chatId}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from ..capacity import Capacity, from_concurrency
from ..engines.base import Engine
from ..engines.offline import Phrase
from ..errors import ErrorCode
from ..limits import Limits, Price, usage_collection
from ..models import CHATS, AssistantConfig, ChatMeta
from ..store.deletion import DeletedData
from ..tools.results import CompletedResult, Resumer
from .admin import firestore_client
from .app_check import AppCheck, app_check_setting
from .app_runtime import AppRuntime
from .assistants import Assistant as Assistant  # re-exported: the app author's name for it
from .assistants import assistant_config, check_assistants
from .callables import Caller as Caller  # re-exported: what an app's own callables receive
from .functions import CallableFunctions
from .http_functions import HttpFunctions
from .params import CHAT_PAUSED
from .settings import AppSettings
from .specs import Catalog
from .task_functions import TaskFunctions
from .user_data import STREAMS_DOCUMENT, USAGE_DOCUMENT

if TYPE_CHECKING:
    from ..front.chat import AssistantChat
    from ..runtime.hooks import CompletionEvent, RunHooks
    from ..runtime.worker import ChatWorker, Delivery
    from ..store.port import ChatStore
    from ..tasks.port import TaskQueue

DataT = TypeVar("DataT", bound=BaseModel)
PayloadT = TypeVar("PayloadT", bound=BaseModel)


class ChatApp(Generic[DataT]):
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
    N runs at once in the whole app, as it meant before.

    Composed of its ``settings`` (``AppSettings``), its ``runtime`` (``AppRuntime``: store, queues,
    front API, worker) and the declarers of its functions (callables, task functions, HTTP
    functions); each method below hands over to one of them."""

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
        secrets: Sequence[str] = ("OPENAI_API_KEY",),
    ) -> None:
        check_assistants(assistants)
        self.settings = AppSettings(
            data=data, configs={a.name: assistant_config(a) for a in assistants}, worker_name=worker,
            capacity=_capacity(capacity, concurrency), collection=collection, region=region, meta=meta,
            max_attempts=max_attempts, app_check=app_check_setting(app_check), user_documents=tuple(user_documents),
            retention=retention, secrets=tuple(secrets),
        )  # fmt: skip
        self.runtime = AppRuntime(
            self.settings, assistants, offline=offline, store=store, queue=queue, engine=engine,
            on_complete=on_complete, hooks=hooks, limits=limits, prices=prices,
            usage=usage or usage_collection(collection), paused=paused or (lambda: CHAT_PAUSED.value),
        )  # fmt: skip
        catalog = Catalog()  # what is declared, for the OpenAPI document
        self._callables = CallableFunctions(self.settings, self.runtime, catalog)
        self._tasks = TaskFunctions(self.settings, self.runtime)
        self._http = HttpFunctions(self.settings, catalog)

    # ---- settings and runtime -------------------------------------------------------------------

    @property
    def capacity(self) -> Capacity:
        """How many runs the worker answers at once (``capacity.py``)."""
        return self.settings.capacity

    def config(self, name: str) -> AssistantConfig:
        """The stored configuration of assistant ``name``."""
        return self.settings.configs[name]

    @property
    def worker_names(self) -> list[str]:
        """The worker's functions, one per queue: ``worker``, then ``{worker}2`` …"""
        return self.settings.worker_names

    @property
    def chat(self) -> AssistantChat:
        """The front API (``AppRuntime.chat``)."""
        return self.runtime.chat

    @property
    def worker(self) -> ChatWorker:
        """The worker (``AppRuntime.worker``)."""
        return self.runtime.worker

    @property
    def store(self) -> ChatStore:
        """The store (``AppRuntime.store``)."""
        return self.runtime.store

    @property
    def queue(self) -> TaskQueue:
        """The worker's task queues (``AppRuntime.queue``)."""
        return self.runtime.queue

    @property
    def firestore(self) -> Any:
        """The Admin SDK's Firestore client (anonymous credentials on the emulators): for the app's own
        collections, e.g. in tools."""
        return firestore_client()

    def limits_for(self, caller: Caller) -> Limits | None:
        """The limits of ``caller``'s tier (``None``: unlimited)."""
        return self.runtime.limits_for(caller)

    def expiry(self) -> dict[str, Any]:
        """``{"expiresAt": now + retention}`` for a document the app writes under a chat itself (merge
        it into the document), so the TTL policies delete it with the chat; ``{}`` without retention."""
        return self.runtime.expiry()

    def resume(self, continuation_id: str, result: CompletedResult | Resumer) -> bool:
        """Resume a suspended tool call (see ``ContinuationScheduler.resume``)."""
        return self.runtime.resume(continuation_id, result)

    def enqueue(self, function: str, payload: BaseModel, *, task_id: str) -> None:
        """Enqueue ``payload`` for the app's task function ``function`` (named ``task_id``: no duplicate)."""
        self.runtime.enqueue(function, payload, task_id=task_id)

    def write_under_chat(self, chat_document: str, path: str, fields: dict[str, Any]) -> bool:
        """Write an app's own document at ``{chat_document}/{path}`` (e.g. ``completions/{id}``) with the
        chat's retention, unless the chat is gone (``user_data.write_under_chat``); ``False`` if undone."""
        return self.runtime.write_under_chat(chat_document, path, fields)

    def delete_user_data(self, user_id: str) -> DeletedData:
        """Delete every chat of ``user_id`` with everything under it (runs in progress stop), and the
        user's own documents (``user_documents``, when the app runs on Firestore). Idempotent."""
        return self.runtime.delete_user_data(user_id)

    # ---- functions (``functions.py``, ``task_functions.py``, ``http_functions.py``) -------------------

    def start_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable that starts a chat (``CallableFunctions.start_function``)."""
        return self._callables.start_function(name, command_meta=command_meta)

    def post_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable that posts to a chat (``CallableFunctions.post_function``)."""
        return self._callables.post_function(name, command_meta=command_meta)

    def close_function(self, name: str, *, command_meta: Mapping[str, Any] | None = None) -> Callable[..., Any]:
        """The callable that closes a chat (``CallableFunctions.close_function``)."""
        return self._callables.close_function(name, command_meta=command_meta)

    def stop_function(self, name: str) -> Callable[..., Any]:
        """The callable that stops the answer in progress (``CallableFunctions.stop_function``)."""
        return self._callables.stop_function(name)

    def delete_data_function(self, name: str = "deleteMyData") -> Callable[..., Any]:
        """The callable that deletes the caller's data (``CallableFunctions.delete_data_function``)."""
        return self._callables.delete_data_function(name)

    def callable(
        self,
        name: str,
        payload: type[PayloadT],
        *,
        result: type[BaseModel] | None = None,
        errors: Sequence[ErrorCode | str] = (),
    ) -> Callable[[Callable[[Caller, PayloadT], BaseModel | Mapping[str, Any]]], Callable[..., Any]]:
        """Decorates ``f(caller, payload)`` as the app's own callable (``CallableFunctions.callable``)."""
        return self._callables.callable(name, payload, result=result, errors=errors)  # fmt: skip

    def worker_function(self, queue: int = 1) -> Callable[..., Any]:
        """The worker's function of ``queue`` (``TaskFunctions.worker_function``)."""
        return self._tasks.worker_function(queue)

    def worker_functions(self) -> dict[str, Callable[..., Any]]:
        """Every worker function by name (``globals().update(app.worker_functions())`` in ``main.py``)."""
        return self._tasks.worker_functions()

    def task_function(
        self, name: str, payload: type[PayloadT]
    ) -> Callable[[Callable[[PayloadT, Delivery], None]], Callable[..., Any]]:
        """Decorates ``f(payload, delivery)`` as the app's task function (``TaskFunctions.task_function``)."""
        return self._tasks.task_function(name, payload)

    def events_function(self, name: str = "chatEvents", **settings: Any) -> Callable[..., Any]:
        """The ``chatEvents`` HTTP function (``HttpFunctions.events_function``)."""
        return self._http.events_function(name, **settings)

    def openapi_function(self, name: str = "openapi", **settings: Any) -> Callable[..., Any]:
        """The ``openapi`` HTTP function (``HttpFunctions.openapi_function``)."""
        return self._http.openapi_function(name, **settings)

    def openapi(self, **settings: Any) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the app's functions (``HttpFunctions.openapi``)."""
        return self._http.openapi(**settings)


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
