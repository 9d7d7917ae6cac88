"""The Firestore adapter of the ``ChatStore`` port.

Layout: ``chats/{chatId}`` (``ChatState``), ``chats/{chatId}/messages/{id}``
(``ChatMessage``) and the private records under the chat. Timestamps are
Firestore server timestamps; a document's version is its update time.

No transaction: ``load`` is one ``BatchGetDocuments`` of the chat and the
records asked for; ``commit`` is one batched write whose chat write carries a
precondition (the chat's update time, or that it does not exist yet), so a
conflicting change makes it write nothing. Partial streamed messages are
written blind (create, then update on the previous update time): one write
and no read each.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from google.api_core import exceptions
from google.cloud import firestore

from ..errors import ChatError, ErrorCode
from ..models import CHATS, Author, ChatMessage, ChatState
from ..store import ChatWrite, Conflict, Loaded, OptimisticStore, Outside, Version, stored_fields

T = TypeVar("T")

logger = logging.getLogger(__name__)

REFUSED = "The chat could not be saved."
MESSAGES = "messages"
_CONFLICTS = (exceptions.FailedPrecondition, exceptions.AlreadyExists, exceptions.NotFound, exceptions.Aborted)


def _child(chat: firestore.DocumentReference, path: str) -> firestore.DocumentReference:
    """The document at ``path`` (``collection/document``) under the chat."""
    collection, document = path.split("/", 1)
    return chat.collection(collection).document(document)


def _refused(run: Callable[[], T]) -> T:
    """Run a write; a write Firestore refuses (a value out of range, a reserved id) is ``internal``
    and permanent: retrying cannot help. Conflicts pass through as ``Conflict``."""
    try:
        return run()
    except _CONFLICTS as error:
        raise Conflict(str(error)) from error
    except (ValueError, exceptions.InvalidArgument) as error:
        logger.error("Firestore refused a write: %s", error)
        raise ChatError(ErrorCode.INTERNAL, REFUSED, permanent=True) from error


def _outside(snapshot: Any) -> Outside:
    return Outside(snapshot.to_dict(), snapshot.update_time) if snapshot.exists else Outside(None, None)


def _increments(amounts: Mapping[str, float]) -> dict[str, Any]:
    """Nested fields with ``Increment`` leaves, for a merging ``set``:
    ``{"a.b": 1}`` → ``{"a": {"b": Increment(1)}}``."""
    nested: dict[str, Any] = {}
    for dotted, amount in amounts.items():
        *parents, leaf = dotted.split(".")
        level = nested
        for part in parents:
            level = level.setdefault(part, {})
        level[leaf] = firestore.Increment(amount)
    return nested


class FirestoreChatStore(OptimisticStore):
    """``ChatStore`` on a ``google.cloud.firestore.Client``."""

    def __init__(self, client: firestore.Client, *, collection: str = CHATS) -> None:
        self._client = client
        self.collection = collection
        """The collection of chats (``chats`` unless the app names another)."""

    def _chat(self, chat_id: str) -> firestore.DocumentReference:
        return self._client.collection(self.collection).document(chat_id)

    def new_id(self) -> str:
        """A Firestore auto-id."""
        return self._client.collection(self.collection).document().id

    def load(self, chat_id: str, paths: Sequence[str] = (), *, outside: Sequence[str] = ()) -> Loaded:
        """The chat, the records at ``paths`` and the ``outside`` documents in one ``BatchGetDocuments``."""
        chat = self._chat(chat_id)
        references = {chat.path: "", **{_child(chat, path).path: path for path in paths}}
        references.update({path: f"/{path}" for path in outside})
        found: dict[str, Any] = {}
        for snapshot in self._client.get_all([self._client.document(p) for p in references]):
            found[references[snapshot.reference.path]] = snapshot
        state_snapshot = found[""]
        state = ChatState.model_validate(state_snapshot.to_dict()) if state_snapshot.exists else None
        return Loaded(
            chat_id=chat_id,
            state=state,
            version=state_snapshot.update_time if state_snapshot.exists else None,
            records={path: found[path].to_dict() if found[path].exists else None for path in paths},
            fetch=lambda path: self.read_record(chat_id, path),
            documents={path: _outside(found[f"/{path}"]) for path in outside},
        )

    def read_outside(self, path: str) -> Outside:
        """One document outside any chat, read on its own."""
        return _outside(self._client.document(path).get())

    def read_record(self, chat_id: str, path: str) -> dict[str, Any] | None:
        """One record, read on its own."""
        snapshot = _child(self._chat(chat_id), path).get()
        return snapshot.to_dict() if snapshot.exists else None

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        """One batched write, preconditioned on the chat's update time (see the module)."""
        reference = self._chat(base.chat_id)
        batch = self._client.batch()
        state = write.state or base.state
        if state is not None:
            fields = stored_fields(state.to_document())
            fields["updatedAt"] = firestore.SERVER_TIMESTAMP
            if base.version is None:
                batch.create(reference, {**fields, "createdAt": firestore.SERVER_TIMESTAMP})
            else:
                old = stored_fields(base.state.to_document()) if base.state else {}
                fields.update({key: firestore.DELETE_FIELD for key in old.keys() - fields.keys()})
                batch.update(reference, fields, option=self._client.write_option(last_update_time=base.version))
        for message_id, message in write.messages.items():
            document = {**stored_fields(message.to_document()), "createdAt": firestore.SERVER_TIMESTAMP}
            batch.set(reference.collection(MESSAGES).document(message_id), document)
        for path, record in write.records.items():
            if record is None:
                batch.delete(_child(reference, path))
            else:
                batch.set(_child(reference, path), record)
        self._write_outside(batch, base, write)
        results = _refused(batch.commit)
        version = results[0].update_time if state is not None else None
        stored = None
        if state is not None:
            created = base.state.created_at if base.state and base.version is not None else version
            stored = state.model_copy(update={"created_at": created, "updated_at": version})
        first = (state is not None) + len(write.messages) + len(write.records)
        written = {
            path: Outside(dict(data), results[first + index].update_time)
            for index, (path, data) in enumerate(write.outside.items())
        }
        return base.advanced(state=stored, version=version, records=write.records, documents=written)

    def _write_outside(self, batch: Any, base: Loaded, write: ChatWrite) -> None:
        """The outside documents, each preconditioned on the version loaded (created when absent), then
        the blind increments (a merge, so a missing document is created)."""
        for path, data in write.outside.items():
            reference = self._client.document(path)
            version = base.documents[path].version if path in base.documents else None
            if version is None:
                batch.create(reference, data)
            else:
                batch.update(reference, data, option=self._client.write_option(last_update_time=version))
        for path, amounts in write.increments.items():
            batch.set(self._client.document(path), _increments(amounts), merge=True)

    def stream_message(
        self, chat_id: str, message_id: str, message: ChatMessage, *, previous: Version | None
    ) -> Version | None:
        """Create the partial message, or update it on its previous update time: one write, no read."""
        reference = self._chat(chat_id).collection(MESSAGES).document(message_id)
        fields = stored_fields(message.to_document())
        try:
            if previous is None:
                result = _refused(lambda: reference.create({**fields, "createdAt": firestore.SERVER_TIMESTAMP}))
            else:
                option = self._client.write_option(last_update_time=previous)
                result = _refused(lambda: reference.update(fields, option=option))
        except Conflict:
            return None
        return result.update_time

    def discard_partial(self, chat_id: str, message_id: str, *, version: Version) -> None:
        """Delete the partial message if it is still as this run wrote it."""
        reference = self._chat(chat_id).collection(MESSAGES).document(message_id)
        with contextlib.suppress(Conflict):
            _refused(lambda: reference.delete(option=self._client.write_option(last_update_time=version)))

    def processing_since(self, updated_before: datetime, *, limit: int) -> Sequence[str]:
        """Chats ``processing`` and not updated since ``updated_before`` (index: status, updatedAt)."""
        query = (
            self._client.collection(self.collection)
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
