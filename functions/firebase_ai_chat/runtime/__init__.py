"""Running the assistants: the worker that handles one task, its run loop and turns, tool calls
and their continuations, streaming, stop, the watchdog, hooks and spending."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .assistants import AssistantSpec as AssistantSpec
    from .assistants import Handoffs as Handoffs
    from .continuations import ContinuationScheduler as ContinuationScheduler
    from .hooks import CompletionEvent as CompletionEvent
    from .hooks import RunHooks as RunHooks
    from .stop import stop_committed as stop_committed
    from .worker import ChatWorker as ChatWorker
    from .worker import Delivery as Delivery

_HOMES = {
    "assistants": ("AssistantSpec", "Handoffs"),
    "worker": ("ChatWorker", "Delivery"),
    "continuations": ("ContinuationScheduler",),
    "hooks": ("CompletionEvent", "RunHooks"),
    "stop": ("stop_committed",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "AssistantSpec",
    "ChatWorker",
    "CompletionEvent",
    "ContinuationScheduler",
    "Delivery",
    "Handoffs",
    "RunHooks",
    "stop_committed",
]
