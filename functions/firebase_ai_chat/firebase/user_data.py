"""A user's data as an app deletes it (``deleteMyData``, ``ChatApp.delete_user_data``), and an app's
own documents under a chat, written so that deleting the chat leaves nothing behind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..store.deletion import DeletedData, delete_user_chats
from .admin import firestore_client

if TYPE_CHECKING:
    from ..store.port import ChatStore

USAGE_DOCUMENT = "chatUsage/{uid}"
"""A user's usage counters (per-user limits), deleted with their data when present."""
STREAMS_DOCUMENT = "chatStreams/{uid}"
"""A user's open ``chatEvents`` streams (``stream_slots``), deleted with their data when present."""


def delete_user_data(store: ChatStore, user_id: str, user_documents: Sequence[str]) -> DeletedData:
    """Delete every chat of ``user_id`` with everything under it (runs in progress stop), and the
    user's own Firestore documents (``user_documents``, e.g. ``chatUsage/{uid}``, with anything under
    them). Idempotent; other users' data is untouched."""
    deleted = delete_user_chats(store, user_id)
    documents = deleted.deleted_documents
    if user_documents:
        client = firestore_client()
        for pattern in user_documents:
            reference = client.document(pattern.format(uid=user_id))
            documents += client.recursive_delete(reference) if _exists(reference) else 0
    return deleted.model_copy(update={"deleted_documents": documents})


def write_under_chat(chat_document: str, path: str, fields: dict[str, Any]) -> bool:
    """Write an app's own document at ``{chat_document}/{path}`` (e.g. ``completions/{id}``) unless the
    chat is gone. Written, then the chat read: a chat deleted meanwhile (``delete_user_data`` deletes
    the chat document before what is under it) has the write undone, so nothing is left under a
    deleted chat. ``False`` if undone."""
    client = firestore_client()
    reference = client.document(f"{chat_document}/{path}")
    reference.set(fields)
    if client.document(chat_document).get().exists:
        return True
    reference.delete()
    return False


def _exists(reference: Any) -> bool:
    """Whether a document exists or has sub-collections (``recursive_delete`` counts it otherwise)."""
    return bool(reference.get().exists) or any(True for _ in reference.collections())
