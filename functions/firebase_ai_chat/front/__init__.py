"""What the callables call: ``AssistantChat`` (create, post, hand over, close, stop) and the
idempotency of client keys. Never imports ``runtime/``."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .chat import AssistantChat as AssistantChat

_HOMES = {
    "chat": ("AssistantChat",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "AssistantChat",
]
