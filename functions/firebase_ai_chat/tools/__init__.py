"""What a tool author touches: typed tools (``toolset``), what a tool receives (``context``), what it
hands back (``results``, checked by ``storable``), and the dispatcher contract (``dispatcher``).

A dispatcher is called as ``dispatch(data, name, args, continuation, chat)``
and answers with one of:

- ``ToolValue(value)``: a JSON result sent to the model;
- ``DataReduction(data)``: the chat's new ``data``, persisted and sent to the model;
- ``ToolFailure(message)``: a tool error sent to the model (the chat goes on);
- ``Continuation.suspend()``: the call finishes later (see ``runtime/continuations.py``).

``Toolset`` builds a dispatcher from plain functions whose argument schema is
a pydantic model (taken from the type hint of the second parameter).
Arguments the model gets wrong become a ``ToolFailure`` it can read, never a
crash. An exception a tool raises is logged in full and reaches the model (and
so the user) only as a short generic tool error: only ``ToolFailure`` messages
the tool's author wrote are passed through. A value or data Firestore cannot
store (see ``storable.py``), or data its model rejects, is a tool error too.
"""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .context import ChatContext as ChatContext
    from .context import Continuation as Continuation
    from .context import HandBack as HandBack
    from .context import HandOver as HandOver
    from .context import ToolContext as ToolContext
    from .dispatcher import Dispatch as Dispatch
    from .dispatcher import ToolsDispatcher as ToolsDispatcher
    from .results import CompletedResult as CompletedResult
    from .results import DataReduction as DataReduction
    from .results import Resumer as Resumer
    from .results import Suspended as Suspended
    from .results import ToolFailure as ToolFailure
    from .results import ToolResult as ToolResult
    from .results import ToolValue as ToolValue
    from .results import reduce as reduce
    from .toolset import NoArgs as NoArgs
    from .toolset import Toolset as Toolset

_HOMES = {
    "results": (
        "CompletedResult",
        "DataReduction",
        "Resumer",
        "Suspended",
        "ToolFailure",
        "ToolResult",
        "ToolValue",
        "reduce",
    ),
    "context": ("ChatContext", "Continuation", "HandBack", "HandOver", "ToolContext"),
    "dispatcher": ("Dispatch", "ToolsDispatcher"),
    "toolset": ("NoArgs", "Toolset"),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "ChatContext",
    "CompletedResult",
    "Continuation",
    "DataReduction",
    "Dispatch",
    "HandBack",
    "HandOver",
    "NoArgs",
    "Resumer",
    "Suspended",
    "ToolContext",
    "ToolFailure",
    "ToolResult",
    "ToolValue",
    "ToolsDispatcher",
    "Toolset",
    "reduce",
]
