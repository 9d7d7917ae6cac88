"""firebase-ai-chat: AI assistant chats for mobile and web apps, run on Firebase.

An app declares its data, assistants and tools on ``firebase_ai_chat.app.ChatApp``
(see ``docs/GUIDE.md``; also reachable as ``firebase_ai_chat.ChatApp``) and gets its
callables, worker and task functions from it. ``__all__`` is what an app needs
besides: the tool results, the engines, the hooks, the worker's ``Capacity``, the front API
and worker for custom wiring, and the errors. Everything else is importable from its module and may change.
The core (models, status machine, front API, worker) imports no SDK; the adapters
(``app``, ``firestore``, ``tasks``, ``callables``, ``task_handler``, ``firebase_app``,
``engines.openai_*``) do.

Every name here is imported from its module on first use (PEP 562 ``__getattr__``), so that
importing one of them loads only what it needs: the functions' ``main.py`` is imported by every
cold instance of every function (``docs/ARCHITECTURE.md``, "Cold start").
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Assistant as Assistant
    from .app import ChatApp as ChatApp
    from .capacity import Capacity as Capacity
    from .chat import AssistantChat as AssistantChat
    from .continuations import ContinuationScheduler as ContinuationScheduler
    from .engines.base import Engine as Engine
    from .engines.offline import OfflineEngine as OfflineEngine
    from .engines.offline import Phrase as Phrase
    from .errors import ChatError as ChatError
    from .errors import ErrorCode as ErrorCode
    from .hooks import CompletionEvent as CompletionEvent
    from .hooks import RunHooks as RunHooks
    from .models import AssistantConfig as AssistantConfig
    from .models import ChatMeta as ChatMeta
    from .models import ChatResult as ChatResult
    from .status import ChatStatus as ChatStatus
    from .store import ChatStore as ChatStore
    from .task_queue import TaskQueue as TaskQueue
    from .tools import ChatContext as ChatContext
    from .tools import Continuation as Continuation
    from .tools import DataReduction as DataReduction
    from .tools import ToolContext as ToolContext
    from .tools import ToolFailure as ToolFailure
    from .tools import Toolset as Toolset
    from .tools import ToolValue as ToolValue
    from .worker import ChatWorker as ChatWorker

__version__ = "0.2.0"

_HOMES = {
    "app": ("Assistant", "ChatApp"),
    "capacity": ("Capacity",),
    "chat": ("AssistantChat",),
    "continuations": ("ContinuationScheduler",),
    "engines.base": ("Engine",),
    "engines.offline": ("OfflineEngine", "Phrase"),
    "errors": ("ChatError", "ErrorCode"),
    "hooks": ("CompletionEvent", "RunHooks"),
    "models": ("AssistantConfig", "ChatMeta", "ChatResult"),
    "status": ("ChatStatus",),
    "store": ("ChatStore",),
    "task_queue": ("TaskQueue",),
    "tools": ("ChatContext", "Continuation", "DataReduction", "ToolContext", "ToolFailure", "Toolset", "ToolValue"),
    "worker": ("ChatWorker",),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}
"""Where each name of the package lives: imported from there on first use (PEP 562)."""


def __getattr__(name: str) -> Any:
    """The package's names are imported on first use: ``from firebase_ai_chat import ChatMeta`` loads
    the models only, not the worker, the run loop or the Firebase SDKs (the functions' cold start)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'firebase_ai_chat' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # found directly next time
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = [
    "AssistantChat",
    "AssistantConfig",
    "Capacity",
    "ChatContext",
    "ChatError",
    "ChatMeta",
    "ChatResult",
    "ChatStatus",
    "ChatStore",
    "ChatWorker",
    "CompletionEvent",
    "Continuation",
    "ContinuationScheduler",
    "DataReduction",
    "Engine",
    "ErrorCode",
    "OfflineEngine",
    "Phrase",
    "RunHooks",
    "TaskQueue",
    "ToolContext",
    "ToolFailure",
    "ToolValue",
    "Toolset",
    "__version__",
]
