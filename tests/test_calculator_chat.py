"""The calculator chat end to end: callables → Firestore → Cloud Tasks → worker → listener."""

from collections.abc import Callable

from support import ChatWatcher

from firebase_ai_chat.testing import EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]


def test_chat_goes_created_processing_user_input_and_listener_sees_ai_answer(
    client: EmulatorClient, user: User, watch: Watch
) -> None:
    started = client.call("calculate", {"message": "Hello"}, user=user)
    assert started["status"] == "processing"
    assert started["data"] == {"sum": 0}
    assert started["chatDocument"].startswith("chats/")

    watcher = watch(started["chatDocument"], user.uid)
    state = watcher.wait_for_status("userInput")
    assert state["userId"] == user.uid
    assert state["config"]["assistantId"] == "calculator"
    messages = watcher.wait_for_messages(2)
    assert [(m["author"], m["userId"]) for m in messages] == [("user", user.uid), ("ai", user.uid)]
    assert messages[0]["text"] == "Hello"
    assert messages[1]["text"] == 'You said "Hello".'
    assert messages[1]["dispatchId"] == messages[0]["dispatchId"] == state["latestDispatchId"]


def test_post_then_close(client: EmulatorClient, user: User, watch: Watch) -> None:
    chat = client.call("calculate", {"message": "one"}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    watcher.wait_for_status("userInput")

    posted = client.call("postToCalculate", {"chatDocument": chat, "message": "two"}, user=user)
    assert posted == {"chatDocument": chat, "status": "processing", "data": {"sum": 0}}
    watcher.wait_for_status("userInput")
    messages = watcher.wait_for_messages(4)
    assert [m["text"] for m in messages] == ["one", 'You said "one".', "two", 'You said "two".']

    closed = client.call("closeCalculate", {"chatDocument": chat}, user=user)
    assert closed == {"chatDocument": chat, "status": "complete", "data": {"sum": 0}}
    watcher.wait_for_status("complete")
    assert watcher.statuses[-3:] == ["processing", "userInput", "complete"]


def test_messages_posted_while_processing_are_answered_in_order(
    client: EmulatorClient, user: User, watch: Watch
) -> None:
    chat = client.call("calculate", {"message": "m0"}, user=user)["chatDocument"]
    for index in range(1, 4):
        client.call("postToCalculate", {"chatDocument": chat, "message": f"m{index}"}, user=user)
    watcher = watch(chat, user.uid)
    watcher.wait_for_status("userInput")
    ai_texts = watcher.wait_for_ai_texts(4)
    user_texts = [m["text"] for m in watcher.messages if m["author"] == "user"]
    assert user_texts == ["m0", "m1", "m2", "m3"]
    assert ai_texts == [f'You said "m{i}".' for i in range(4)]
    assert watcher.messages[-1]["author"] == "ai"


def test_closed_chat_takes_no_more_messages(client: EmulatorClient, user: User, watch: Watch) -> None:
    chat = client.call("calculate", {"message": "hi"}, user=user)["chatDocument"]
    watch(chat, user.uid).wait_for_status("userInput")
    client.call("closeCalculate", {"chatDocument": chat}, user=user)
    again = client.call("closeCalculate", {"chatDocument": chat}, user=user)
    assert again["status"] == "complete"
    try:
        client.call("postToCalculate", {"chatDocument": chat, "message": "late"}, user=user)
    except Exception as error:
        assert getattr(error, "status", None) == "FAILED_PRECONDITION"
    else:
        raise AssertionError("posting to a closed chat succeeded")
