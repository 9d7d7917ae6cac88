"""``chatEvents`` ends every client in the state a fresh one starts in, through the emulators: a message
deleted while a stream is open is ``removed``; one deleted while the client was away is found when it
resumes (``reset``, then the chat again); a chat closed while its answer streams leaves no ghost; a
deleted chat ends the stream with ``deleted``; a ``Last-Event-ID`` of another chat is refused (400).

A partial answer is written the way a worker streams one (a message with ``streaming: true``, no
commit of the chat) and deleted the way an abandoned run deletes it; the OpenAI pass also closes a
chat while the real worker streams its answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from fake_openai import FakeOpenAI
from google.cloud import firestore
from streams import applied, events_url, kinds, signed_in
from support import count, wait_until

from firebase_ai_chat.client import ChatClient, ChatEvent
from firebase_ai_chat.events.log import EventKind
from firebase_ai_chat.events.view import ChatView


@pytest.fixture
def alice() -> Iterator[ChatClient]:
    client = signed_in()
    yield client
    client.close()


def partial_answer(db: firestore.Client, chat: str, uid: str | None, message_id: str = "partial-ai-000") -> str:
    """A partial AI message, as a worker's stream writes it (no commit of the chat)."""
    fields = {"userId": uid, "author": "ai", "text": "Hel", "streaming": True, "dispatchId": "partial"}
    db.document(f"{chat}/messages/{message_id}").set({**fields, "createdAt": firestore.SERVER_TIMESTAMP})
    return message_id


def stored(db: firestore.Client, chat: str) -> dict[str, tuple[str, bool]]:
    messages = db.document(chat).collection("messages").stream()
    return {m.id: (m.get("text"), bool((m.to_dict() or {}).get("streaming"))) for m in messages}


def fresh(client: ChatClient, chat: str) -> ChatView:
    """What a client that starts now holds at the end of the turn."""
    return applied(client.events(chat))


def follow(client: ChatClient, chat: str) -> tuple[list[ChatEvent], threading.Thread]:
    """A stream with ``follow=true`` read in a thread into a list."""
    seen: list[ChatEvent] = []
    reader = threading.Thread(target=lambda: seen.extend(client.events(chat, follow=True)), daemon=True)
    reader.start()
    return seen, reader


def test_a_message_deleted_while_the_stream_is_open_is_removed(alice: ChatClient, db: firestore.Client) -> None:
    chat = alice.call("calculate", {"message": "add 1"})["chatDocument"]
    list(alice.events(chat))
    seen, reader = follow(alice, chat)
    wait_until(lambda: EventKind.STATUS in kinds(seen), what="the stream's status")
    ghost = partial_answer(db, chat, alice.uid)
    wait_until(lambda: ghost in applied(seen).messages, what="the partial answer's event")
    db.document(f"{chat}/messages/{ghost}").delete()
    wait_until(lambda: EventKind.REMOVED in kinds(seen), what="the removal of the deleted message")
    alice.call("closeCalculate", {"chatDocument": chat})
    reader.join(timeout=60)
    assert not reader.is_alive() and seen[-1].kind is EventKind.DONE
    assert [e.data.id for e in seen if e.kind is EventKind.REMOVED] == [ghost]  # type: ignore[union-attr]
    assert applied(seen).texts() == stored(db, chat) == fresh(alice, chat).texts()
    count("removed messages sent")


