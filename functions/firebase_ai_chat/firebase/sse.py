"""``chatEvents``: a chat's events over Server-Sent Events (``text/event-stream``), from Firestore listeners.

``GET …/chatEvents?chat=chats/{id}[&follow=true][&maxSeconds=N]`` with
``Authorization: Bearer <Firebase ID token>`` and, to resume, ``Last-Event-ID``.
Only the chat's owner gets a stream; anyone else gets a JSON error and no stream
(``{"error": {"status", "message"}}``, as callables answer): 400, 401, 403, 404,
405 (not ``GET``), 429 (the user has as many streams open as the limit allows:
``stream_slots.py``) or 503 (the user's slots stayed contended).
The events are those of ``chat_events`` (status, message, removed, reset, done,
deleted); a comment heartbeat goes out after 15 s without one; after ``maxSeconds``
(at most the server's limit) the stream ends with a ``retry:`` hint and the client
reconnects with ``Last-Event-ID``. A client that got ``done`` and reconnects with
its id while nothing changed gets ``204 No Content`` (an ``EventSource`` then stops
reconnecting).

The order of work: every check that needs no read (``events_request``), then the user's
stream slot (refused over the limit before anything else is read), then the chat (one
read: 404, 403, or the 204), then the listeners. Whatever ends the stream (``done``,
``deleted``, the time limit, the client leaving, an error) stops the listeners and gives
the slot back, at once: the stream looks for a client that went away every 0.25 s.
"""

from __future__ import annotations

import functools
import logging
import queue
import select
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import flask
from google.cloud.firestore import FieldFilter

from ..errors import ErrorCode
from ..events.log import ChatEventLog, Event, MessageKey, MessageVersion
from ..models import ChatMessage, ChatState
from ..status import ChatStatus
from ._compat import listeners_may_miss_documents
from .callables import rejected_response
from .events_request import EventsError, EventsRequest, events_request
from .stream_lease import LeaseBusy, StreamLease
from .stream_slots import too_many

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 1000
POLL_SECONDS = 0.25  # how often the stream looks for a client that went away
CATCH_UP_GRACE_SECONDS = 1.0  # how long ``done`` waits for the messages listener before reading them
STREAMING_GRACE_SECONDS = 5.0  # how long ``done`` waits for a partial message of an abandoned run to go


def micros(timestamp: datetime | None) -> int:
    """A Firestore timestamp as microseconds since the epoch (0 for none)."""
    return 0 if timestamp is None else int(timestamp.timestamp() * 1_000_000)


def message_version(snapshot: Any) -> MessageVersion:
    document = snapshot.to_dict() or {}
    key = MessageKey(
        updated=micros(snapshot.update_time),
        created=micros(document.get("createdAt")),
        index=int(document.get("inBatchSortIndex") or 0),
        id=snapshot.id,
    )
    return MessageVersion(key=key, message=ChatMessage.model_validate(document))


def messages_query(db: Any, chat: str, uid: str) -> Any:
    """The chat's messages as its owner may list them."""
    return db.document(chat).collection("messages").where(filter=FieldFilter("userId", "==", uid))


def read_messages(query: Any, floor: int) -> tuple[list[MessageVersion], int]:
    """The messages, read once, and a time they were read at (at least ``floor``: a read issued after
    the chat version ``floor`` was seen is complete up to it)."""
    snapshots = query.get()
    return [message_version(s) for s in snapshots], max([floor, *(micros(s.read_time) for s in snapshots)])


