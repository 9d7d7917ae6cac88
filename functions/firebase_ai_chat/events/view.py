"""A chat as a client of ``chatEvents`` holds it: the events applied, in order.

The state a stream leaves a client in, whether it followed from the start or resumed with
``Last-Event-ID`` (``chat_events`` guarantees both end the same). What a client of another language
does with each event: ``status`` replaces the status, ``message`` adds or replaces a message,
``removed`` drops one, ``reset`` drops everything, ``deleted`` means the chat is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Model
from .kinds import EventKind, MessageEvent, RemovedEvent, StatusEvent


@dataclass
class ChatView:
    """The status and the messages (by id, in the order they came) a client holds."""

    status: StatusEvent | None = None
    messages: dict[str, MessageEvent] = field(default_factory=dict)
    deleted: bool = False

    def apply(self, kind: EventKind, data: Model) -> None:
        """One event."""
        if kind is EventKind.STATUS and isinstance(data, StatusEvent):
            self.status = data
        elif kind is EventKind.MESSAGE and isinstance(data, MessageEvent):
            self.messages[data.id] = data
        elif kind is EventKind.REMOVED and isinstance(data, RemovedEvent):
            self.messages.pop(data.id, None)
        elif kind is EventKind.RESET:
            self.status, self.messages = None, {}
        elif kind is EventKind.DELETED:
            self.status, self.messages, self.deleted = None, {}, True

    def texts(self) -> dict[str, tuple[str, bool]]:
        """Each message's text and whether it is still streaming."""
        return {message_id: (m.text, m.streaming) for message_id, m in self.messages.items()}
