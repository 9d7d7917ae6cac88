"""The calculator crew through the emulators: tools, reductions, errors, continuations, hand-over.

Marked ``engine``: ``tests/run`` runs these with the offline engine and again with each engine on a
real SDK against a local fake server (OpenAI Responses, stateless and Chat Completions; Gemini, on the
Gemini API and on Vertex AI).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from fake_gemini import FakeGemini
from google.cloud import firestore
from support import ChatWatcher, FakeModel, wait_until

from firebase_ai_chat import AssistantChat, ChatError, ContinuationScheduler, ErrorCode
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.tasks import CloudTasksQueue
from firebase_ai_chat.testing import EmulatorClient, User
from firebase_ai_chat.tools import reduce

pytestmark = pytest.mark.engine

Watch = Callable[[str, str], ChatWatcher]


@pytest.fixture(autouse=True)
def engine_is_used(fake_model: FakeModel | None) -> Any:
    """In a model server's pass, every scenario must really go through the SDK and the fake server."""
    before = len(fake_model.requests) if fake_model else 0
    yield
    if fake_model is not None:
        assert len(fake_model.requests) > before, "the functions did not call the model server"
    if isinstance(fake_model, FakeGemini) and os.environ.get("GEMINI_LEG") == "vertex":  # tests/run's Vertex AI leg
        paths = fake_model.paths[before:]
        assert all("/locations/europe-west1/publishers/google/models/fake-model:" in path for path in paths), paths
        assert fake_model.tokens > 0, "no key: the functions' credentials fetched an access token"


class Conversation:
    """A user talking to the calculator crew through the callables, watched by a listener."""

    def __init__(self, client: EmulatorClient, user: User, watch: Watch, first: str) -> None:
        self.client = client
        self.user = user
        self.chat = client.call("calculate", {"message": first}, user=user)["chatDocument"]
        self.watcher = watch(self.chat, user.uid)
        self.state = self.watcher.wait_answered(first)

    def say(self, text: str) -> dict[str, Any]:
        """Post ``text`` and wait for the answer; return the chat document."""
        self.client.call("postToCalculate", {"chatDocument": self.chat, "message": text}, user=self.user)
        self.state = self.watcher.wait_answered(text)
        return self.state

    @property
    def chat_id(self) -> str:
        return self.chat.removeprefix("chats/")


def test_tool_call_reduces_data(client: EmulatorClient, user: User, watch: Watch) -> None:
    talk = Conversation(client, user, watch, "add 5")
    assert talk.state["status"] == "userInput"
    assert talk.state["data"] == {"sum": 5}
    assert talk.watcher.ai_texts() == ['add: data is now {"sum": 5}']
    talk.say("subtract 7")
    assert talk.state["data"] == {"sum": -2}


def test_tool_value_is_sent_to_the_model(client: EmulatorClient, user: User, watch: Watch) -> None:
    talk = Conversation(client, user, watch, "add 3")
    talk.say("what is the sum?")
    assert talk.watcher.ai_texts()[-1] == "getSum: 3"


def test_invalid_tool_args_become_a_tool_error(client: EmulatorClient, user: User, watch: Watch) -> None:
    talk = Conversation(client, user, watch, "add lots")
    assert talk.state["status"] == "userInput"
    assert talk.state["data"] == {"sum": 0}
    [answer] = talk.watcher.ai_texts()
    assert answer.startswith("add failed: Invalid arguments for add: value: Input should be a valid number")


def test_tool_suspends_and_resumes(client: EmulatorClient, db: firestore.Client, user: User, watch: Watch) -> None:
    talk = Conversation(client, user, watch, "add 2")
    talk.say("multiply by 3")
    assert talk.state["data"] == {"sum": 6}
    assert talk.watcher.ai_texts()[-1] == 'multiply: data is now {"sum": 6}'
    [continuation] = db.collection(f"{talk.chat}/continuations").stream()
    record = continuation.to_dict()
    assert record["status"] == "resumed"
    assert record["tool"] == "multiply"
    assert record["result"] == {"kind": "data", "data": {"sum": 6}}


def test_two_tool_calls_in_one_turn_with_one_suspended(client: EmulatorClient, user: User, watch: Watch) -> None:
    talk = Conversation(client, user, watch, "add 5 and multiply by 3")
    assert talk.state["data"] == {"sum": 15}
    assert talk.watcher.ai_texts() == ['add: data is now {"sum": 5}', 'multiply: data is now {"sum": 15}']
    assert [m["text"] for m in talk.watcher.messages if m["author"] == "user"] == ["add 5 and multiply by 3"]


