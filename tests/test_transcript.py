"""The terminal chat's transcript (``demo/transcript.py``): a streamed answer always reads as one line,
whichever of the two listeners (the chat, its messages) delivers first."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from demo.transcript import Transcript


class Kind(Enum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"


@dataclass
class Document:
    id: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.data


@dataclass
class Change:
    type: Kind
    document: Document


def chat(transcript: Transcript, **state: Any) -> None:
    transcript.on_chat([Document("c", state)], None, 1)


def message(transcript: Transcript, text: str, *, streaming: bool, kind: Kind = Kind.MODIFIED) -> None:
    data = {"author": "ai", "text": text, "streaming": streaming, "meta": {"name": "Calculator"}}
    transcript.on_messages([], [Change(kind, Document("m1", data))], 1)


def test_the_chats_changes_that_arrive_while_an_answer_streams_wait_for_its_line() -> None:
    out = io.StringIO()
    transcript = Transcript(out)
    chat(transcript, status="userInput", data={"sum": 0})
    message(transcript, "You said", streaming=True, kind=Kind.ADDED)
    chat(transcript, status="processing", data={"sum": 1})  # late: the answer streams already
    message(transcript, 'You said "hi".', streaming=False)
    assert out.getvalue() == '  [Calculator] You said "hi".\n  [data] {"sum": 1}\n  [processing]\n'


def test_an_abandoned_partial_answer_ends_its_line_and_lets_the_waiting_lines_out() -> None:
    out = io.StringIO()
    transcript = Transcript(out)
    chat(transcript, status="processing")
    message(transcript, "You sa", streaming=True, kind=Kind.ADDED)
    chat(transcript, status="failed", error={"message": "The assistant failed."})
    message(transcript, "You sa", streaming=True, kind=Kind.REMOVED)
    assert out.getvalue() == "  [processing]\n  [Calculator] You sa\n  [failed]\n  [error] The assistant failed.\n"
