"""``chatEvents``: a chat's events over Server-Sent Events (``text/event-stream``), from Firestore listeners.

``GET …/chatEvents?chat=chats/{id}[&follow=true][&maxSeconds=N]`` with
``Authorization: Bearer <Firebase ID token>`` and, to resume, ``Last-Event-ID``.
Only the chat's owner gets a stream; anyone else gets a JSON error and no stream
(``{"error": {"status", "message"}}``, as callables answer): 400, 401, 403 or 404.
The events are those of ``chat_events`` (status, message, done); a comment
heartbeat goes out after 15 s without one; after ``maxSeconds`` (at most the
server's limit) the stream ends with a ``retry:`` hint and the client reconnects
with ``Last-Event-ID``. The listeners stop as soon as the client goes away.
A client that got ``done`` and reconnects with its id while nothing changed gets
``204 No Content`` (an ``EventSource`` then stops reconnecting).
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .callables import readable, rejected_response
from .chat_events import ChatEventLog, Event, EventCursor, MessageKey, MessageVersion
from .models import CHAT_DOCUMENT_PATTERN
from .status import ChatStatus

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 1000
POLL_SECONDS = 0.25  # how often the stream looks for a client that went away
CATCH_UP_GRACE_SECONDS = 1.0  # how long ``done`` waits for the messages listener before reading them


class ChatEventsQuery(BaseModel):
    """The query string of ``chatEvents``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, regex_engine="python-re")
    chat: str = Field(pattern=CHAT_DOCUMENT_PATTERN.pattern, description="The chat, as `chats/{chatId}`.")
    follow: bool = Field(default=False, description="Keep streaming across turns until the chat ends.")
    max_seconds: int | None = Field(
        default=None, alias="maxSeconds", ge=1, description="End the stream sooner (a retry: hint follows)."
    )


class EventsError(Exception):
    """A request refused before any stream: answered with ``status`` and a JSON error body."""

    def __init__(self, http_status: int, status: str, message: str) -> None:
        super().__init__(message)
        self.http_status, self.status, self.message = http_status, status, message


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
    return MessageVersion(key=key, document=document)


def parse_query(args: Any) -> ChatEventsQuery:
    try:
        return ChatEventsQuery.model_validate(dict(args.items()))
    except ValidationError as error:
        raise EventsError(400, "INVALID_ARGUMENT", readable(error)) from None


def parse_cursor(header: str | None) -> EventCursor:
    if not header:
        return EventCursor()
    try:
        return EventCursor.parse(header)
    except ValueError:
        raise EventsError(400, "INVALID_ARGUMENT", "Last-Event-ID is not the id of an event of this chat.") from None


def bearer_uid(header: str | None, verify: Callable[[str], dict[str, Any]]) -> str:
    """The uid of the request's ``Authorization: Bearer <ID token>``."""
    if not header or not header.startswith("Bearer "):
        raise EventsError(401, "UNAUTHENTICATED", "Send your Firebase ID token: Authorization: Bearer <token>.")
    try:
        return str(verify(header.removeprefix("Bearer ").strip())["uid"])
    except Exception:
        raise EventsError(
            401, "UNAUTHENTICATED", "The ID token is not valid (expired, or of another project)."
        ) from None


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


