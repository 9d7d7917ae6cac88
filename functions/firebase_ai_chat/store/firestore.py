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
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.api_core import exceptions
from google.cloud import firestore

from ..errors import ChatError, ErrorCode
from ..models import CHATS, Author, ChatMessage, ChatState, RunClaim
from .documents import ChatWrite, Loaded, Outside, Version, stored_fields
from .optimistic import OptimisticStore
from .port import Conflict
from .retention import EXPIRES_AT, expiry

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


def _content(document: dict[str, Any] | None) -> dict[str, Any]:
    """A document as its writer gave it: without the times the store adds (created, updated, expiry)."""
    return {key: value for key, value in stored_fields(document or {}).items() if key != EXPIRES_AT}


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

    def __init__(
        self, client: firestore.Client, *, collection: str = CHATS, retention: timedelta | None = None
    ) -> None:
        self._client = client
        self.collection = collection
        """The collection of chats (``chats`` unless the app names another)."""
        self.retention = retention
        """With a retention, every document written carries ``expiresAt`` (``retention.py``)."""

    def _expiry(self) -> dict[str, Any]:
        return expiry(self.retention, datetime.now(UTC))

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

    def claim(self, chat_id: str, claim: RunClaim) -> None:
        """``runClaim`` set by an update of that one field (it fails, harmlessly, if the chat is gone)."""
        with contextlib.suppress(exceptions.NotFound):
            self._chat(chat_id).update({"runClaim": claim.to_document()})

    def read_record(self, chat_id: str, path: str) -> dict[str, Any] | None:
        """One record, read on its own."""
        snapshot = _child(self._chat(chat_id), path).get()
        return snapshot.to_dict() if snapshot.exists else None

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        """One batched write, preconditioned on the chat's update time (see the module)."""
        reference = self._chat(base.chat_id)
        batch = self._client.batch()
        state = write.state or base.state
        expires = self._expiry()
        if state is not None:
            fields = {**stored_fields(state.to_document()), **expires}
            fields["updatedAt"] = firestore.SERVER_TIMESTAMP
            if base.version is None:
                batch.create(reference, {**fields, "createdAt": firestore.SERVER_TIMESTAMP})
            else:
                old = stored_fields(base.state.to_document()) if base.state else {}
                fields.update({key: firestore.DELETE_FIELD for key in old.keys() - fields.keys()})
                batch.update(reference, fields, option=self._client.write_option(last_update_time=base.version))
        for message_id, message in write.messages.items():
            document = {**stored_fields(message.to_document()), **expires, "createdAt": firestore.SERVER_TIMESTAMP}
            batch.set(reference.collection(MESSAGES).document(message_id), document)
        for path, record in write.records.items():
            if record is None:
                batch.delete(_child(reference, path))
            else:
                batch.set(_child(reference, path), {**record, **expires})
        self._write_outside(batch, base, write)
        try:
            results = _refused(batch.commit)
        except exceptions.Cancelled:  # an unknown outcome: applied or not?
            version, outside = self._settled(base, write, state)
        else:
            version = results[0].update_time if state is not None else None
            first = (state is not None) + len(write.messages) + len(write.records)
            outside = [results[first + index].update_time for index in range(len(write.outside))]
        stored = None
        if state is not None:
            created = base.state.created_at if base.state and base.version is not None else version
            stored = state.model_copy(update={"created_at": created, "updated_at": version})
        written = {
            path: Outside(dict(data), updated)
            for (path, data), updated in zip(write.outside.items(), outside, strict=True)
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

    def _settled(self, base: Loaded, write: ChatWrite, state: ChatState | None) -> tuple[Version, list[Version]]:
        """The chat's version (and the outside documents') after a commit whose outcome is unknown, if
        it was applied; ``Conflict`` if not.

        The emulator answers ``CANCELLED`` to a commit it applied when a listener of the chat closes as
        it notifies them (docs/EMULATORS.md). One read of the chat and of one document the commit wrote
        tells: a message or record is unique to its commit (fresh ids, signed run records)."""
        reference = self._chat(base.chat_id)
        probe: tuple[firestore.DocumentReference, dict[str, Any]] | None = None
        if write.messages:
            message_id, message = next(iter(write.messages.items()))
            probe = (reference.collection(MESSAGES).document(message_id), stored_fields(message.to_document()))
        elif any(record is not None for record in write.records.values()):
            path, record = next((path, r) for path, r in write.records.items() if r is not None)
            probe = (_child(reference, path), record or {})
        outside = [self._client.document(path) for path in write.outside]
        wanted = [reference, *([probe[0]] if probe else []), *outside]
        found = {snapshot.reference.path: snapshot for snapshot in self._client.get_all(wanted)}
        chat = found[reference.path]
        if state is None or not chat.exists or chat.update_time == base.version:
            raise Conflict("the commit was not applied")
        if probe is None:
            applied = _content(chat.to_dict()) == _content(state.to_document())
        else:
            written = found[probe[0].path]
            applied = written.exists and _content(written.to_dict()) == _content(probe[1])
        if not applied:
            raise Conflict("the commit was not applied")
        logger.warning("a commit answered CANCELLED was applied (chat %s)", base.chat_id)
        return chat.update_time, [found[document.path].update_time for document in outside]

    def stream_message(
        self, chat_id: str, message_id: str, message: ChatMessage, *, previous: Version | None
    ) -> Version | None:
        """Create the partial message, or update it on its previous update time: one write, no read."""
        reference = self._chat(chat_id).collection(MESSAGES).document(message_id)
        fields = {**stored_fields(message.to_document()), **self._expiry()}
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

    def watch(self, chat_id: str, on_change: Callable[[ChatState | None], None]) -> Callable[[], None]:
        """A listener (``on_snapshot``) on the chat document; returns its unsubscribe."""

        def changed(snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
            # A document's listener is sent no snapshot at all when the document is absent or deleted.
            states = [ChatState.model_validate(s.to_dict()) if s.exists else None for s in snapshots] or [None]
            for state in states:
                try:
                    on_change(state)
                except Exception:  # a listener callback must never raise (it would end the watch)
                    logger.exception("chat listener failed on %s", chat_id)

        watch = self._chat(chat_id).on_snapshot(changed)
        return watch.unsubscribe

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

    def chats_of(self, user_id: str, *, limit: int) -> Sequence[str]:
        """Ids of the user's chats (the automatic single-field index on ``userId``; ids only)."""
        query = (
            self._client.collection(self.collection)
            .where(filter=firestore.FieldFilter("userId", "==", user_id))
            .select([])
            .limit(limit)
        )
        return [snapshot.id for snapshot in query.stream()]

    def delete_chat(self, chat_id: str) -> int:
        """The chat document, then its sub-collections through a ``BulkWriter``
        (``Client.recursive_delete``: it lists every document under the chat, ids only)."""
        reference = self._chat(chat_id)
        reference.delete()
        return self._client.recursive_delete(reference)
