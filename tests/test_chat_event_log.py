"""The pure event log behind ``chatEvents``, in memory: cursors, resume, and when ``done`` comes."""

from __future__ import annotations

from typing import Any

import pytest

from firebase_ai_chat.chat_events import ChatEventLog, EventCursor, EventKind, MessageKey, MessageVersion


def chat(status: str, total: int = 0) -> dict[str, Any]:
    return {"status": status, "data": {"sum": total}, "config": {"assistantId": "calculator"}}


def message(updated: int, message_id: str, text: str, *, created: int = 0, streaming: bool = False) -> MessageVersion:
    key = MessageKey(updated=updated, created=created or updated, index=0, id=message_id)
    return MessageVersion(key=key, document={"author": "ai", "text": text, "streaming": streaming})


def test_an_event_id_is_a_cursor_that_reads_back() -> None:
    cursor = EventCursor(chat=12, message=MessageKey(10, 9, 1, "a-b_c"), done=True)
    assert EventCursor.parse(str(cursor)) == cursor
    for junk in ["", "1.2", "1.2.3.4.maybe.x", "a.b.c.d.go.x"]:
        with pytest.raises(ValueError):
            EventCursor.parse(junk)


def test_streamed_text_grows_event_by_event_then_done_once_the_messages_caught_up() -> None:
    log = ChatEventLog()
    assert [e.kind for e in log.chat_changed(10, chat("processing"))] == [EventKind.STATUS]
    grown = log.messages_changed([message(11, "m", "Hel", streaming=True)], read_time=11)
    grown += log.messages_changed([message(12, "m", "Hello", streaming=True, created=11)], read_time=12)
    assert [e.data.text for e in grown] == ["Hel", "Hello"]  # type: ignore[attr-defined]
    assert log.chat_changed(13, chat("userInput", 5))[-1].kind is EventKind.STATUS, "no done before the messages"
    assert log.awaiting_messages == 13
    final = log.messages_changed([message(13, "m", "Hello!", created=11)], read_time=13)
    assert [e.kind for e in final] == [EventKind.MESSAGE, EventKind.DONE] and log.finished
    assert EventCursor.parse(final[-1].id).done


def test_a_resumed_log_sends_only_what_changed_after_the_cursor_at_its_newest_version() -> None:
    first = ChatEventLog()
    first.chat_changed(10, chat("processing"))
    sent = first.messages_changed([message(11, "u", "add 5"), message(12, "m", "ad", streaming=True)], read_time=12)
    resumed = ChatEventLog(cursor=EventCursor.parse(sent[-1].id))
    events = resumed.chat_changed(14, chat("userInput", 5))
    events += resumed.messages_changed(
        [message(11, "u", "add 5"), message(14, "m", "add: 5", created=12)], read_time=14
    )
    assert [(e.kind, getattr(e.data, "text", None)) for e in events] == [
        (EventKind.STATUS, None),
        (EventKind.MESSAGE, "add: 5"),
        (EventKind.DONE, None),
    ]


def test_follow_ends_only_when_the_chat_ends() -> None:
    log = ChatEventLog(follow=True)
    log.messages_changed([], read_time=20)
    assert [e.kind for e in log.chat_changed(10, chat("userInput"))] == [EventKind.STATUS]
    assert not log.finished
    assert [e.kind for e in log.chat_changed(15, chat("complete"))] == [EventKind.STATUS, EventKind.DONE]


def test_update_times_one_microsecond_apart_stay_apart() -> None:
    from datetime import UTC, datetime, timedelta

    from firebase_ai_chat.sse import micros

    start = datetime(2026, 11, 24, 6, 0, 0, 0, tzinfo=UTC)
    stamps = [micros(start + timedelta(microseconds=n)) for n in range(0, 2_000_000, 7)]
    assert stamps == [stamps[0] + n for n in range(0, 2_000_000, 7)]


def test_a_stream_starts_with_the_status_whichever_listener_answers_first() -> None:
    log = ChatEventLog()
    assert log.messages_changed([message(11, "m", "Hi")], read_time=12) == [], "a message before the status"
    events = log.chat_changed(12, chat("userInput", 1))
    assert [e.kind for e in events] == [EventKind.STATUS, EventKind.MESSAGE, EventKind.DONE]
    assert [e.data.text for e in events if e.kind is EventKind.MESSAGE] == ["Hi"]  # type: ignore[attr-defined]
