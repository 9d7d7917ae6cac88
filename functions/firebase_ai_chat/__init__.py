"""firebase-ai-chat: AI assistant chats for mobile and web apps, run on Firebase.

The core (models, status machine, front API, worker) imports no SDK; the
adapters (``firestore``, ``tasks``, ``callables``, ``task_handler``,
``firebase_app``, ``engines``) do, and are imported from their modules.
"""

from .chat import AssistantChat
from .continuations import ContinuationScheduler
from .engines.base import Engine, EngineReply, EngineRequest
from .engines.offline import OfflineEngine
from .errors import ChatError, ErrorCode
from .hooks import CompletionEvent, RunHooks
from .models import (
    AssistantConfig,
    Author,
    ChatCommand,
    ChatConfig,
    ChatDocumentInput,
    ChatMessage,
    ChatMeta,
    ChatResult,
    ChatState,
    ErrorInfo,
    MessageInput,
    PostMessageInput,
)
from .status import ChatStatus, can_transition
from .store import ChatStore, ChatWrite
from .task_queue import TaskQueue
from .worker import ChatWorker, CompletionHandler, Delivery

__version__ = "0.2.0"

__all__ = [
    "AssistantChat",
    "AssistantConfig",
    "Author",
    "ChatCommand",
    "ChatConfig",
    "ChatDocumentInput",
    "ChatError",
    "ChatMessage",
    "ChatMeta",
    "ChatResult",
    "ChatState",
    "ChatStatus",
    "ChatStore",
    "ChatWorker",
    "ChatWrite",
    "CompletionEvent",
    "CompletionHandler",
    "ContinuationScheduler",
    "Delivery",
    "Engine",
    "EngineReply",
    "EngineRequest",
    "ErrorCode",
    "ErrorInfo",
    "MessageInput",
    "OfflineEngine",
    "PostMessageInput",
    "RunHooks",
    "TaskQueue",
    "__version__",
    "can_transition",
]