def test_a_client_back_after_a_deletion_it_missed_ends_as_a_fresh_client(
    alice: ChatClient, db: firestore.Client
) -> None:
    chat = alice.call("calculate", {"message": "add 1"})["chatDocument"]
    turn = list(alice.events(chat))
    ghost = partial_answer(db, chat, alice.uid)
    before: list[ChatEvent] = []
    for event in alice.events(chat, last_event_id=turn[0].id):  # back after the first status of the turn
        before.append(event)
        if event.kind is EventKind.MESSAGE and event.data.id == ghost:  # type: ignore[union-attr]
            break  # cut off holding the partial answer
    assert applied(before, applied(turn[:1])).messages[ghost].streaming
    alice.call("closeCalculate", {"chatDocument": chat})  # the chat is closed while the answer streams ...
    db.document(f"{chat}/messages/{ghost}").delete()  # ... and its worker deletes the partial answer
    rest = list(alice.events(chat, last_event_id=before[-1].id))
    assert kinds(rest)[0] is EventKind.RESET and kinds(rest)[-1] is EventKind.DONE
    resumed = applied(rest, applied(before, applied(turn[:1])))
    assert resumed.texts() == stored(db, chat) == fresh(alice, chat).texts() and ghost not in resumed.messages
    assert resumed.status == fresh(alice, chat).status
    assert list(alice.events(chat, last_event_id=rest[-1].id)) == [], "after done, nothing new: 204"
    count("resumed clients that missed a deletion and converged")


@pytest.mark.openai
def test_a_chat_closed_while_its_answer_streams_leaves_no_ghost(
    alice: ChatClient, db: firestore.Client, fake: FakeOpenAI
) -> None:
    fake.stream_delay = 0.1
    chat = alice.call("calculate", {"message": " ".join(["count slowly to ten"] * 8)})["chatDocument"]
    seen: list[ChatEvent] = []
    closed = False
    for event in alice.events(chat):
        seen.append(event)
        if not closed and event.kind is EventKind.MESSAGE and event.data.streaming:  # type: ignore[union-attr]
            alice.call("closeCalculate", {"chatDocument": chat})  # while the answer streams
            closed = True
    assert closed and seen[-1].kind is EventKind.DONE
    seen += alice.events(chat, last_event_id=seen[-1].id)  # what an EventSource does after done
    view = applied(seen)
    assert not any(streaming for _, streaming in view.texts().values()), view.texts()
    assert view.texts() == stored(db, chat) == fresh(alice, chat).texts()
    count("chats closed while their answer streamed, no ghost left")


def test_a_deleted_chat_ends_the_stream_with_deleted(alice: ChatClient) -> None:
    chat = alice.call("calculate", {"message": "add 1"})["chatDocument"]
    list(alice.events(chat))
    seen, reader = follow(alice, chat)
    wait_until(lambda: EventKind.STATUS in kinds(seen), what="the stream's status")
    alice.call("deleteMyData", {})
    reader.join(timeout=60)
    assert not reader.is_alive(), "the stream stayed open on a deleted chat"
    assert seen[-1].kind is EventKind.DELETED and applied(seen).deleted
    headers = {"Authorization": f"Bearer {alice.id_token}", "Last-Event-ID": seen[-1].id}
    again = httpx.get(events_url(), params={"chat": chat}, headers=headers, timeout=30)
    assert again.status_code == 404 and again.json()["error"]["status"] == "NOT_FOUND"
    count("deleted chats that ended a stream")


def test_an_event_id_of_another_chat_is_refused(alice: ChatClient) -> None:
    first = alice.call("calculate", {"message": "add 1"})["chatDocument"]
    second = alice.call("calculate", {"message": "add 2"})["chatDocument"]
    done = list(alice.events(first))[-1].id
    list(alice.events(second))
    headers = {"Authorization": f"Bearer {alice.id_token}", "Last-Event-ID": done}
    foreign = httpx.get(events_url(), params={"chat": second}, headers=headers, timeout=30)
    assert foreign.status_code == 400 and foreign.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "another chat" in foreign.json()["error"]["message"]
    count("event ids of another chat refused")
    before_tags = "1.1.1.0.done.x"  # an id of the first version (no tag): the chat again, from scratch
    events = list(alice.events(second, last_event_id=before_tags))
    assert kinds(events)[:2] == [EventKind.RESET, EventKind.STATUS] and kinds(events)[-1] is EventKind.DONE
    assert applied(events).texts() == fresh(alice, second).texts()
