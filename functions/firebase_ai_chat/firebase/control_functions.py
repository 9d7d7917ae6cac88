"""The controls an app needs before it goes public, as ``ChatApp`` methods (a mixin; see ``app``):
App Check on its functions (``app_check.py``) and deleting a user's data (``deletion.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from firebase_functions import https_fn

from ..store.deletion import DeletedData, DeleteMyDataInput, delete_user_chats
from .admin import firestore_client
from .app_check import AppCheck, consume_call_token
from .callables import Caller, handle_call
from .specs import CALLABLE_ERRORS, CallableSpec

if TYPE_CHECKING:
    from ..store.port import ChatStore

USAGE_DOCUMENT = "chatUsage/{uid}"
"""A user's usage counters (per-user limits), deleted with their data when present."""
STREAMS_DOCUMENT = "chatStreams/{uid}"
"""A user's open ``chatEvents`` streams (``stream_slots``), deleted with their data when present."""

DELETE_TIMEOUT = 540
"""Seconds a ``deleteMyData`` call may take (50 chats of 200 messages take far less)."""


class ControlFunctions:
    """App Check on the callables and user-data deletion (``ChatApp`` provides the attributes)."""

    app_check: AppCheck | None
    user_documents: tuple[str, ...]
    _store: ChatStore | None
    _specs: list[CallableSpec]

    @property
    def store(self) -> ChatStore:
        raise NotImplementedError

    def _callable(
        self, name: str, handler: Callable[[https_fn.CallableRequest[Any]], Any], **settings: Any
    ) -> Callable[..., Any]:
        raise NotImplementedError

    def _call_options(self) -> dict[str, Any]:
        """What every callable of the app is declared with (``https_fn.on_call``)."""
        return {"enforce_app_check": True} if self.app_check else {}

    def _checked(
        self, handler: Callable[[https_fn.CallableRequest[Any]], Any]
    ) -> Callable[[https_fn.CallableRequest[Any]], Any]:
        """``handler`` after the replay protection of App Check (when the app asks for it)."""

        def checked(request: https_fn.CallableRequest[Any]) -> Any:
            consume_call_token(request, self.app_check)
            return handler(request)

        return checked

    def delete_user_data(self, user_id: str) -> DeletedData:
        """Delete every chat of ``user_id`` with everything under it (runs in progress stop), and the
        user's own documents (``user_documents``, e.g. ``chatUsage/{uid}`` and ``chatStreams/{uid}``,
        with anything under them, when the app runs on Firestore). Idempotent; other users' data is
        untouched. For the app's own account-deletion flow (e.g. when a user deletes their account)."""
        deleted = delete_user_chats(self.store, user_id)
        documents = deleted.deleted_documents
        if self._store is None:  # on Firestore (an app tested on an in-memory store has none)
            client = firestore_client()
            for pattern in self.user_documents:
                reference = client.document(pattern.format(uid=user_id))
                documents += client.recursive_delete(reference) if _exists(reference) else 0
        return deleted.model_copy(update={"deleted_documents": documents})

    def expiry(self) -> dict[str, Any]:
        raise NotImplementedError

    def write_under_chat(self, chat_document: str, path: str, fields: dict[str, Any]) -> bool:
        """Write an app's own document at ``{chat_document}/{path}`` (e.g. ``completions/{id}``) with
        the chat's retention (``expiresAt``), unless the chat is gone. Written, then the chat read: a
        chat deleted meanwhile (``delete_user_data`` deletes the chat document before what is under
        it) has the write undone, so nothing is left under a deleted chat. ``False`` if undone."""
        client = firestore_client()
        reference = client.document(f"{chat_document}/{path}")
        reference.set({**fields, **self.expiry()})
        if client.document(chat_document).get().exists:
            return True
        reference.delete()
        return False

    def delete_data_function(self, name: str = "deleteMyData") -> Callable[..., Any]:
        """The callable ``{}`` → ``{deletedChats, deletedDocuments}`` that deletes the caller's data
        (``delete_user_data``)."""

        def delete(caller: Caller, payload: DeleteMyDataInput) -> DeletedData:
            return self.delete_user_data(caller.uid)

        summary = "Delete every chat of the caller with everything under it."
        self._specs.append(CallableSpec(name, summary, DeleteMyDataInput, DeletedData, CALLABLE_ERRORS))
        handler = lambda request: handle_call(request, DeleteMyDataInput, delete)  # noqa: E731
        return self._callable(name, handler, timeout_sec=DELETE_TIMEOUT)


def _exists(reference: Any) -> bool:
    """Whether a document exists or has sub-collections (``recursive_delete`` counts it otherwise)."""
    return bool(reference.get().exists) or any(True for _ in reference.collections())
