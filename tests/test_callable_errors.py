"""Every rejected call gets the right HttpsError and writes nothing."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from google.cloud import firestore
from support import ChatWatcher, database_fingerprint

from firebase_ai_chat.testing import CallableError, EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]


def expect_error(client: EmulatorClient, name: str, data: Any, user: User | None, status: str) -> CallableError:
    with pytest.raises(CallableError) as raised:
        client.call(name, data, user=user)
    assert raised.value.status == status, raised.value
    assert raised.value.message
    return raised.value


@pytest.mark.parametrize("name", ["calculate", "postToCalculate", "closeCalculate", "stopCalculate"])
def test_unauthenticated_calls_are_rejected(client: EmulatorClient, db: firestore.Client, name: str) -> None:
    marker = f"unauthenticated-{uuid.uuid4().hex}"  # other tests write meanwhile: look for this call's traces only
    data = {
        "calculate": {"message": marker},
        "closeCalculate": {"chatDocument": f"chats/{marker}"},
        "stopCalculate": {"chatDocument": f"chats/{marker}"},
    }.get(name, {"chatDocument": f"chats/{marker}", "message": marker})
    expect_error(client, name, data, None, "UNAUTHENTICATED")
    assert not db.document(f"chats/{marker}").get().exists
    by_text = firestore.FieldFilter("text", "==", marker)
    assert list(db.collection_group("messages").where(filter=by_text).stream()) == []


MALFORMED = [
    ("calculate", {}),
    ("calculate", None),
    ("calculate", "add 5"),
    ("calculate", {"message": 5}),
    ("calculate", {"message": ["add", 5]}),
    ("calculate", {"message": ""}),
    ("calculate", {"message": " \t\n"}),
    ("calculate", {"message": "x" * 4001}),
    ("calculate", {"message": "hi", "unknown": True}),
    ("postToCalculate", {"message": "hi"}),
    ("postToCalculate", {"chatDocument": "chats/CHAT"}),
    ("postToCalculate", {"chatDocument": "chats/CHAT", "message": ""}),
    ("postToCalculate", {"chatDocument": "chats/CHAT", "message": "y" * 5000}),
    ("postToCalculate", {"chatDocument": 42, "message": "hi"}),
    ("postToCalculate", {"chatDocument": "users/CHAT", "message": "hi"}),
    ("postToCalculate", {"chatDocument": "chats/CHAT/messages/x", "message": "hi"}),
    ("postToCalculate", {"chatDocument": "chats/../CHAT", "message": "hi"}),
    ("closeCalculate", {}),
    ("closeCalculate", {"chatDocument": "CHAT"}),
    ("closeCalculate", {"chatDocument": None}),
    ("stopCalculate", {}),
    ("stopCalculate", {"chatDocument": "chats/x", "message": "stop"}),
    ("stopCalculate", {"chatDocument": "users/CHAT"}),
]


@pytest.mark.parametrize(("name", "data"), MALFORMED)
def test_malformed_input_is_invalid_argument_and_writes_nothing(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch, name: str, data: Any
) -> None:
    chat = client.call("calculate", {"message": "first"}, user=user)["chatDocument"]
    watch(chat, user.uid).wait_for_status("userInput")
    chat_id = chat.removeprefix("chats/")

    def substitute(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: substitute(item) for key, item in value.items()}
        return value.replace("CHAT", chat_id) if isinstance(value, str) else value

    before = database_fingerprint(db, user.uid)
    expect_error(client, name, substitute(data), user, "INVALID_ARGUMENT")
    assert database_fingerprint(db, user.uid) == before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("postToCalculate", {"chatDocument": "CHAT", "message": "mine now"}),
        ("closeCalculate", {"chatDocument": "CHAT"}),
        ("stopCalculate", {"chatDocument": "CHAT"}),
    ],
)
def test_another_users_chat_is_permission_denied(
    client: EmulatorClient, db: firestore.Client, user: User, other_user: User, watch: Watch, name: str, data: Any
) -> None:
    chat = client.call("calculate", {"message": "private"}, user=user)["chatDocument"]
    watch(chat, user.uid).wait_for_status("userInput")
    before = database_fingerprint(db, user.uid, other_user.uid)
    expect_error(client, name, {**data, "chatDocument": chat}, other_user, "PERMISSION_DENIED")
    assert database_fingerprint(db, user.uid, other_user.uid) == before


def test_unknown_chat_is_not_found(client: EmulatorClient, db: firestore.Client, user: User) -> None:
    expect_error(client, "postToCalculate", {"chatDocument": "chats/no-such-chat", "message": "hi"}, user, "NOT_FOUND")
    expect_error(client, "closeCalculate", {"chatDocument": "chats/no-such-chat"}, user, "NOT_FOUND")
    expect_error(client, "stopCalculate", {"chatDocument": "chats/no-such-chat"}, user, "NOT_FOUND")
    assert not db.document("chats/no-such-chat").get().exists


@pytest.mark.parametrize("body", [b"false", b'"data"', b"[1]", b"null", b"{"])
@pytest.mark.parametrize("name", ["calculate", "postToCalculate", "closeCalculate", "stopCalculate"])
def test_a_body_that_is_not_a_json_object_is_invalid_argument(
    client: EmulatorClient, user: User, name: str, body: bytes
) -> None:
    import requests

    response = requests.post(
        f"{client.functions_url}/{name}",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {user.id_token}", "Connection": "close"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