class ChatEventStream:
    """One client's stream: the chat's listeners feed a queue; ``lines()`` writes the events out."""

    def __init__(self, *, db: Any, chat: str, uid: str, log: ChatEventLog, environ: dict[str, Any]) -> None:
        self.db, self.chat, self.uid, self.log, self.environ = db, chat, uid, log, environ
        self._updates: queue.Queue[Callable[[], list[Event]]] = queue.Queue()
        self._watches: list[Any] = []
        self._awaiting: tuple[int, float] | None = None  # (chat version, since) while done waits

    def messages_query(self) -> Any:
        return self.db.document(self.chat).collection("messages").where(filter=FieldFilter("userId", "==", self.uid))

    def start(self) -> None:
        document = self.db.document(self.chat)
        self._watches = [document.on_snapshot(self._on_chat), self.messages_query().on_snapshot(self._on_messages)]

    def _catch_up(self) -> list[Event]:
        """Reads the messages once when ``done`` has waited ``CATCH_UP_GRACE_SECONDS`` for the messages
        listener (see ``ChatEventLog.awaiting_messages``): usually it delivers first, and costs nothing."""
        version = self.log.awaiting_messages
        if version is None or self._awaiting is None or self._awaiting[0] != version:
            self._awaiting = None if version is None else (version, time.monotonic())
            return []
        if time.monotonic() - self._awaiting[1] < CATCH_UP_GRACE_SECONDS:
            return []
        snapshots = self.messages_query().get()  # issued after the chat version was seen: complete up to it
        seen_at = max([version, *(micros(snapshot.read_time) for snapshot in snapshots)])
        return self.log.messages_changed([message_version(snapshot) for snapshot in snapshots], seen_at)

    def stop(self) -> None:
        for watch in self._watches:
            watch.unsubscribe()
        self._watches = []

    def _on_chat(self, snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        for snapshot in snapshots:
            if snapshot.exists:
                version, document = micros(snapshot.update_time), snapshot.to_dict() or {}
                self._updates.put(functools.partial(self.log.chat_changed, version, document))

    def _on_messages(self, snapshots: list[Any], _changes: Any, read_time: Any) -> None:
        versions = [message_version(snapshot) for snapshot in snapshots]
        self._updates.put(functools.partial(self.log.messages_changed, versions, micros(read_time)))

    def lines(self, max_seconds: float) -> Iterator[str]:
        """The stream: the events as the listeners deliver them (their first snapshots give the chat so
        far), heartbeats, and the end (``retry:`` when cut short)."""
        started = last_sent = time.monotonic()
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n"
            while not self.log.finished:
                if client_gone(self.environ):
                    return
                now = time.monotonic()
                if now - started >= max_seconds:
                    yield f": the connection ends after {max_seconds:.0f} s; reconnect with Last-Event-ID\n"
                    yield f"retry: {RETRY_MILLISECONDS}\n\n"
                    return
                try:
                    events = self._updates.get(timeout=POLL_SECONDS)()
                except queue.Empty:
                    events = self._catch_up()
                    if not events and now - last_sent >= HEARTBEAT_SECONDS:
                        last_sent = now
                        yield ": heartbeat\n\n"
                for event in events:
                    last_sent = time.monotonic()
                    yield event.encode()
        finally:
            self.stop()
            logger.info("chatEvents: stream closed", extra={"chatId": self.chat.split("/")[-1], "userId": self.uid})


def serve_chat_events(
    request: flask.Request, *, db: Any, collection: str, verify: Callable[[str], dict[str, Any]], max_seconds: int
) -> flask.Response:
    """Answers one ``chatEvents`` request (see the module)."""
    try:
        if request.method != "GET":
            raise EventsError(405, "INVALID_ARGUMENT", "Use GET.")
        query = parse_query(request.args)
        uid = bearer_uid(request.headers.get("Authorization"), verify)
        cursor = parse_cursor(request.headers.get("Last-Event-ID"))
        if not query.chat.startswith(f"{collection}/"):
            raise EventsError(400, "INVALID_ARGUMENT", f"chat must look like {collection}/{{chatId}}.")
        chat = db.document(query.chat).get()
        if not chat.exists:
            raise EventsError(404, "NOT_FOUND", "There is no such chat.")
        if chat.get("userId") != uid:
            raise EventsError(403, "PERMISSION_DENIED", "This chat is not yours.")
    except EventsError as error:
        return rejected_response(error.status, error.message, error.http_status)
    log = ChatEventLog(cursor=cursor, follow=query.follow)
    if cursor.done and micros(chat.update_time) <= cursor.chat and log.ends_at(ChatStatus(chat.get("status"))):
        # Every commit writes the chat: unchanged since that done, nothing new. An EventSource stops here.
        return flask.Response(status=204)
    stream = ChatEventStream(db=db, chat=query.chat, uid=uid, log=log, environ=request.environ)
    stream.start()
    limit = min(query.max_seconds or max_seconds, max_seconds)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return flask.Response(stream.lines(limit), mimetype="text/event-stream", headers=headers)