def test_resuming_twice_is_a_no_op_and_unknown_is_not_found(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch
) -> None:
    talk = Conversation(client, user, watch, "add 1 and multiply by 4")
    assert talk.state["data"] == {"sum": 4}
    [continuation] = db.collection(f"{talk.chat}/continuations").stream()
    scheduler = ContinuationScheduler(store=FirestoreChatStore(db), queue=CloudTasksQueue("calculator"))
    assert scheduler.resume(continuation.id, reduce({"sum": 1000})) is False
    with pytest.raises(ChatError) as unknown:
        scheduler.resume(f"{talk.chat_id}.nope.0.0", reduce({"sum": 1000}))
    assert unknown.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(ChatError):
        scheduler.resume("not an id", reduce({"sum": 1000}))
    assert db.document(talk.chat).get().to_dict()["data"] == {"sum": 4}
    assert len(talk.watcher.ai_texts()) == 2


def test_tool_error_is_seen_by_the_model(client: EmulatorClient, user: User, watch: Watch) -> None:
    talk = Conversation(client, user, watch, "add 8")
    talk.say("divide by 0")
    assert talk.state["status"] == "userInput"
    assert talk.state["data"] == {"sum": 8}
    assert talk.watcher.ai_texts()[-1] == "divide failed: Division by zero is not allowed."


def test_hand_over_then_hand_back_keeps_one_conversation(
    client: EmulatorClient, user: User, watch: Watch, fake_model: FakeModel | None
) -> None:
    talk = Conversation(client, user, watch, "add 10")
    state = talk.say("divide by 4")
    assert state["config"]["assistantId"] == "divider"
    assert [a["assistantId"] for a in state["config"]["stack"]] == ["calculator"]
    assert state["data"] == {"sum": 2.5}
    assert talk.watcher.ai_texts()[-1] == 'divide: data is now {"sum": 2.5}'

    state = talk.say("divide by 5")
    assert state["data"] == {"sum": 0.5}
    assert state["config"]["assistantId"] == "divider"

    state = talk.say("hand back")
    assert state["config"]["assistantId"] == "calculator"
    assert state["config"].get("stack", []) == []
    assert talk.watcher.ai_texts()[-2:] == [  # the hand-back is the app's, not the user's
        'divide: data is now {"sum": 0.5}',
        "The divider is done. The sum is 0.5.",
    ]
    names = [(m["text"], m["meta"]["name"]) for m in talk.watcher.messages if m["author"] == "ai"]
    assert names[-3:] == [
        ('divide: data is now {"sum": 2.5}', "Divider"),
        ('divide: data is now {"sum": 0.5}', "Divider"),
        ("The divider is done. The sum is 0.5.", "Calculator"),
    ], "each assistant's messages carry its own name"
    state = talk.say("add 1")
    assert state["data"] == {"sum": 1.5}
    assert state["config"]["assistantId"] == "calculator"
    if fake_model is not None:
        requests = fake_model.requests
        instructions = [r.get("instructions") or "" for r in requests] + [
            m["content"] for r in requests for m in r.get("messages", []) if m["role"] == "system"
        ]
        instructions += [p["text"] for r in requests for p in (r.get("systemInstruction") or {}).get("parts", [])]
        assert any("divide the user's running sum" in text for text in instructions)


def test_hand_over_without_a_request_gives_the_new_assistant_the_users_message(
    client: EmulatorClient, user: User, watch: Watch
) -> None:
    talk = Conversation(client, user, watch, "add 6")
    state = talk.say("switch to the divider")
    assert state["config"]["assistantId"] == "divider"
    assert [a["assistantId"] for a in state["config"]["stack"]] == ["calculator"]
    assert talk.watcher.ai_texts()[-1] == 'You said "switch to the divider".'
    state = talk.say("divide by 3")
    assert state["data"] == {"sum": 2}


def test_meta_is_in_messages_and_in_the_completion_handler(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch
) -> None:
    talk = Conversation(client, user, watch, "add 2")
    messages = talk.watcher.wait_for_messages(2)
    assert [m.get("meta") for m in messages] == [{"name": "You"}, {"name": "Calculator"}]
    talk.say("add 3")
    client.call("closeCalculate", {"chatDocument": talk.chat}, user=user)

    def completions() -> list[dict[str, Any]] | None:
        found = [d.to_dict() for d in db.collection(f"{talk.chat}/completions").stream()]
        return found if len(found) == 3 else None

    found = wait_until(completions, what="three completion records")
    assert sorted((c["meta"]["command"], c["status"]) for c in found) == [
        ("calculate", "userInput"),
        ("close", "complete"),
        ("post", "userInput"),
    ]
    assert all(c["data"] == {"sum": 5} for c in found if c["meta"]["command"] != "calculate")


