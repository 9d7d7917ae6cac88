"""Trimming a Chat Completions history to a token budget, offline."""

import json
from typing import Any

from real_tokens import real_tokens

from firebase_ai_chat.engines.context_budget import DEFAULT_BUDGET, estimate_tokens, history_tokens, trim_history


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def calls(*ids: str) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": i, "type": "function", "function": {"name": "add", "arguments": '{"value": 1}'}} for i in ids
        ],
    }


def output(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": '{"data": {"sum": 1}}'}


def cost(messages: list[dict[str, Any]]) -> int:
    return sum(estimate_tokens(m) for m in messages)


def test_estimate_grows_with_text_and_counts_tool_calls() -> None:
    assert estimate_tokens(user("")) == 4
    assert estimate_tokens(user("word" + " word" * 9)) == 14
    assert estimate_tokens(user("你" * 10)) == 14
    assert estimate_tokens(calls("a")) > estimate_tokens({"role": "assistant", "content": None})


def test_history_within_budget_is_unchanged() -> None:
    history = [user("hi"), {"role": "assistant", "content": "hello"}]
    assert trim_history(history, 1000) == history


def test_oldest_turns_are_dropped_first() -> None:
    history = [user(f"message {i} " + "x" * 40) for i in range(10)]
    kept = trim_history(history, 60)
    assert kept == history[-len(kept) :]
    assert 0 < len(kept) < 10
    assert cost(kept) <= 60


def test_tool_calls_stay_paired_with_their_outputs() -> None:
    history = [user("a" * 80), calls("c1", "c2"), output("c1"), output("c2"), user("b"), calls("c3"), output("c3")]
    for budget in range(1, cost(history) + 1):
        kept = trim_history(history, budget)
        assert kept, budget
        assert kept[0]["role"] != "tool", budget
        answered = {m["tool_call_id"] for m in kept if m["role"] == "tool"}
        asked = {c["id"] for m in kept for c in m.get("tool_calls", [])}
        assert answered == asked, budget
        assert kept[0]["role"] == "user", budget
        assert cost(kept) <= budget or kept == history[-3:], budget


def test_newest_turn_is_kept_even_over_budget() -> None:
    history = [user("old"), user("new"), calls("c1"), output("c1")]
    assert trim_history(history, 1) == [user("new"), calls("c1"), output("c1")]


def test_a_history_of_long_emoji_turns_is_kept_within_the_budget_in_real_tokens() -> None:
    """Issue 18: 40 turns of 3,990 emoji each way. Estimated at 4 characters a token, about 8 turns
    (about 64,000 real tokens) fitted the 16,000-token budget."""
    emoji = "😀" * 3990
    history: list[dict[str, Any]] = []
    for turn in range(40):
        history += [user(f"{turn} {emoji}"), {"role": "assistant", "content": f'You said "{turn} {emoji}".'}]
    kept = trim_history(history, DEFAULT_BUDGET)
    assert history_tokens(kept) <= DEFAULT_BUDGET
    [sent] = real_tokens([json.dumps(kept, ensure_ascii=False)])
    assert sent <= DEFAULT_BUDGET, f"{len(kept)} messages of {len(history)} cost {sent} real tokens"
    assert kept == history[-len(kept) :] and len(kept) >= 2