def client_gone(environ: dict[str, Any]) -> bool:
    """Whether the client closed its connection (gunicorn's socket reads end-of-file)."""
    sock = environ.get("gunicorn.socket")
    if not isinstance(sock, socket.socket):
        return False
    try:
        readable_now, _, _ = select.select([sock], [], [], 0)
        return bool(readable_now) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class Grace:
    """Whether the log has waited ``seconds`` on the same thing (a chat version) in a row."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._waiting: tuple[int, float] | None = None

    def over(self, version: int | None) -> bool:
        if version is None or self._waiting is None or self._waiting[0] != version:
            self._waiting = None if version is None else (version, time.monotonic())
            return False
        return time.monotonic() - self._waiting[1] >= self.seconds


class ChatEventStream:
    """One client's stream: the chat's listeners feed a queue; ``lines()`` writes the events out."""

    def __init__(
        self, *, db: Any, request: EventsRequest, log: ChatEventLog, environ: dict[str, Any], on_end: Callable[[], None]
    ) -> None:
        self.db, self.request, self.log, self.environ = db, request, log, environ
        self._on_end: Callable[[], None] | None = on_end
        self._updates: queue.Queue[Callable[[], list[Event]]] = queue.Queue()
        self._watches: list[Any] = []
        catch_up = 0.0 if log.done_needs_a_read else CATCH_UP_GRACE_SECONDS
        self._catching_up, self._streaming = Grace(catch_up), Grace(STREAMING_GRACE_SECONDS)
        self.ended_by = "error"

    def start(self) -> None:
        chat = self.db.document(self.request.chat)
        messages = messages_query(self.db, self.request.chat, self.request.uid)
        self._watches = [chat.on_snapshot(self._on_chat), messages.on_snapshot(self._on_messages)]

    def stop(self) -> None:
        """Stops the listeners and gives the slot back (once; also when the response closes unread)."""
        for watch in self._watches:
            watch.unsubscribe()
        self._watches = []
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end()
            chat_id = self.request.chat.split("/")[-1]
            extra = {"chatId": chat_id, "userId": self.request.uid, "endedBy": self.ended_by}
            logger.info("chatEvents: stream closed (%s)", self.ended_by, extra=extra)

    def _on_chat(self, snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        """A document listener gets the document, or no snapshot at all once it is deleted."""
        found = [snapshot for snapshot in snapshots if snapshot.exists]
        if not found:
            self._updates.put(self.log.chat_deleted)
        for snapshot in found:
            version, document = micros(snapshot.update_time), snapshot.to_dict() or {}
            self._updates.put(functools.partial(self.log.chat_changed, version, ChatState.model_validate(document)))

    def _on_messages(self, snapshots: list[Any], _changes: Any, read_time: Any) -> None:
        versions = [message_version(snapshot) for snapshot in snapshots]
        self._updates.put(functools.partial(self.log.messages_changed, versions, micros(read_time)))

    def _waited(self) -> list[Event]:
        """What the waits of ``done`` give when over: the messages read once when their listener is late
        (usually it delivers first, and this costs nothing); ``done`` without waiting any longer for a
        partial message to go."""
        version = self.log.awaiting_messages
        if self._catching_up.over(version):
            query = messages_query(self.db, self.request.chat, self.request.uid)
            return self.log.messages_changed(*read_messages(query, version or 0), read=True)
        if self._streaming.over(self.log.awaiting_streams):
            return self.log.stop_waiting_for_streams()
        return []

    def lines(self, max_seconds: float) -> Iterator[str]:
        """The stream: the events as the listeners deliver them (their first snapshots give the chat so
        far), heartbeats, and the end (``retry:`` when cut short)."""
        started = last_sent = time.monotonic()
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n"
            while not self.log.finished:
                if client_gone(self.environ):
                    self.ended_by = "client left"
                    return
                now = time.monotonic()
                if now - started >= max_seconds:
                    self.ended_by = "time limit"
                    yield f": the connection ends after {max_seconds:.0f} s; reconnect with Last-Event-ID\n"
                    yield f"retry: {RETRY_MILLISECONDS}\n\n"
                    return
                try:
                    events = self._updates.get(timeout=POLL_SECONDS)()
                except queue.Empty:
                    events = self._waited()
                    if not events and now - last_sent >= HEARTBEAT_SECONDS:
                        last_sent = now
                        yield ": heartbeat\n\n"
                for event in events:
                    last_sent = time.monotonic()
                    yield event.encode()
            self.ended_by = "end of the events"
        finally:
            self.stop()


def nothing_new(db: Any, checked: EventsRequest, chat: Any, follow: bool) -> bool:
    """Whether a client back with the id of a ``done`` has everything (204): the chat unchanged since
    (every commit writes it), and, when it holds a message still streaming (a partial answer its run
    may delete with no commit), the messages too (read once, only then)."""
    cursor, status = checked.cursor, ChatStatus(chat.get("status"))
    log = ChatEventLog(chat=checked.chat, cursor=cursor, follow=follow)
    version = micros(chat.update_time)
    if not cursor.done or cursor.held is None or version > cursor.chat or not log.ends_at(status):
        return False
    if cursor.held.streaming == 0:
        return True
    events = log.chat_changed(version, ChatState.model_validate(chat.to_dict() or {}))
    events += log.messages_changed(*read_messages(messages_query(db, checked.chat, checked.uid), version))
    events += log.stop_waiting_for_streams()
    return [event.id for event in events] == [str(cursor)]


def serve_chat_events(
    request: flask.Request,
    *,
    db: Any,
    collection: str,
    verify: Callable[[str], dict[str, Any]],
    max_seconds: int,
    lease: StreamLease | None,
) -> flask.Response:
    """Answers one ``chatEvents`` request (see the module)."""
    try:
        checked = events_request(request, collection=collection, verify=verify)
    except EventsError as error:
        return _refused(error)
    try:
        release = _take_slot(lease, checked.uid)
        return _stream(request, db=db, checked=checked, max_seconds=max_seconds, release=release)
    except EventsError as error:
        return _refused(error, checked.uid)


def _take_slot(lease: StreamLease | None, uid: str) -> Callable[[], None]:
    """A slot of the user's limit on open streams, as the call that gives it back; ``EventsError``
    (429, or 503 when the user's slot document stays contended) when refused."""
    if lease is None:
        return _nothing
    try:
        slot = lease.acquire(uid)
    except LeaseBusy:
        raise EventsError(ErrorCode.UNAVAILABLE, "Too many streams are opening at once. Try again.") from None
    if slot is None:
        raise EventsError(ErrorCode.RESOURCE_EXHAUSTED, too_many(lease.limit))
    return functools.partial(lease.release, uid, slot)


def _stream(
    request: flask.Request, *, db: Any, checked: EventsRequest, max_seconds: int, release: Callable[[], None]
) -> flask.Response:
    """The stream of a request that holds a slot, or 204; the slot is given back on any refusal."""
    try:
        chat = db.document(checked.chat).get()
        if not chat.exists:
            raise EventsError(ErrorCode.NOT_FOUND, "There is no such chat.")
        if chat.get("userId") != checked.uid:
            raise EventsError(ErrorCode.PERMISSION_DENIED, "This chat is not yours.")
        if nothing_new(db, checked, chat, checked.follow):
            release()  # an EventSource stops here
            return flask.Response(status=204)
    except BaseException:
        release()
        raise
    emulated = listeners_may_miss_documents()
    log = ChatEventLog(chat=checked.chat, cursor=checked.cursor, follow=checked.follow, done_needs_a_read=emulated)
    stream = ChatEventStream(db=db, request=checked, log=log, environ=request.environ, on_end=release)
    try:
        stream.start()
        limit = min(checked.max_seconds or max_seconds, max_seconds)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        response = flask.Response(stream.lines(limit), mimetype="text/event-stream", headers=headers)
    except BaseException:
        stream.stop()  # the listeners, and the slot
        raise
    response.call_on_close(stream.stop)  # also when the server closes the response before it ran
    return response


def _refused(error: EventsError, uid: str | None = None) -> flask.Response:
    response = rejected_response(error.code, error.message, error.http_status, uid)
    response.headers.update(error.headers)
    return response


def _nothing() -> None:
    pass
