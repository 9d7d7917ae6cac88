"""What a model call sends after many long turns, through the emulators (issue 18, item 6).

Marked ``openai``: it runs in ``tests/run``'s OpenAI passes, against the local fake server that
records every request. Through Chat Completions each call sends the instructions and the newest
history within the assistant's token budget (16,000 by default); through the Responses API it
sends only the new input. Either way, what is sent must stay within the budget in a real
tokenizer's count, however many tokens a character costs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fake_openai import FakeOpenAI
from real_tokens import real_tokens
from support import ChatWatcher, count

from firebase_ai_chat.engines.context_budget import DEFAULT_BUDGET, history_tokens
from firebase_ai_chat.testing import EmulatorClient, User

pytestmark = pytest.mark.openai

Watch = Callable[[str, str], ChatWatcher]
TURNS = 8
EMOJI = "😀" * 3985


def history_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation a request carries: Chat Completions' messages after the system message, or
    the Responses API's new input."""
    if "messages" in body:
        return [message for message in body["messages"] if message["role"] != "system"]
    return list(body["input"])


def test_long_emoji_turns_keep_each_model_call_within_the_budget(
    client: EmulatorClient, user: User, watch: Watch, fake: FakeOpenAI
) -> None:
    before = len(fake.requests)
    first = f"0 {EMOJI}"
    chat = client.call("calculate", {"message": first}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    watcher.wait_answered(first)
    for turn in range(1, TURNS):
        text = f"{turn} {EMOJI}"
        client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user)
        watcher.wait_for_messages(2 * turn + 2)
        assert watcher.wait_answered(text)["status"] == "userInput"
    ours = [history_of(body) for body in fake.requests[before:]]
    sent = [history for history in ours if EMOJI in json.dumps(history, ensure_ascii=False)]
    assert len(sent) == TURNS
    assert all(history_tokens(history) <= DEFAULT_BUDGET for history in sent)
    real = real_tokens([json.dumps(history, ensure_ascii=False) for history in sent])
    assert max(real) <= DEFAULT_BUDGET, f"real tokens sent per call: {real}"
    longest = max(len(json.dumps(history, ensure_ascii=False).encode()) for history in sent)
    assert longest < 100_000, f"a call sent {longest} bytes of history"
    count("long non-Latin turns kept within the context budget", TURNS)
