"""A chat as a stream of events a client can resume, and end in the state a fresh client starts in.

Events are versions of documents and what happened to them:

- ``status``: the chat document as it is now; ``message``: a message with its text so far;
- ``removed``: a message the client was sent is gone (e.g. the partial answer of a run that a
  close abandoned: its worker deletes it);
- ``reset``: forget every message and the status you hold: the chat follows from scratch;
- ``done``: the turn is over (the chat waits for the user, or ended), then the stream ends;
- ``deleted``: the chat no longer exists, then the stream ends.

Every event has an id, an ``EventCursor`` (``cursor.py``): the last chat version and
message version sent, and a summary of the messages the client holds. A client that reconnects
with ``Last-Event-ID`` gets every document changed after that point once, at its newest version
(nothing lost, nothing repeated: streamed text it missed arrives as one event with the text so
far), and ``removed`` for what it holds that no listener will show again.

Why a resumed client ends in the same state as a fresh one: within a stream, the log compares
each snapshot of the messages with the set it sent (``HeldMessages``), so every change a listener
sees, deletions included, becomes an event. A deletion while the client was away is seen by no
listener, and a query cannot show it; so the resume compares instead (``held_after_resume``): what
the cursor says the client holds against the messages that exist. When they match, the stream
goes on from the cursor; when the client holds a message that no longer exists, the stream starts
with ``reset`` and sends the chat again, as to a fresh client (this costs what a fresh stream
costs, and happens only after a deletion the client missed, or with an id of the first version).

``done`` waits until the messages have caught up with the chat's version (a close moves only the
chat: the adapter reads the messages when their listener is late) and, in a chat that no longer
runs, for a message still streaming: a run that is abandoned deletes its partial message within a
moment, and the client gets its ``removed`` before ``done``. The adapter stops that wait after a
grace (a crashed worker leaves its partial message as it was; a fresh client sees it too).
Where a listener's snapshot may miss documents (the Firestore emulator's first snapshot of a query
can, under concurrent commits: ``docs/EMULATORS.md``), ``done_needs_a_read`` makes ``done`` wait for
one read of the messages issued after the ending chat version was seen, whatever the listener says;
and a message the client does not hold is sent whenever it shows up, even with a version older than
the cursor (a consistent snapshot never shows one: it would have held it before).

``ChatEventLog`` is pure: the adapter (``sse.py``) feeds it the listeners' snapshots and writes out
what it returns.
"""

from __future__ import annotations

from dataclasses import replace

from ..models import ChatState, Model
from ..status import ChatStatus
from .cursor import EventCursor as EventCursor
from .cursor import MessageKey as MessageKey
from .cursor import MessageVersion as MessageVersion
from .cursor import chat_tag
from .held import HeldMessages, held_after_resume
from .kinds import EVENT_MODELS as EVENT_MODELS
from .kinds import DeletedEvent, DoneEvent, RemovedEvent, ResetEvent, message_event, status_event
from .kinds import Event as Event
from .kinds import EventData as EventData
from .kinds import EventKind as EventKind
from .kinds import MessageEvent as MessageEvent
from .kinds import StatusEvent as StatusEvent

_IDLE = frozenset({ChatStatus.USER_INPUT, ChatStatus.COMPLETE, ChatStatus.FAILED})
FRESH = EventCursor()
"""Where a stream with no ``Last-Event-ID`` starts."""


def _key(version: MessageVersion) -> MessageKey:
    return version.key


