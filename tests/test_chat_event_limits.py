"""``chatEvents``' limit on the streams one user has open, through the emulators: one more than the
limit is refused with 429 ``RESOURCE_EXHAUSTED`` before the chat is read; whatever ends a stream
gives its slot back, also a client that goes away (the Functions emulator is patched to tell the
function, as deployed functions are told: ``emulator/patch_firebase_tools.py``), so a new stream is
accepted at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from google.cloud import firestore
from streams import OpenStream, events_url, signed_in
from support import count, wait_until

from firebase_ai_chat.client import ChatClient
from firebase_ai_chat.firebase.stream_slots import DEFAULT_STREAMS_PER_USER, streams_collection

LIMIT = DEFAULT_STREAMS_PER_USER  # the calculator's chatEvents keeps the default


@pytest.fixture
def alice() -> Iterator[ChatClient]:
    client = signed_in()
    yield client
    client.close()


def open_slots(db: firestore.Client, uid: str | None) -> int:
    """The user's slots that have not expired."""
    snapshot = db.collection(streams_collection("chats")).document(str(uid)).get()
    slots = (snapshot.to_dict() or {}).get("slots", {}) if snapshot.exists else {}
    return sum(1 for until in slots.values() if until > datetime.now(UTC))


def refused(client: ChatClient, chat: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {client.id_token}"}
    return httpx.get(events_url(), params={"chat": chat}, headers=headers, timeout=30)


def test_one_stream_more_than_the_limit_is_refused_until_one_closes(alice: ChatClient, db: firestore.Client) -> None:
    chat = alice.call("calculate", {"message": "add 1"})["chatDocument"]
    list(alice.events(chat))
    bob = signed_in()
    streams = [OpenStream(alice, chat, follow="true") for _ in range(LIMIT)]
    try:
        assert [(s.status, s.first_event()) for s in streams] == [(200, "event: status")] * LIMIT
        assert open_slots(db, alice.uid) == LIMIT
        for over in (refused(alice, chat), refused(alice, "chats/none-such"), refused(alice, chat)):
            assert over.status_code == 429, over.text  # not 404: refused before the chat is read
            assert over.headers["content-type"].startswith("application/json")
            assert over.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
            assert f"{LIMIT} chat streams" in over.json()["error"]["message"]
            count("streams over the per-user limit refused")
        bobs = bob.call("calculate", {"message": "add 2"})["chatDocument"]
        assert [e.kind.value for e in bob.events(bobs)][-1] == "done", "another user is not limited by alice's streams"

        streams.pop().close()  # the client goes away: its stream ends and gives the slot back
        wait_until(lambda: open_slots(db, alice.uid) == LIMIT - 1, what="the slot of the client that left")
        count("stream slots given back by clients that left")
        again = OpenStream(alice, chat, follow="true")
        streams.append(again)
        assert (again.status, again.first_event()) == (200, "event: status")
    finally:
        for stream in streams:
            stream.close()
        bob.close()
    wait_until(lambda: open_slots(db, alice.uid) == 0, what="every slot given back")


def test_a_refused_or_finished_stream_holds_no_slot(alice: ChatClient, db: firestore.Client) -> None:
    chat = alice.call("calculate", {"message": "add 1"})["chatDocument"]
    events = list(alice.events(chat))  # ends with done
    assert refused(alice, "chats/none-such").status_code == 404
    assert list(alice.events(chat, last_event_id=events[-1].id)) == [], "204"
    wait_until(lambda: open_slots(db, alice.uid) == 0, what="the slots of a finished stream, a 404 and a 204")
    for _ in range(LIMIT + 1):  # one after another, each ends: never over the limit
        assert refused(alice, "chats/none-such").status_code == 404
