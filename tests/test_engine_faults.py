"""Streaming and engine faults through the emulators, with the real SDK and the local fake server.

Marked ``model_server``: they run in ``tests/run``'s OpenAI passes (Responses, Chat Completions) and
its Gemini pass, where the functions use 1 retry (2 tries per attempt: ``OPENAI_MAX_RETRIES``,
``GEMINI_MAX_RETRIES``) and a 5 s timeout, and the worker queue allows 3 attempts. The malformed
tool call is OpenAI's (Gemini sends arguments as a JSON object, never as text).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fake_openai import FakeOpenAI, Fault
from support import ChatWatcher, FakeModel

from firebase_ai_chat.engines.failures import BLOCKED_MESSAGE, REJECTED_MESSAGE, UNAVAILABLE_MESSAGE
from firebase_ai_chat.testing import EmulatorClient, User

pytestmark = pytest.mark.model_server

Watch = Callable[[str, str], ChatWatcher]
TRIES_PER_ATTEMPT = 2
ATTEMPTS = 3


def test_partial_text_is_seen_by_a_listener_before_completion(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeModel
) -> None:
    fake.stream_delay = 0.05
    text = "please tell me a long story about numbers " * 5
    chat = client.call("calculate", {"message": text}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    watcher.wait_answered(text)
    final = f'You said "{text}".'
    [answer] = [m for m in watcher.messages if m["author"] == "ai"]
    assert answer["text"] == final
    assert answer["streaming"] is False
    partial = [v for v in watcher.versions if v["author"] == "ai" and v["streaming"]]
    assert partial, "the listener saw no partial message"
    assert all(final.startswith(v["text"]) and len(v["text"]) < len(final) for v in partial)


def test_rate_limits_are_retried_by_the_task_queue(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeModel
) -> None:
    fake.fail_next(*[Fault(status=429)] * TRIES_PER_ATTEMPT)
    before = len(fake.requests)
    chat = client.call("calculate", {"message": "add 5"}, user=user)["chatDocument"]
    state = watch(chat, user.uid).wait_answered("add 5")
    assert state["status"] == "userInput"
    assert state["data"] == {"sum": 5}
    assert len(fake.requests) - before >= TRIES_PER_ATTEMPT + 2


def test_a_timeout_is_retried(client: EmulatorClient, user: User, watch: Watch, fake: FakeModel) -> None:
    fake.fail_next(Fault(status=500, delay=6))
    chat = client.call("calculate", {"message": "add 7"}, user=user)["chatDocument"]
    state = watch(chat, user.uid).wait_answered("add 7", timeout=90)
    assert state["data"] == {"sum": 7}


def test_server_errors_after_the_last_attempt_fail_the_chat(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeModel
) -> None:
    fake.fail_next(*[Fault(status=503)] * (TRIES_PER_ATTEMPT * ATTEMPTS))
    chat = client.call("calculate", {"message": "add 1"}, user=user)["chatDocument"]
    state = watch(chat, user.uid).wait_for_status("failed", timeout=90)
    assert state["error"] == {"code": "unavailable", "message": UNAVAILABLE_MESSAGE}
    assert state["data"] == {"sum": 0}


def test_a_rejected_request_fails_the_chat_at_once(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeModel
) -> None:
    fake.fail_next(Fault(status=400))
    before = len(fake.requests)
    chat = client.call("calculate", {"message": "add 1"}, user=user)["chatDocument"]
    state = watch(chat, user.uid).wait_for_status("failed")
    assert state["error"] == {"code": "failed-precondition", "message": REJECTED_MESSAGE}
    assert len(fake.requests) - before == 1, "a permanent error must not be retried"


@pytest.mark.openai
def test_a_malformed_tool_call_becomes_a_tool_error(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeOpenAI
) -> None:
    fake.fail_next(Fault(kind="bad_arguments"))
    chat = client.call("calculate", {"message": "add 5"}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    state = watcher.wait_answered("add 5")
    assert state["status"] == "userInput"
    assert state["data"] == {"sum": 0}
    [answer] = watcher.ai_texts()
    assert answer.startswith("add failed: Invalid arguments for add")


@pytest.mark.gemini
def test_a_blocked_answer_fails_the_chat_with_a_clear_message(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeModel
) -> None:
    fake.fail_next(Fault(kind="blocked"))
    chat = client.call("calculate", {"message": "add 1"}, user=user)["chatDocument"]
    state = watch(chat, user.uid).wait_for_status("failed")
    assert state["error"] == {"code": "failed-precondition", "message": BLOCKED_MESSAGE}
    assert state["data"] == {"sum": 0}
