"""Security rules, checked with signed-in users' ID tokens (never the admin bypass)."""

from collections.abc import Callable

import pytest
from support import ChatWatcher

from firebase_ai_chat.testing import EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]


@pytest.fixture
def chat(client: EmulatorClient, user: User, watch: Watch) -> str:
    """A chat of ``user`` with one user and one AI message."""
    document = client.call("calculate", {"message": "secret"}, user=user)["chatDocument"]
    watch(document, user.uid).wait_for_messages(2)
    return document


def message_paths(client: EmulatorClient, chat: str, user: User) -> list[str]:
    response = client.rest_list_messages(chat.removeprefix("chats/"), user=user, where_user_id=user.uid)
    assert response.status_code == 200, response.text
    return [row["document"]["name"].split("/documents/")[1] for row in response.json() if "document" in row]


def test_owner_reads_chat_and_messages(client: EmulatorClient, user: User, chat: str) -> None:
    response = client.rest_get(chat, user=user)
    assert response.status_code == 200, response.text
    assert response.json()["fields"]["userId"]["stringValue"] == user.uid
    paths = message_paths(client, chat, user)
    assert len(paths) == 2
    for path in paths:
        assert client.rest_get(path, user=user).status_code == 200


def test_other_users_and_anonymous_cannot_read(client: EmulatorClient, user: User, other_user: User, chat: str) -> None:
    assert client.rest_get(chat, user=other_user).status_code == 403
    assert client.rest_get(chat, user=None).status_code == 403
    for path in message_paths(client, chat, user):
        assert client.rest_get(path, user=other_user).status_code == 403
        assert client.rest_get(path, user=None).status_code == 403
    chat_id = chat.removeprefix("chats/")
    assert client.rest_list_messages(chat_id, user=other_user, where_user_id=user.uid).status_code == 403
    own = client.rest_list_messages(chat_id, user=other_user, where_user_id=other_user.uid)
    assert own.status_code == 200
    assert [row for row in own.json() if "document" in row] == []


def test_messages_query_without_user_filter_is_denied(client: EmulatorClient, user: User, chat: str) -> None:
    response = client.rest_list_messages(chat.removeprefix("chats/"), user=user, where_user_id=None)
    assert response.status_code == 403, response.text


def test_nobody_writes(client: EmulatorClient, user: User, other_user: User, chat: str) -> None:
    message = message_paths(client, chat, user)[0]
    for who in (user, other_user, None):
        assert client.rest_write(chat, {"status": "complete"}, user=who).status_code == 403
        assert client.rest_write(message, {"text": "edited"}, user=who).status_code == 403
        assert client.rest_write(f"{chat}/messages/forged", {"userId": user.uid}, user=who).status_code == 403
        assert client.rest_write("chats/forged-chat", {"userId": user.uid}, user=who).status_code == 403
        assert client.rest_delete(chat, user=who).status_code == 403
    assert client.rest_get(chat, user=user).json()["fields"]["status"]["stringValue"] == "userInput"


def test_server_only_collections_are_unreadable(client: EmulatorClient, user: User, chat: str) -> None:
    assert client.rest_get(f"{chat}/runs/any", user=user).status_code == 403


def test_a_user_reads_only_their_own_usage_and_nobody_writes_it(
    client: EmulatorClient, user: User, other_user: User, chat: str
) -> None:
    usage = f"chatUsage/{user.uid}"
    owned = client.rest_get(usage, user=user)
    assert owned.status_code == 200, owned.text
    assert owned.json()["fields"]["userId"]["stringValue"] == user.uid
    assert client.rest_get(usage, user=other_user).status_code == 403
    assert client.rest_get(usage, user=None).status_code == 403
    for who in (user, other_user):
        assert client.rest_write(usage, {"userId": user.uid}, user=who).status_code == 403
        assert client.rest_delete(usage, user=who).status_code == 403
