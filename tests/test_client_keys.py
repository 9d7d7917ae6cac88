"""``clientMessageId`` scopes: the user for ``create``, the user and the chat for a post (issue 18, item 4).

Each test runs on the in-memory store and on the Firestore emulator (the ``crew`` fixture); the
worker runs in the test process and tasks are delivered by hand.
"""

from __future__ import annotations

import hashlib

import pytest
from crew import CALC, Crew, Total
from support import count

from firebase_ai_chat import ChatError, ErrorCode

KEY = "same-key"


def create(crew: Crew, text: str, key: str | None) -> str:
    """Create a chat with ``text`` under the client's ``key``; its id."""
    result = crew.chat.create(
        user_id=crew.user_id, assistant=CALC, data=Total(), messages=[text], client_message_id=key
    )
    return result.chat_document.split("/", 1)[1]


def post(crew: Crew, chat_id: str, text: str, key: str) -> dict[str, object]:
    """Post ``text`` under the client's ``key``; the call's result."""
    result = crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=[text], client_message_id=key)
    return result.to_document()


def user_texts(crew: Crew, chat_id: str) -> list[str]:
    return [m.text for m in crew.messages(chat_id) if m.author == "user"]


def test_the_key_that_created_a_chat_names_a_post_to_it_as_another_call(crew: Crew) -> None:
    chat_id = create(crew, "add 1", KEY)
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 1}

    posted = post(crew, chat_id, "add 1", KEY)
    assert posted["status"] == "processing", "the post was taken for a retry of the create: nothing stored"
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 2}
    assert user_texts(crew, chat_id) == ["add 1", "add 1"]

    again = post(crew, chat_id, "add 1", KEY)  # the post's own retry
    assert create(crew, "add 1", KEY) == chat_id  # and the create's
    assert crew.drain() == 0
    assert (again["status"], crew.state(chat_id)["data"]) == ("userInput", {"sum": 2})
    assert user_texts(crew, chat_id) == ["add 1", "add 1"]
    count("client retries deduplicated", 2)

    with pytest.raises(ChatError) as reused:
        post(crew, chat_id, "add 2", KEY)
    assert reused.value.code is ErrorCode.INVALID_ARGUMENT
    with pytest.raises(ChatError) as recreated:
        create(crew, "add 2", KEY)
    assert recreated.value.code is ErrorCode.INVALID_ARGUMENT
    count("client keys kept to their scope")


def test_a_post_key_is_scoped_to_its_chat(crew: Crew) -> None:
    first, second = create(crew, "add 1", None), create(crew, "add 10", None)
    crew.drain()
    post(crew, first, "add 5", KEY)
    post(crew, second, "add 5", KEY)  # the same key in another chat: another call
    crew.drain()
    assert (crew.state(first)["data"], crew.state(second)["data"]) == ({"sum": 6}, {"sum": 15})
    with pytest.raises(ChatError) as reused:
        post(crew, second, "add 6", KEY)
    assert reused.value.code is ErrorCode.INVALID_ARGUMENT
    count("client keys kept to their scope")


def test_ids_derive_as_before_wherever_they_never_met(crew: Crew) -> None:
    """Chats stored before the scopes were kept apart keep working: a create's messages, and a post's
    outside the chat its key created, have the ids they always had."""
    legacy = hashlib.sha256(f"{crew.user_id}\nmessage\n{KEY}".encode()).hexdigest()[:32] + "-0"
    created = create(crew, "add 1", KEY)
    other = create(crew, "add 2", None)
    crew.drain()
    post(crew, other, "add 3", KEY)
    for chat_id, text in ((created, "add 1"), (other, "add 3")):
        stored = crew.record(chat_id, f"messages/{legacy}")
        assert stored is not None and stored["text"] == text
