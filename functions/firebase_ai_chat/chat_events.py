"""A chat as a stream of events (``status``, ``message``, ``done``) that a client can resume.

The events are versions of documents: ``status`` carries the chat document as
it is now, ``message`` a message with its text so far. Every event has an id
(an ``EventCursor``) that says how far the stream has gone in each of the two
listened targets, the chat document (its update time) and its messages (the
update time, then the creation order, of the last message version sent). A
client that reconnects with ``Last-Event-ID`` gets every document changed
after that point exactly once, at its newest version: nothing is lost, nothing
is repeated, also across a turn that finished while it was away (streamed
text it missed arrives as one event with the text so far).

``ChatEventLog`` is pure: the adapter (``sse.py``) feeds it the listeners'
snapshots and writes out what it returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from pydantic import Field

from .models import ErrorInfo, Model
from .status import ChatStatus

_IDLE = frozenset({ChatStatus.USER_INPUT, ChatStatus.COMPLETE, ChatStatus.FAILED})


class EventKind(StrEnum):
    """The ``event:`` field of a chat's events."""

    STATUS = "status"
    MESSAGE = "message"
    DONE = "done"


class StatusEvent(Model):
    """``event: status``: the chat changed."""

    status: ChatStatus
    data: dict[str, Any] = Field(default_factory=dict)
    assistant_id: str
    error: ErrorInfo | None = None
    stop_requested: bool | None = None
    """The owner asked to stop the answer in progress (it stops within about a second)."""
    stopped_dispatch_id: str | None = None
    """The last dispatch whose answer the owner stopped."""


class MessageEvent(Model):
    """``event: message``: a message appeared, or its streamed text grew (``text`` is all of it so far)."""

    id: str
    author: str
    text: str
    streaming: bool = False
    stopped: bool | None = None
    """The owner stopped this answer: ``text`` is what was written until then (final)."""
    meta: dict[str, Any] | None = None


class DoneEvent(Model):
    """``event: done``: the turn is over (the chat waits for the user, or ended); the stream ends."""

    status: ChatStatus


@dataclass(frozen=True, order=True)
class MessageKey:
    """Where a message version stands: its update time, then its place in the chat, then its id."""

    updated: int = 0  # microseconds since the epoch
    created: int = 0
    index: int = 0
    id: str = ""


@dataclass(frozen=True)
class EventCursor:
    """An event id: the last chat version and the last message version sent (``done`` marks a done event)."""

    chat: int = 0
    message: MessageKey = MessageKey()
    done: bool = False

    def __str__(self) -> str:
        m = self.message
        return f"{self.chat}.{m.updated}.{m.created}.{m.index}.{'done' if self.done else 'go'}.{m.id}"

    @classmethod
    def parse(cls, text: str) -> EventCursor:
        """The cursor of an event id; ``ValueError`` for anything this server did not send."""
        chat, updated, created, index, mark, message_id = text.split(".", 5)
        if mark not in ("done", "go"):
            raise ValueError(f"not an event id: {text!r}")
        key = MessageKey(int(updated), int(created), int(index), message_id)
        return cls(chat=int(chat), message=key, done=mark == "done")


@dataclass(frozen=True)
class Event:
    """One server-sent event."""

    kind: EventKind
    id: str
    data: Model

    def encode(self) -> str:
        """The event on the wire (``text/event-stream``)."""
        body = json.dumps(self.data.to_document(), separators=(",", ":"), ensure_ascii=False)
        return f"event: {self.kind.value}\nid: {self.id}\ndata: {body}\n\n"


@dataclass(frozen=True)
class MessageVersion:
    """A message document as a listener saw it."""

    key: MessageKey
    document: dict[str, Any]


class ChatEventLog:
    """Turns the listeners' snapshots into the events after ``cursor`` (see the module)."""

    def __init__(self, *, cursor: EventCursor = EventCursor(), follow: bool = False) -> None:
        self.cursor = replace(cursor, done=False)
        self.follow = follow
        self.finished = False
        self._chat: tuple[int, dict[str, Any]] | None = None
        self._messages_seen_at = -1  # the messages listener's read time (microseconds)
        self._early: tuple[list[MessageVersion], int] | None = None  # messages seen before the chat

    def chat_changed(self, version: int, document: dict[str, Any]) -> list[Event]:
        """The chat document at update time ``version``."""
        self._chat = (version, document)
        events = []
        if version > self.cursor.chat:
            self.cursor = replace(self.cursor, chat=version)
            status = StatusEvent(
                status=document["status"],
                data=document.get("data") or {},
                assistant_id=(document.get("config") or {}).get("assistantId", ""),
                error=document.get("error") if document.get("status") == ChatStatus.FAILED else None,
                stop_requested=True if document.get("stopRequested") else None,
                stopped_dispatch_id=document.get("stoppedDispatchId"),
            )
            events.append(Event(EventKind.STATUS, str(self.cursor), status))
        if self._early is not None:  # the messages listener answered first: its messages follow the status
            early, self._early = self._early, None
            return events + self.messages_changed(*early)
        return events + self._done()

    def messages_changed(self, messages: list[MessageVersion], read_time: int) -> list[Event]:
        """All the chat's messages as the messages listener saw them at ``read_time`` (held until the
        chat's first version is known: a stream starts with its ``status``, whichever listener answers
        first)."""
        if self._chat is None:
            self._early = (messages, read_time)
            return []
        events = []
        for version in sorted((m for m in messages if m.key > self.cursor.message), key=lambda m: m.key):
            self.cursor = replace(self.cursor, message=version.key)
            doc = version.document
            message = MessageEvent(
                id=version.key.id,
                author=doc.get("author", ""),
                text=doc.get("text", ""),
                streaming=bool(doc.get("streaming")),
                stopped=True if doc.get("stopped") else None,
                meta=doc.get("meta"),
            )
            events.append(Event(EventKind.MESSAGE, str(self.cursor), message))
        self._messages_seen_at = max(self._messages_seen_at, read_time)
        return events + self._done()

    def ends_at(self, status: ChatStatus) -> bool:
        """Whether the stream ends (with ``done``) when the chat is in ``status``."""
        return status.is_final if self.follow else status in _IDLE

    @property
    def awaiting_messages(self) -> int | None:
        """The chat version whose ``done`` waits for the messages listener to catch up (a commit that
        wrote no message, e.g. a close, moves only the chat): the adapter then reads the messages."""
        ending = self._ending()
        return ending[0] if ending and self._messages_seen_at < ending[0] else None

    def _ending(self) -> tuple[int, ChatStatus] | None:
        """The chat's version and status when the stream ends at them (not yet finished)."""
        if self.finished or self._chat is None:
            return None
        version, document = self._chat
        status = ChatStatus(document["status"])
        return (version, status) if self.ends_at(status) else None

    def _done(self) -> list[Event]:
        """``done`` once the chat is idle (or, when following, ended) and the messages caught up with it."""
        ending = self._ending()
        if ending is None or self._messages_seen_at < ending[0]:
            return []
        status = ending[1]
        self.finished = True
        return [Event(EventKind.DONE, str(replace(self.cursor, done=True)), DoneEvent(status=status))]
