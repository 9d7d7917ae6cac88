"""``stopCalculate`` end to end: the callable, the worker function on the emulators, listeners, ``chatEvents``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fake_openai import FakeOpenAI
from google.cloud import firestore
from support import ChatWatcher, database_fingerprint, wait_until

from firebase_ai_chat.client import ChatClient
from firebase_ai_chat.events.log import EventKind, MessageEvent, StatusEvent
from firebase_ai_chat.testing import EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]


@pytest.mark.openai
def test_a_streamed_answer_is_stopped_and_the_chat_goes_on(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch, fake: FakeOpenAI
) -> None:
    fake.stream_delay = 0.1
    message = " ".join(["tell me a very long story"] * 8)
    chat = client.call("calculate", {"message": message}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    wait_until(lambda: any(m.get("streaming") for m in watcher.messages), what="a partial answer")

    stopped = client.call("stopCalculate", {"chatDocument": chat}, user=user)

    assert stopped == {"chatDocument": chat, "status": "userInput", "data": {"sum": 0}}
    [answer] = [m for m in watcher.wait_for_messages(2) if m["author"] == "ai"]
    full = f'You said "{message}".'
    assert answer["stopped"] is True and answer["streaming"] is False
    assert answer["text"] and full.startswith(answer["text"]) and len(answer["text"]) < len(full)
    run = db.document(f"{chat}/runs/{answer['dispatchId']}").get().to_dict()
    assert run["outcome"] == "stopped" and run["writer"], "the worker did not stop the run itself"

    client.call("postToCalculate", {"chatDocument": chat, "message": "add 5"}, user=user)
    state = watcher.wait_answered("add 5")
    assert (state["status"], state["data"]) == ("userInput", {"sum": 5})
    told = fake.requests[-2]  # the model call that asked for the tool (the last one answered it)
    said = [item for item in told.get("input") or told.get("messages") or [] if item.get("role") == "assistant"]
    assert any(answer["text"] in str(item.get("content")) for item in said), "the model never saw the stopped text"


@pytest.mark.openai
def test_chat_events_show_the_stop(user: User, fake: FakeOpenAI) -> None:
    fake.stream_delay = 0.1
    alice = ChatClient(functions_url=os.environ["FUNCTIONS_EMULATOR_URL"])
    alice.sign_in_anonymously(auth_url=f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}")
    chat = alice.call("calculate", {"message": " ".join(["stop me if you can"] * 8)})["chatDocument"]
    seen: list[Any] = []
    stop = threading.Thread(target=alice.call, args=("stopCalculate", {"chatDocument": chat}))
    for event in alice.events(chat):
        seen.append(event)
        if isinstance(event.data, MessageEvent) and event.data.streaming and not stop.is_alive() and not stop.ident:
            stop.start()  # at the first partial text
    stop.join(timeout=60)
    messages = [e.data for e in seen if isinstance(e.data, MessageEvent) and e.data.author == "ai"]
    statuses = [e.data for e in seen if isinstance(e.data, StatusEvent)]
    assert seen[-1].kind is EventKind.DONE
    assert messages[-1].stopped is True and messages[-1].streaming is False
    assert statuses[-1].stopped_dispatch_id and statuses[-1].status == "userInput"
    assert any(s.stop_requested for s in statuses), "the stop request was not shown"
    alice.close()


def test_stopping_a_chat_that_waits_for_the_user_changes_nothing(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch
) -> None:
    chat = client.call("calculate", {"message": "add 2"}, user=user)["chatDocument"]
    watch(chat, user.uid).wait_answered("add 2")
    before = database_fingerprint(db, user.uid)

    assert client.call("stopCalculate", {"chatDocument": chat}, user=user) == {
        "chatDocument": chat,
        "status": "userInput",
        "data": {"sum": 2},
    }
    assert database_fingerprint(db, user.uid) == before


def test_a_stop_racing_posts_loses_nothing(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch
) -> None:
    chat = client.call("calculate", {"message": "add 1"}, user=user)["chatDocument"]
    calls = [
        threading.Thread(
            target=client.call,
            args=("postToCalculate", {"chatDocument": chat, "message": "add 10"}),
            kwargs={"user": user},
        ),
        threading.Thread(target=client.call, args=("stopCalculate", {"chatDocument": chat}), kwargs={"user": user}),
        threading.Thread(
            target=client.call,
            args=("postToCalculate", {"chatDocument": chat, "message": "add 100"}),
            kwargs={"user": user},
        ),
    ]
    for call in calls:
        call.start()
    for call in calls:
        call.join(timeout=120)
    watcher = watch(chat, user.uid)
    wait_until(
        lambda: watcher.state.get("status") == "userInput" and not watcher.state.get("nextDispatchId"),
        what="the chat to settle",
    )
    state = db.document(chat).get().to_dict()
    messages = [m.to_dict() for m in db.collection(f"{chat}/messages").stream()]  # read once it settled
    users = [m for m in messages if m["author"] == "user"]
    assert sorted(m["text"] for m in users) == ["add 1", "add 10", "add 100"], "a message was lost or duplicated"
    runs = {snapshot.id: snapshot.to_dict() for snapshot in db.collection(f"{chat}/runs").stream()}
    applied = 0
    for message in users:
        outcome = (runs.get(message["dispatchId"]) or {}).get("outcome")
        answered = any(m["author"] == "ai" and m["dispatchId"] == message["dispatchId"] for m in messages)
        assert outcome in (None, "stopped") or (outcome == "userInput" and answered), (message, runs, messages)
        if outcome == "userInput":
            applied += int(message["text"].split()[1])
    assert state["data"] == {"sum": applied}, (state, runs)
