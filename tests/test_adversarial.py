"""Adversarial use of the example app through the callables, Cloud Tasks and the ``multiplier``.

The scenarios whose tool calls come from the model are marked ``engine``: ``tests/run`` plays them with
the offline engine and through the real openai SDK against the local fake server (Responses API and
Chat Completions); the others run once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from google.cloud import firestore
from support import ChatWatcher, count, database_fingerprint

from firebase_ai_chat.testing import CallableError, EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]


def talk(client: EmulatorClient, user: User, watch: Watch, messages: list[str]) -> tuple[ChatWatcher, dict[str, Any]]:
    """Start a chat with ``messages[0]``, post the rest one answer at a time; the watcher and last state."""
    chat = client.call("calculate", {"message": messages[0]}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    state = watcher.wait_answered(messages[0])
    for text in messages[1:]:
        client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user)
        state = watcher.wait_answered(text)
    return watcher, state


ORDERED = [
    (["add 5", "multiply by 2 and multiply by 3"], 30, 'multiply: data is now {"sum": 30}'),
    (["add 1", "add 1 and multiply by 2 and add 1"], 5, 'add: data is now {"sum": 5}'),
    (["add 5", "multiply by 2 and add 1"], 11, 'add: data is now {"sum": 11}'),
]


@pytest.mark.engine
def test_suspended_calls_apply_in_order_on_the_data_as_it_is_when_they_resume(
    client: EmulatorClient, watch: Watch
) -> None:
    users = [client.sign_up() for _ in ORDERED]

    def play(index: int) -> tuple[list[str], dict[str, Any]]:
        watcher, state = talk(client, users[index], watch, ORDERED[index][0])
        return watcher.ai_texts(), state

    with ThreadPoolExecutor(len(ORDERED)) as pool:  # at once: the multiplier and the worker interleave freely
        outcomes = list(pool.map(play, range(len(ORDERED))))
    for (_, total, last_text), (texts, state) in zip(ORDERED, outcomes, strict=True):
        assert (state["status"], state["data"]) == ("userInput", {"sum": total}), texts
        assert texts[-1] == last_text
        count("resume interleavings checked")
    assert outcomes[1][0][-3:] == [
        'add: data is now {"sum": 2}',
        'multiply: data is now {"sum": 4}',
        'add: data is now {"sum": 5}',
    ]


@pytest.mark.engine
def test_every_call_of_a_turn_runs_on_the_assistant_that_made_it(
    client: EmulatorClient, user: User, watch: Watch
) -> None:
    watcher, state = talk(client, user, watch, ["add 10", "divide by 2 and add 3"])
    assert state["data"] == {"sum": 6.5}
    assert state["config"]["assistantId"] == "divider"
    assert watcher.ai_texts()[-1] == 'divide: data is now {"sum": 6.5}'
    client.call("postToCalculate", {"chatDocument": watcher.chat_document, "message": "hand back"}, user=user)
    state = watcher.wait_answered("hand back")
    assert state["config"]["assistantId"] == "calculator"
    assert watcher.ai_texts()[-2:] == [  # back, the calculator relays the hand-back (its calls are history)
        'divide: data is now {"sum": 6.5}',
        "The divider is done. The sum is 6.5.",
    ]
    _, state = talk(client, client.sign_up(), watch, ["add 10", "divide by 2 and multiply by 3 and add 1"])
    assert state["data"] == {"sum": 15.5}, "the hand-over did not wait for the suspended multiply"
    count("hand-over interleavings checked", 2)


@pytest.mark.engine
def test_numbers_out_of_range_are_tool_errors_and_the_chat_goes_on(
    client: EmulatorClient, user: User, watch: Watch
) -> None:
    huge = "1" + "0" * 300
    watcher, state = talk(client, user, watch, ["add 10000000000000000000", f"multiply by {huge}"])
    assert (state["status"], state["data"]) == ("userInput", {"sum": 1e19})
    assert watcher.ai_texts()[-1] == (
        "multiply failed: multiply returned data that cannot be stored: inf is not a finite number."
    )
    chat = watcher.chat_document
    client.call("postToCalculate", {"chatDocument": chat, "message": "add 1" + "0" * 400}, user=user)
    state = watcher.wait_answered("add 1" + "0" * 400)
    assert (state["status"], state["data"]) == ("userInput", {"sum": 1e19})
    assert watcher.ai_texts()[-1] == "add failed: Invalid arguments for add: value: Input should be a finite number"
    client.call("postToCalculate", {"chatDocument": chat, "message": "sum"}, user=user)
    assert watcher.wait_answered("sum")["status"] == "userInput"
    assert watcher.ai_texts()[-1] == "getSum: 1e+19"
    count("unstorable values refused", 2)


def test_a_post_queued_behind_a_failing_multiply_is_answered(client: EmulatorClient, user: User, watch: Watch) -> None:
    chat = client.call("calculate", {"message": "add 1" + "0" * 300}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    watcher.wait_answered("add 1" + "0" * 300)
    client.call("postToCalculate", {"chatDocument": chat, "message": "multiply by 1" + "0" * 300}, user=user)
    client.call("postToCalculate", {"chatDocument": chat, "message": "add 1"}, user=user)
    state = watcher.wait_answered("add 1")
    assert state["status"] == "userInput"
    assert state["data"] == {"sum": 1e300 + 1}


@pytest.mark.parametrize("callable_name", ["postToCalculate", "closeCalculate", "stopCalculate"])
def test_reserved_document_ids_are_invalid_arguments(client: EmulatorClient, user: User, callable_name: str) -> None:
    for chat in ("chats/__x__", "chats/__.__"):
        data = {"chatDocument": chat, "message": "hi"} if callable_name == "postToCalculate" else {"chatDocument": chat}
        with pytest.raises(CallableError) as raised:
            client.call(callable_name, data, user=user)
        assert (raised.value.status, raised.value.http_status) == ("INVALID_ARGUMENT", 400)
        assert "chatDocument" in raised.value.message
        count("reserved ids refused")


def test_a_task_for_a_reserved_chat_id_is_dropped(client: EmulatorClient) -> None:
    response = client.deliver_task("calculator", {"chatId": "__x__", "dispatchId": "d"})
    assert response.status_code == 200
    count("reserved ids refused")


def test_a_message_that_shows_nothing_is_blank(client: EmulatorClient, user: User, db: firestore.Client) -> None:
    before = database_fingerprint(db, user.uid)
    for text in ("\u200b", "\u200b\u200c\u200d\ufeff", " \u2060\u3164 ", "\u00ad\u180e"):
        with pytest.raises(CallableError) as raised:
            client.call("calculate", {"message": text}, user=user)
        assert raised.value.status == "INVALID_ARGUMENT"
    assert database_fingerprint(db, user.uid) == before


def test_a_turn_of_hundreds_of_tool_calls_is_capped(
    client: EmulatorClient, user: User, watch: Watch, db: firestore.Client
) -> None:
    message = ", ".join(["add 1"] * 666)[:4000]
    watcher, state = talk(client, user, watch, [message])
    assert (state["status"], state["data"]) == ("userInput", {"sum": 16})
    texts = watcher.ai_texts()
    refused = [t for t in texts if t.startswith("add failed: Not run: a turn may make at most 16 tool calls")]
    assert len(refused) == message.count("add 1") - 16
    run = db.document(f"{watcher.chat_document}/runs/{state['latestDispatchId']}").get()
    assert len(repr(run.to_dict())) < 250_000, "the run record grows with the calls"
    count("tool calls past the cap refused", len(refused))


def test_client_retries_with_a_client_message_id_store_and_run_once(
    client: EmulatorClient, user: User, watch: Watch, db: firestore.Client
) -> None:
    first = {"message": "add 10", "clientMessageId": "retry-1"}
    with ThreadPoolExecutor(3) as pool:  # a retry racing the first call
        results = list(pool.map(lambda _: client.call("calculate", first, user=user), range(3)))
    chat = results[0]["chatDocument"]
    assert {r["chatDocument"] for r in results} == {chat}
    watcher = watch(chat, user.uid)
    watcher.wait_answered("add 10")
    assert client.call("calculate", first, user=user)["chatDocument"] == chat  # a late retry
    post = {"chatDocument": chat, "message": "add 5", "clientMessageId": "retry-2"}
    with ThreadPoolExecutor(3) as pool:
        posted = list(pool.map(lambda _: client.call("postToCalculate", post, user=user), range(3)))
    assert {p["chatDocument"] for p in posted} == {chat}
    state = watcher.wait_answered("add 5")
    again = client.call("postToCalculate", post, user=user)
    assert again["data"] == {"sum": 15}
    assert state["data"] == {"sum": 15}, "a retried post was applied twice"
    chats = list(db.collection("chats").where(filter=firestore.FieldFilter("userId", "==", user.uid)).stream())
    assert len(chats) == 1
    users_texts = [m["text"] for m in watcher.messages if m["author"] == "user"]
    assert users_texts == ["add 10", "add 5"]
    count("client retries deduplicated", 2 + 1 + 2 + 1)

    with pytest.raises(CallableError) as reused:
        client.call("postToCalculate", {**post, "message": "add 6"}, user=user)
    assert reused.value.status == "INVALID_ARGUMENT"
    with pytest.raises(CallableError) as malformed:
        client.call("calculate", {"message": "add 1", "clientMessageId": "not valid!"}, user=user)
    assert malformed.value.status == "INVALID_ARGUMENT"
    other = client.sign_up()
    theirs = client.call("calculate", first, user=other)["chatDocument"]
    assert theirs != chat, "another user's key must not reach this user's chat"


def test_the_key_that_created_a_chat_may_name_a_post_to_it(
    client: EmulatorClient, user: User, watch: Watch, db: firestore.Client
) -> None:
    """A key's scope is the user for ``calculate`` and the user and the chat for ``postToCalculate``: the
    key of the call that created the chat names another call when it names a post to that chat."""
    chat = client.call("calculate", {"message": "add 1", "clientMessageId": "key-1"}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    watcher.wait_answered("add 1")
    post = {"chatDocument": chat, "message": "add 1", "clientMessageId": "key-1"}
    posted = client.call("postToCalculate", post, user=user)
    assert posted["status"] == "processing", "the post was taken for a retry of calculate: nothing stored"
    watcher.wait_for_messages(4)
    state = watcher.wait_answered("add 1")
    assert state["data"] == {"sum": 2}

    before = database_fingerprint(db, user.uid)
    again = client.call("postToCalculate", post, user=user)  # the post's own retry
    recreated = client.call("calculate", {"message": "add 1", "clientMessageId": "key-1"}, user=user)
    assert (again["data"], recreated["chatDocument"]) == ({"sum": 2}, chat)
    assert database_fingerprint(db, user.uid) == before, "a retry stored something"
    assert [m["text"] for m in watcher.messages if m["author"] == "user"] == ["add 1", "add 1"]
    count("client retries deduplicated", 2)
    with pytest.raises(CallableError) as reused:
        client.call("postToCalculate", {**post, "message": "add 2"}, user=user)
    assert reused.value.status == "INVALID_ARGUMENT"
    assert "clientMessageId was already used" in reused.value.message
    assert database_fingerprint(db, user.uid) == before
    count("client keys kept to their scope")
