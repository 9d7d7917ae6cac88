"""The events of a chat as they go on the wire: their kinds (the ``event:`` field), the model of each
kind's data (one table, ``EVENT_MODELS``: what the stream sends, the OpenAPI document describes and
the client parses), and the ``status`` and ``message`` events of a chat and a message version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field

from ..models import ChatState, ErrorInfo, Model
from ..status import ChatStatus
from .cursor import MessageVersion


class EventKind(StrEnum):
    """The ``event:`` field of a chat's events."""

    STATUS = "status"
    MESSAGE = "message"
    REMOVED = "removed"
    RESET = "reset"
    DONE = "done"
    DELETED = "deleted"


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


class RemovedEvent(Model):
    """``event: removed``: the message ``id`` no longer exists (drop it)."""

    id: str


class ResetEvent(Model):
    """``event: reset``: drop every message and the status you hold; the chat follows from scratch."""


class DoneEvent(Model):
    """``event: done``: the turn is over (the chat waits for the user, or ended); the stream ends."""

    status: ChatStatus


class DeletedEvent(Model):
    """``event: deleted``: the chat was deleted (with its messages); the stream ends."""


EventData = StatusEvent | MessageEvent | RemovedEvent | ResetEvent | DoneEvent | DeletedEvent
"""The data of any event."""

EVENT_MODELS: dict[EventKind, type[EventData]] = {
    EventKind.STATUS: StatusEvent,
    EventKind.MESSAGE: MessageEvent,
    EventKind.REMOVED: RemovedEvent,
    EventKind.RESET: ResetEvent,
    EventKind.DONE: DoneEvent,
    EventKind.DELETED: DeletedEvent,
}
"""The model of each event kind: what the stream sends, the OpenAPI document describes and the client
parses (one table)."""


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


def status_event(chat: ChatState) -> StatusEvent:
    """The ``status`` event of a chat."""
    return StatusEvent(
        status=chat.status,
        data=chat.data,
        assistant_id=chat.config.assistant_id,
        error=chat.error if chat.status is ChatStatus.FAILED else None,
        stop_requested=True if chat.stop_requested else None,
        stopped_dispatch_id=chat.stopped_dispatch_id,
    )


def message_event(version: MessageVersion) -> MessageEvent:
    """The ``message`` event of a message version."""
    message = version.message
    return MessageEvent(
        id=version.key.id,
        author=message.author,
        text=message.text,
        streaming=message.streaming,
        stopped=True if message.stopped else None,
        meta=message.meta,
    )