def test_single_run_ends_complete(db: firestore.Client, user: User, watch: Watch) -> None:
    from main import CALCULATOR

    chat = AssistantChat(store=FirestoreChatStore(db), queue=CloudTasksQueue("calculator"))
    started = chat.single_run(user_id=user.uid, assistant=CALCULATOR, data={"sum": 1}, messages=["add 4"])
    assert started.status == "processing"
    watcher = watch(started.chat_document, user.uid)
    state = watcher.wait_for_status("complete")
    assert state["data"] == {"sum": 5}
    assert watcher.wait_for_ai_texts(1) == ['add: data is now {"sum": 5}']
    with pytest.raises(ChatError) as closed:
        chat.post_message(user_id=user.uid, chat_id=started.chat_document.removeprefix("chats/"), messages=["more"])
    assert closed.value.code is ErrorCode.FAILED_PRECONDITION


def test_each_run_leaves_a_history_record(
    client: EmulatorClient, db: firestore.Client, user: User, watch: Watch, engine_mode: str
) -> None:
    talk = Conversation(client, user, watch, "add 5 and multiply by 3")
    run = db.document(f"{talk.chat}/runs/{talk.state['latestDispatchId']}").get().to_dict()
    assert run["outcome"] == "userInput"
    assert run["status"] == "done"
    assert run["engine"] == talk.state["config"]["engine"]
    assert run["model"] == ("offline" if engine_mode == "offline" else "fake-model")
    steps = [(s["kind"], s["detail"].get("name")) for s in run["steps"]]
    assert steps == [("model", None), ("tool", "add"), ("tool", "multiply"), ("model", None)]
    add = run["steps"][1]["detail"]
    assert add["arguments"] == '{"value": 5.0}'
    assert add["result"] == {"kind": "data", "data": {"sum": 5}}
    assert all(s["detail"]["ms"] >= 0 for s in run["steps"])
    if engine_mode != "offline":
        assert run["inputTokens"] > 0
        assert run["outputTokens"] > 0
    assert client.rest_get(f"{talk.chat}/runs/{talk.state['latestDispatchId']}", user=user).status_code == 403


def test_front_api_hands_over_and_back(
    client: EmulatorClient, db: firestore.Client, user: User, other_user: User, watch: Watch
) -> None:
    from main import DIVIDER

    talk = Conversation(client, user, watch, "add 8")
    chat = AssistantChat(store=FirestoreChatStore(db), queue=CloudTasksQueue("calculator"))
    with pytest.raises(ChatError) as denied:
        chat.hand_over(user_id=other_user.uid, chat_id=talk.chat_id, assistant=DIVIDER)
    assert denied.value.code is ErrorCode.PERMISSION_DENIED

    handed = chat.hand_over(user_id=user.uid, chat_id=talk.chat_id, assistant=DIVIDER, messages=["divide by 2"])
    assert handed.status == "processing"

    def divided() -> dict[str, Any] | None:
        state = db.document(talk.chat).get().to_dict()
        return state if state["status"] == "userInput" and state["data"] == {"sum": 4} else None

    state = wait_until(divided, what="the divider's answer")
    assert state["config"]["assistantId"] == "divider"
    assert [a["assistantId"] for a in state["config"]["stack"]] == ["calculator"]
    assert talk.watcher.wait_for_ai_texts(2)[-1] == 'divide: data is now {"sum": 4}'
    assert [m["text"] for m in talk.watcher.messages if m["author"] == "user"] == ["add 8"]

    back = chat.hand_back(user_id=user.uid, chat_id=talk.chat_id)
    assert back.status == "userInput"
    assert db.document(talk.chat).get().to_dict()["config"]["assistantId"] == "calculator"
    with pytest.raises(ChatError) as nothing_left:
        chat.hand_back(user_id=user.uid, chat_id=talk.chat_id)
    assert nothing_left.value.code is ErrorCode.FAILED_PRECONDITION
    talk.say("add 1")
    assert talk.state["data"] == {"sum": 5}
