"""firebase-ai-chat: AI assistant chats for mobile and web apps, run on Firebase.

An app declares its data, assistants and tools on ``ChatApp`` (``docs/GUIDE.md``) and gets its
callables, worker and task functions from it. ``__all__`` is what an app author needs: the app and
its settings (``Assistant``, ``Capacity``, ``Limits``, ``AppCheck``), what a tool touches
(``Toolset``, ``ToolContext``, the results), what a task function or a callable receives
(``Delivery``, ``Caller``), the engines, the hooks, the errors, and the front API, worker, store and
queue ports for custom wiring. The layout (one folder per question: ``front/``, ``runtime/``,
``tools/``, ``engines/``, ``store/``, ``tasks/``, ``firebase/``, ``testing/``) and what each may
import are in ``docs/ARCHITECTURE.md`` and checked by ``tests/test_layers.py``.

Every name here is imported from its module on first use (PEP 562), so that importing one of them
loads only what it needs: the functions' ``main.py`` is imported by every cold instance of every
function (``docs/ARCHITECTURE.md``, "Cold start").
"""

from typing import TYPE_CHECKING

from ._faces import face
from ._moved import warn_on_moved_modules
from ._version import __version__

if TYPE_CHECKING:
    from .capacity import Capacity as Capacity
    from .engines.base import Engine as Engine
    from .engines.offline import OfflineEngine as OfflineEngine
    from .engines.offline import Phrase as Phrase
    from .errors import ChatError as ChatError
    from .errors import ErrorCode as ErrorCode
    from .firebase.app import Assistant as Assistant
    from .firebase.app import ChatApp as ChatApp
    from .firebase.app_check import AppCheck as AppCheck
    from .firebase.callables import Caller as Caller
    from .front.chat import AssistantChat as AssistantChat
    from .limits import Allowance as Allowance
    from .limits import Limits as Limits
    from .limits import Price as Price
    from .models import AssistantConfig as AssistantConfig
    from .models import ChatMeta as ChatMeta
    from .models import ChatResult as ChatResult
    from .runtime.continuations import ContinuationScheduler as ContinuationScheduler
    from .runtime.hooks import CompletionEvent as CompletionEvent
    from .runtime.hooks import RunHooks as RunHooks
    from .runtime.worker import ChatWorker as ChatWorker
    from .runtime.worker import Delivery as Delivery
    from .status import ChatStatus as ChatStatus
    from .store.port import ChatStore as ChatStore
    from .tasks.port import TaskQueue as TaskQueue
    from .tools.context import ChatContext as ChatContext
    from .tools.context import Continuation as Continuation
    from .tools.context import ToolContext as ToolContext
    from .tools.results import DataReduction as DataReduction
    from .tools.results import ToolFailure as ToolFailure
    from .tools.results import ToolValue as ToolValue
    from .tools.toolset import Toolset as Toolset

_HOMES = {
    "firebase.app": ("Assistant", "ChatApp"),
    "firebase.callables": ("Caller",),
    "firebase.app_check": ("AppCheck",),
    "capacity": ("Capacity",),
    "limits": ("Allowance", "Limits", "Price"),
    "tools": ("ChatContext", "Continuation", "DataReduction", "ToolContext", "ToolFailure", "Toolset", "ToolValue"),
    "engines.base": ("Engine",),
    "engines.offline": ("OfflineEngine", "Phrase"),
    "runtime.hooks": ("CompletionEvent", "RunHooks"),
    "runtime.worker": ("ChatWorker", "Delivery"),
    "runtime.continuations": ("ContinuationScheduler",),
    "front.chat": ("AssistantChat",),
    "store.port": ("ChatStore",),
    "tasks.port": ("TaskQueue",),
    "models": ("AssistantConfig", "ChatMeta", "ChatResult"),
    "status": ("ChatStatus",),
    "errors": ("ChatError", "ErrorCode"),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)
warn_on_moved_modules()

__all__ = [
    "Allowance",
    "AppCheck",
    "Assistant",
    "AssistantChat",
    "AssistantConfig",
    "Caller",
    "Capacity",
    "ChatApp",
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
    "Delivery",
    "Engine",
    "ErrorCode",
    "Limits",
    "OfflineEngine",
    "Phrase",
    "Price",
    "RunHooks",
    "TaskQueue",
    "ToolContext",
    "ToolFailure",
    "ToolValue",
    "Toolset",
    "__version__",
]