class ChatEventLog:
    """Turns the listeners' snapshots of ``chat`` into the events after ``cursor`` (see the module)."""

    def __init__(
        self, *, chat: str = "", cursor: EventCursor = FRESH, follow: bool = False, done_needs_a_read: bool = False
    ) -> None:
        self.resumed_from = cursor
        self.cursor = replace(cursor, done=False, tag=chat_tag(chat))
        self.follow = follow
        self.done_needs_a_read = done_needs_a_read
        """``done`` only after a read of the messages issued once the ending chat version was seen, not on
        a listener's snapshot (for a listener whose snapshots may miss documents: the Firestore emulator's)."""
        self.finished = False
        self.held: HeldMessages | None = None  # what the client holds: known once both listeners answered
        self._chat: tuple[int, ChatState] | None = None
        self._first: tuple[list[MessageVersion], int] | None = None  # the messages before the chat was known
        self._messages_seen_at = -1  # the messages listener's read time (microseconds)
        self._messages_read_at = -1  # the last read's (``messages_changed(..., read=True)``)
        self._streams_waited = False

    def chat_changed(self, version: int, chat: ChatState) -> list[Event]:
        """The chat document (typed) at update time ``version``."""
        self._chat = (version, chat)
        if self.held is None:
            return self._start()
        return self._status() + self._done()

    def chat_deleted(self) -> list[Event]:
        """The chat document no longer exists: ``deleted``, and the stream ends."""
        if self.finished:
            return []
        self.finished = True
        return [self._event(EventKind.DELETED, DeletedEvent(), done=True)]

    def messages_changed(self, messages: list[MessageVersion], read_time: int, *, read: bool = False) -> list[Event]:
        """All the chat's messages as a listener (or a ``read``) saw them at ``read_time``. Nothing is sent
        before both the chat and its messages are known (the stream starts with the ``status``,
        whichever listener answers first); a listener's snapshot older than one already seen is ignored
        (a read is never older: it is issued after the snapshots it follows were applied)."""
        if read:
            self._messages_read_at = max(self._messages_read_at, read_time)
        if self.held is None:
            self._first = (messages, read_time)
            return self._start()
        if self.finished or (read_time < self._messages_seen_at and not read):
            return []
        events = []
        for gone in sorted(self.held.ids - {m.key.id for m in messages}):
            self.held.remove(gone)
            events.append(self._event(EventKind.REMOVED, RemovedEvent(id=gone)))
        held = self.held.ids
        for version in sorted((m for m in messages if m.key > self.cursor.message or m.key.id not in held), key=_key):
            self.cursor = replace(self.cursor, message=max(self.cursor.message, version.key))
            self.held.add(version)
            events.append(self._event(EventKind.MESSAGE, message_event(version)))
        self._messages_seen_at = max(self._messages_seen_at, read_time)
        return events + self._done()

    def _start(self) -> list[Event]:
        """Once the chat and its messages are known: what the client holds, or ``reset`` and the chat
        from scratch when it may hold a message that is gone (see the module); then the events."""
        if self._chat is None or self._first is None:
            return []
        messages, read_time = self._first
        self._first = None
        self.held = held_after_resume(self.resumed_from.held, self.cursor.message, messages)
        events = []
        if self.held is None:
            self.held = HeldMessages()
            self.cursor = self.cursor.fresh()
            events.append(self._event(EventKind.RESET, ResetEvent()))
        return events + self._status() + self.messages_changed(messages, read_time)

    def _status(self) -> list[Event]:
        """``status`` when the chat changed since the last one sent."""
        if self._chat is None or self._chat[0] <= self.cursor.chat:
            return []
        version, chat = self._chat
        self.cursor = replace(self.cursor, chat=version)
        return [self._event(EventKind.STATUS, status_event(chat))]

    def ends_at(self, status: ChatStatus) -> bool:
        """Whether the stream ends (with ``done``) when the chat is in ``status``."""
        return status.is_final if self.follow else status in _IDLE

    @property
    def awaiting_messages(self) -> int | None:
        """The chat version whose events wait for the messages listener: its first answer, or, for
        ``done``, its catching up (a commit that wrote no message, e.g. a close, moves only the chat).
        The adapter then reads the messages."""
        if self.held is None and self._chat is not None:
            return self._chat[0]
        ending = self._ending()
        return ending[0] if ending and self._caught_up_at < ending[0] else None

    @property
    def _caught_up_at(self) -> int:
        """The chat version up to which the messages sent are complete."""
        return self._messages_read_at if self.done_needs_a_read else self._messages_seen_at

    @property
    def awaiting_streams(self) -> int | None:
        """The chat version whose ``done`` waits for messages still streaming in a chat that no longer
        runs (an abandoned run deletes its partial message): the adapter stops the wait after a grace."""
        ending = self._ending()
        if ending is None or self._caught_up_at < ending[0] or self._streams_waited:
            return None
        return ending[0] if self.held is not None and self.held.streaming else None

    def stop_waiting_for_streams(self) -> list[Event]:
        """``done`` without waiting any longer for the messages still streaming (see the module)."""
        self._streams_waited = True
        return self._done()

    def _ending(self) -> tuple[int, ChatStatus] | None:
        """The chat's version and status when the stream ends at them (not yet finished)."""
        if self.finished or self._chat is None:
            return None
        version, chat = self._chat
        return (version, chat.status) if self.ends_at(chat.status) else None

    def _done(self) -> list[Event]:
        """``done`` once the chat is idle (or, when following, ended), the messages caught up with it, and
        no message is still streaming (or the wait for them is over)."""
        ending = self._ending()
        if ending is None or self._caught_up_at < ending[0] or self.awaiting_streams is not None:
            return []
        self.finished = True
        return [self._event(EventKind.DONE, DoneEvent(status=ending[1]), done=True)]

    def _event(self, kind: EventKind, data: Model, *, done: bool = False) -> Event:
        held = (self.held or HeldMessages()).summary()
        return Event(kind, str(replace(self.cursor, done=done, held=held)), data)
