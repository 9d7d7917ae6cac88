"""The Firestore adapter of the ``ChatStore`` port.

Layout: ``chats/{chatId}`` (``ChatState``) and ``chats/{chatId}/messages/{id}``
(``ChatMessage``). Timestamps are Firestore server timestamps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from google.api_core import exceptions
from google.cloud import firestore

from ..errors import ChatError, ErrorCode
from ..models import Author, ChatMessage, ChatState
from ..store import Change, ChatWrite

T = TypeVar("T")

logger = logging.getLogger(__name__)

BUSY = "The chat is busy. Please try again."
REFUSED = "The chat could not be saved."
CHATS = "chats"
MESSAGES = "messages"


def _child(chat: firestore.DocumentReference, path: str) -> firestore.DocumentReference:
    """The record at ``path`` (``collection/document``) under the chat."""
    collection, document = path.split("/", 1)
    return chat.collection(collection).document(document)


def _without_timestamps(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in ("createdAt", "updatedAt")}


class _TransactionSnapshot:
    """Reads through the transaction (Firestore wants every read before the first write)."""

    def __init__(self, transaction: firestore.Transaction, reference: firestore.DocumentReference) -> None:
        self._transaction = transaction
        self._reference = reference
        snapshot = reference.get(transaction=transaction)
        self.state = ChatState.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def record(self, path: str) -> dict[str, Any] | None:
        snapshot = _child(self._reference, path).get(transaction=self._transaction)
        return snapshot.to_dict() if snapshot.exists else None


def _translated(run: Callable[[firestore.Transaction], T], transaction: firestore.Transaction) -> T:
    """Run a transaction; contention is ``unavailable`` (transient), a write Firestore refuses
    (a value out of range, a reserved id) is ``internal`` and permanent: retrying cannot help."""
    try:
        return run(transaction)
    except exceptions.Aborted as error:
        raise ChatError(ErrorCode.UNAVAILABLE, BUSY) from error
    except ValueError as error:
        if isinstance(error.__cause__, exceptions.Aborted):  # "Failed to commit transaction in N attempts"
            raise ChatError(ErrorCode.UNAVAILABLE, BUSY) from error
        logger.error("Firestore refused a write: %s", error)
        raise ChatError(ErrorCode.INTERNAL, REFUSED, permanent=True) from error
    except exceptions.InvalidArgument as error:
        logger.error("Firestore refused a write: %s", error)
        raise ChatError(ErrorCode.INTERNAL, REFUSED, permanent=True) from error


class FirestoreChatStore:
    """``ChatStore`` on a ``google.cloud.firestore.Client``.

    Transactions on a busy chat (many posts at once, a streaming run) contend;
    each is tried up to ``max_attempts`` times, then fails ``unavailable``
    (transient: the client may retry, the worker's task is retried).
    """

    def __init__(self, client: firestore.Client, *, max_attempts: int = 30) -> None:
        self._client = client
        self._max_attempts = max_attempts

    def _transaction(self) -> firestore.Transaction:
        return self._client.transaction(max_attempts=self._max_attempts)

    def _chat(self, chat_id: str) -> firestore.DocumentReference:
        return self._client.collection(CHATS).document(chat_id)

    def new_id(self) -> str:
        """A Firestore auto-id."""
        return self._client.collection(CHATS).document().id

    def get(self, chat_id: str) -> ChatState | None:
        """Read ``chats/{chat_id}``."""
        snapshot = self._chat(chat_id).get()
        return ChatState.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def record(self, chat_id: str, path: str) -> dict[str, Any] | None:
        """Read ``chats/{chat_id}/{path}``."""
        snapshot = _child(self._chat(chat_id), path).get()
        return snapshot.to_dict() if snapshot.exists else None

    def update(self, chat_id: str, change: Change[T]) -> T:
        """Read what ``change`` asks for, apply it and write the result in one transaction."""
        reference = self._chat(chat_id)

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> T:
            snapshot = _TransactionSnapshot(transaction, reference)
            write, result = change(snapshot)
            self._write(transaction, reference, write, created=snapshot.state is None)
            return result

        return _translated(run, self._transaction())

    @staticmethod
    def _write(
        transaction: firestore.Transaction,
        reference: firestore.DocumentReference,
        write: ChatWrite,
        *,
        created: bool,
    ) -> None:
        if write.state is not None:
            document = _without_timestamps(write.state.to_document())
            document["updatedAt"] = firestore.SERVER_TIMESTAMP
            document["createdAt"] = firestore.SERVER_TIMESTAMP if created else write.state.created_at
            transaction.set(reference, document)
        for message_id, message in write.messages.items():
            document = _without_timestamps(message.to_document())
            document["createdAt"] = firestore.SERVER_TIMESTAMP
            transaction.set(reference.collection(MESSAGES).document(message_id), document)
        for path, record in write.records.items():
            if record is None:
                transaction.delete(_child(reference, path))
            else:
                transaction.set(_child(reference, path), record)

    def stream_message(self, chat_id: str, message_id: str, message: ChatMessage) -> bool:
        """Write a partial message in a transaction that refuses to overwrite a final one."""
        reference = self._chat(chat_id).collection(MESSAGES).document(message_id)

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> bool:
            snapshot = reference.get(transaction=transaction)
            if snapshot.exists and not (snapshot.to_dict() or {}).get("streaming", False):
                return False
            document = _without_timestamps(message.to_document())
            document["createdAt"] = snapshot.get("createdAt") if snapshot.exists else firestore.SERVER_TIMESTAMP
            transaction.set(reference, document)
            return True

        return _translated(run, self._transaction())

    def discard_partial(self, chat_id: str, message_id: str) -> None:
        """Delete the message in a transaction, only while it is still streaming."""
        reference = self._chat(chat_id).collection(MESSAGES).document(message_id)

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> None:
            snapshot = reference.get(transaction=transaction)
            if snapshot.exists and (snapshot.to_dict() or {}).get("streaming"):
                transaction.delete(reference)

        run(self._transaction())

    def processing_since(self, updated_before: datetime, *, limit: int) -> Sequence[str]:
        """Chats ``processing`` and not updated since ``updated_before`` (index: status, updatedAt)."""
        query = (
            self._client.collection(CHATS)
            .where(filter=firestore.FieldFilter("status", "==", "processing"))
            .where(filter=firestore.FieldFilter("updatedAt", "<", updated_before))
            .limit(limit)
        )
        return [snapshot.id for snapshot in query.stream()]

    def messages(self, chat_id: str, *, dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
        """Messages of one dispatch and author, oldest first."""
        query = (
            self._chat(chat_id)
            .collection(MESSAGES)
            .where(filter=firestore.FieldFilter("dispatchId", "==", dispatch_id))
            .where(filter=firestore.FieldFilter("author", "==", author.value))
        )
        found = [ChatMessage.model_validate(snapshot.to_dict()) for snapshot in query.stream()]
        return sorted(
            found, key=lambda message: (message.created_at is None, message.created_at, message.in_batch_sort_index)
        )
