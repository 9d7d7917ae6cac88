"""firebase-ai-chat: AI assistant chats for mobile and web apps, run on Firebase.

An app declares its data, assistants and tools on ``firebase_ai_chat.app.ChatApp``
(see ``docs/GUIDE.md``; also reachable as ``firebase_ai_chat.ChatApp``, loaded
on first use) and gets its callables, worker, task functions from
it. ``__all__`` is what an app needs besides: the tool results, the engines,
the hooks, the front API and worker for custom wiring, and the errors. Everything else is importable from its module and
may change. The core (models, status machine, front API, worker) imports no
SDK; the adapters (``app``, ``firestore``, ``tasks``, ``callables``,
``task_handler``, ``firebase_app``, ``engines.openai_*``) do.
"""

from typing import TYPE_CHECKING, Any

from .chat import AssistantChat
from .continuations import ContinuationScheduler
from .engines.base import Engine
from .engines.offline import OfflineEngine, Phrase
from .errors import ChatError, ErrorCode
from .hooks import CompletionEvent, RunHooks
from .models import AssistantConfig, ChatMeta, ChatResult
from .status import ChatStatus
from .store import ChatStore
from .task_queue import TaskQueue
from .tools import ChatContext, Continuation, DataReduction, ToolContext, ToolFailure, Toolset, ToolValue
from .worker import ChatWorker

if TYPE_CHECKING:
    from .app import Assistant as Assistant
    from .app import ChatApp as ChatApp

__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    """``ChatApp`` and ``Assistant`` load the Firebase SDKs: imported on first use, so the core stays light."""
    if name in ("Assistant", "ChatApp"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'firebase_ai_chat' has no attribute {name!r}")


__all__ = [
    "AssistantChat",
    "AssistantConfig",
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
