"""The pure event log behind ``chatEvents``, in memory: cursors, resume, and when ``done`` comes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firebase_ai_chat.events.cursor import LAST_EVENT_ID_PATTERN, Held, chat_tag, id_hash
from firebase_ai_chat.events.log import ChatEventLog, Event, EventCursor, EventKind, MessageKey, MessageVersion
from firebase_ai_chat.events.view import ChatView
from firebase_ai_chat.models import Author, ChatConfig, ChatMessage, ChatState
from firebase_ai_chat.status import ChatStatus

CALCULATOR = ChatConfig(engine="offline", assistant_id="calculator", dispatcher_id="calculator")


def chat(status: str, total: int = 0) -> ChatState:
    return ChatState(
        user_id="u", status=ChatStatus(status), data={"sum": total}, config=CALCULATOR, latest_dispatch_id="d"
    )


def message(updated: int, message_id: str, text: str, *, created: int = 0, streaming: bool = False) -> MessageVersion:
    key = MessageKey(updated=updated, created=created or updated, index=0, id=message_id)
    answer = ChatMessage(user_id="u", author=Author.AI, text=text, dispatch_id="d", streaming=streaming)
    return MessageVersion(key=key, message=answer)


def test_an_event_id_is_a_cursor_that_reads_back() -> None:
    held = Held(count=3, digest=0xFEDCBA9876543210, streaming=1)
    cursor = EventCursor(chat=12, message=MessageKey(10, 9, 1, "a-b_c"), done=True, tag=chat_tag("chats/x"), held=held)
    assert EventCursor.parse(str(cursor)) == cursor
    assert re.fullmatch(LAST_EVENT_ID_PATTERN, str(cursor)), "the OpenAPI pattern takes every id sent"
    assert cursor.of_chat("chats/x") and not cursor.of_chat("chats/y")
    v2_bad_tag = "v2.zz.1.2.3.4.5.0123456789abcdef.0.go.x"
    for junk in ["", "1.2", "1.2.3.4.maybe.x", "a.b.c.d.go.x", v2_bad_tag, "1.2.3.4.go.é", "\u0661.2.3.4.go.x"]:
        with pytest.raises(ValueError):
            EventCursor.parse(junk)
        assert not re.fullmatch(LAST_EVENT_ID_PATTERN, junk)


def test_an_id_of_the_first_version_still_parses_for_any_chat_with_nothing_known_held() -> None:
    old = EventCursor.parse("12.10.9.1.done.a-b_c")
    assert (old.chat, old.message, old.done, old.tag, old.held) == (12, MessageKey(10, 9, 1, "a-b_c"), True, None, None)
    assert old.of_chat("chats/anything") and re.fullmatch(LAST_EVENT_ID_PATTERN, "12.10.9.1.done.a-b_c")


def test_streamed_text_grows_event_by_event_then_done_once_the_messages_caught_up() -> None:
    log = ChatEventLog()
    assert log.chat_changed(10, chat("processing")) == [], "nothing is sent before the messages are known too"
    grown = log.messages_changed([message(11, "m", "Hel", streaming=True)], read_time=11)
    assert grown.pop(0).kind is EventKind.STATUS
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
    assert resumed.held is None, "what the client holds is known from the first snapshot of the messages"
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

    from firebase_ai_chat.firebase.sse import micros

    start = datetime(2026, 11, 24, 6, 0, 0, 0, tzinfo=UTC)
    stamps = [micros(start + timedelta(microseconds=n)) for n in range(0, 2_000_000, 7)]
    assert stamps == [stamps[0] + n for n in range(0, 2_000_000, 7)]


def test_a_stream_starts_with_the_status_whichever_listener_answers_first() -> None:
    log = ChatEventLog()
    assert log.messages_changed([message(11, "m", "Hi")], read_time=12) == [], "a message before the status"
    events = log.chat_changed(12, chat("userInput", 1))
    assert [e.kind for e in events] == [EventKind.STATUS, EventKind.MESSAGE, EventKind.DONE]
    assert [e.data.text for e in events if e.kind is EventKind.MESSAGE] == ["Hi"]  # type: ignore[attr-defined]


def view(events: list[Event], into: ChatView | None = None) -> ChatView:
    """The state a client is in after ``events``."""
    state = into or ChatView()
    for event in events:
        state.apply(event.kind, event.data)
    return state


def test_a_message_deleted_while_the_stream_is_open_is_removed_before_done() -> None:
    log = ChatEventLog(chat="chats/c")
    events = log.chat_changed(10, chat("processing"))
    events += log.messages_changed([message(11, "u", "add 1"), message(12, "p", "Hel", streaming=True)], 12)
    events += log.chat_changed(13, chat("complete"))  # closed while the answer streams
    events += log.messages_changed([message(11, "u", "add 1"), message(12, "p", "Hel", streaming=True)], 13)
    assert events[-1].kind is EventKind.STATUS and log.awaiting_streams == 13, "done waits for the partial answer"
    events += log.messages_changed([message(11, "u", "add 1")], 14)  # its worker deletes it
    assert [e.kind for e in events[-2:]] == [EventKind.REMOVED, EventKind.DONE]
    assert events[-2].data.id == "p"  # type: ignore[attr-defined]
    assert view(events).texts() == {"u": ("add 1", False)}
    assert EventCursor.parse(events[-1].id).held == Held(count=1, digest=id_hash("u"), streaming=0)


def test_done_stops_waiting_for_a_partial_answer_that_stays() -> None:
    log = ChatEventLog(chat="chats/c")
    log.chat_changed(10, chat("userInput"))
    assert log.messages_changed([message(9, "p", "Hel", streaming=True)], 10)[-1].kind is EventKind.MESSAGE
    assert log.awaiting_streams == 10 and not log.finished
    done = log.stop_waiting_for_streams()
    assert [e.kind for e in done] == [EventKind.DONE] and EventCursor.parse(done[0].id).held.streaming == 1  # type: ignore[union-attr]


def test_a_client_back_after_a_deletion_it_missed_starts_again_from_scratch() -> None:
    first = ChatEventLog(chat="chats/c")
    first.chat_changed(10, chat("processing"))
    sent = first.messages_changed([message(11, "u", "add 1"), message(12, "p", "Hel", streaming=True)], 12)
    client = view(sent)
    resumed = ChatEventLog(chat="chats/c", cursor=EventCursor.parse(sent[-1].id))
    events = resumed.chat_changed(13, chat("complete"))
    events += resumed.messages_changed([message(11, "u", "add 1")], 14)  # the partial answer was deleted
    assert [e.kind for e in events] == [EventKind.RESET, EventKind.STATUS, EventKind.MESSAGE, EventKind.DONE]
    left = [message(11, "u", "add 1")]
    assert view(events, client).texts() == {"u": ("add 1", False)} == fresh_view("chats/c", 13, left)


def fresh_view(path: str, version: int, messages: list[MessageVersion], status: str = "complete") -> dict[str, Any]:
    log = ChatEventLog(chat=path)
    return view(log.chat_changed(version, chat(status)) + log.messages_changed(messages, version + 1)).texts()


def test_an_id_of_the_first_version_starts_the_chat_again_from_scratch() -> None:
    log = ChatEventLog(chat="chats/c", cursor=EventCursor.parse("12.11.11.0.go.u"))
    events = log.chat_changed(10, chat("userInput", 1)) + log.messages_changed([message(11, "u", "add 1")], 12)
    assert [e.kind for e in events] == [EventKind.RESET, EventKind.STATUS, EventKind.MESSAGE, EventKind.DONE]


def test_a_deleted_chat_ends_the_stream_with_deleted() -> None:
    log = ChatEventLog(chat="chats/c", follow=True)
    log.chat_changed(10, chat("userInput"))
    log.messages_changed([message(9, "u", "hi")], 10)
    deleted = log.chat_deleted()
    assert [e.kind for e in deleted] == [EventKind.DELETED] and log.finished
    assert log.chat_deleted() == [] and log.messages_changed([], 20) == [], "nothing after the end"


def test_a_snapshot_older_than_one_already_seen_changes_nothing() -> None:
    log = ChatEventLog(chat="chats/c", follow=True)
    log.chat_changed(10, chat("userInput"))
    log.messages_changed([message(9, "u", "hi"), message(12, "a", "yes")], 13)  # a direct read
    assert log.messages_changed([message(9, "u", "hi")], 11) == [], "no removal from a late, older snapshot"


def test_where_a_first_snapshot_may_miss_messages_done_waits_for_a_read() -> None:
    """What the Firestore emulator did under the parallel suite: the first snapshot of the messages held
    the answer but not the user's message written long before; the user's message came 5 ms later."""
    trusting, reading = ChatEventLog(), ChatEventLog(done_needs_a_read=True)
    for log in (trusting, reading):
        log.chat_changed(10, chat("processing"))
        log.messages_changed([message(20, "a", "5")], read_time=30)
    ended = trusting.chat_changed(20, chat("userInput", 5))
    assert ended[-1].kind is EventKind.DONE, "a consistent listener's snapshot is enough"
    assert reading.chat_changed(20, chat("userInput", 5))[-1].kind is EventKind.STATUS
    assert reading.awaiting_messages == 20, "the adapter reads the messages"
    late = reading.messages_changed([message(20, "a", "5"), message(5, "u", "add 5")], read_time=31)
    assert [e.kind for e in late] == [EventKind.MESSAGE] and not reading.finished
    read = reading.messages_changed([message(20, "a", "5"), message(5, "u", "add 5")], read_time=25, read=True)
    assert [e.kind for e in read] == [EventKind.DONE], "a read is applied even when a listener's label is newer"


class FakeChat:
    """A chat whose messages change over time, as listeners see it (every snapshot complete)."""

    def __init__(self) -> None:
        self.time, self.version, self.created = 1, 1, 0
        self.messages: dict[str, MessageVersion] = {}

    def apply(self, op: tuple[str, int]) -> None:
        self.time += 1
        kind, pick = op
        ids = sorted(self.messages)
        if kind == "create" or not ids:
            self.created += 1
            self._write(f"m{self.created}", f"text {self.time}", streaming=pick % 2 == 0)
        elif kind == "update":
            self._write(ids[pick % len(ids)], f"text {self.time}", streaming=pick % 3 == 0)
        elif kind == "delete":
            del self.messages[ids[pick % len(ids)]]
        else:
            self.version = self.time

    def _write(self, message_id: str, text: str, *, streaming: bool) -> None:
        self.messages[message_id] = message(self.time, message_id, text, streaming=streaming)

    def feed(self, log: ChatEventLog) -> list[Event]:
        """What a listener of each target delivers now."""
        document = chat("userInput", self.version)
        return log.chat_changed(self.version, document) + log.messages_changed(list(self.messages.values()), self.time)


OPS = st.lists(st.tuples(st.sampled_from(["create", "update", "delete", "chat"]), st.integers(0, 5)), max_size=12)


@given(before=OPS, away=OPS, cut=st.integers(0, 100))
@settings(max_examples=300, deadline=None)
def test_a_resumed_client_ends_in_the_state_a_fresh_client_starts_in(
    before: list[tuple[str, int]], away: list[tuple[str, int]], cut: int
) -> None:
    """Whatever changed (messages created, grown, deleted) while a client followed: it holds what a
    fresh stream starts with; cut off at any event, and whatever changed while it was away: resuming
    with its last id leaves it there too."""
    fake, log = FakeChat(), ChatEventLog(chat="chats/c", follow=True)
    sent = fake.feed(log)
    for op in before:
        fake.apply(op)
        sent += fake.feed(log)
    live = view(fake.feed(ChatEventLog(chat="chats/c", follow=True)))
    assert (view(sent).status, view(sent).texts()) == (live.status, live.texts()), "a client that stayed"
    received = sent[: cut % (len(sent) + 1)]
    for op in away:
        fake.apply(op)
    cursor = EventCursor.parse(received[-1].id) if received else EventCursor()
    resumed = view(fake.feed(ChatEventLog(chat="chats/c", cursor=cursor, follow=True)), view(received))
    fresh = view(fake.feed(ChatEventLog(chat="chats/c", follow=True)))
    assert (resumed.status, resumed.texts()) == (fresh.status, fresh.texts())
    assert set(fresh.messages) == set(fake.messages)
