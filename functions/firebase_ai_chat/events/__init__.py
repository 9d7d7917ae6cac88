"""What a client follows: the chat's events (``kinds``: status, message, removed, reset, done,
deleted; ``log``: when each is sent), their resumable cursor (``cursor``) and the chat seen as a
client sees it (``view``)."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .cursor import EventCursor as EventCursor
    from .kinds import EventKind as EventKind
    from .log import ChatEventLog as ChatEventLog
    from .view import ChatView as ChatView

_HOMES = {
    "log": ("ChatEventLog",),
    "kinds": ("EventKind",),
    "cursor": ("EventCursor",),
    "view": ("ChatView",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "ChatEventLog",
    "ChatView",
    "EventCursor",
    "EventKind",
]
