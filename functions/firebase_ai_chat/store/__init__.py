"""Where chats are kept: the port (``ChatStore``, the optimistic base of its adapters, the
write and snapshot it speaks) and its adapters, Firestore (``firestore``) and in memory (``memory``)."""

from typing import TYPE_CHECKING

from .._faces import face

if TYPE_CHECKING:
    from .documents import ChatSnapshot as ChatSnapshot
    from .documents import ChatWrite as ChatWrite
    from .documents import Loaded as Loaded
    from .documents import read_record as read_record
    from .firestore import FirestoreChatStore as FirestoreChatStore
    from .memory import InMemoryChatStore as InMemoryChatStore
    from .optimistic import OptimisticStore as OptimisticStore
    from .port import ChatStore as ChatStore
    from .port import Conflict as Conflict
    from .port import Held as Held

_HOMES = {
    "port": ("ChatStore", "Conflict", "Held"),
    "documents": ("ChatSnapshot", "ChatWrite", "Loaded", "read_record"),
    "optimistic": ("OptimisticStore",),
    "firestore": ("FirestoreChatStore",),
    "memory": ("InMemoryChatStore",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "ChatSnapshot",
    "ChatStore",
    "ChatWrite",
    "Conflict",
    "FirestoreChatStore",
    "Held",
    "InMemoryChatStore",
    "Loaded",
    "OptimisticStore",
    "read_record",
]
