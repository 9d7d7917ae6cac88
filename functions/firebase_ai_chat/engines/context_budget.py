"""Keep a stateless engine's history within a token budget, offline.

Tokens are estimated, not counted with the model's tokenizer (that needs a
download): ``token_estimate.estimate_text_tokens`` of the content and of each
tool call's name and arguments, plus 4 per message. The estimate is an upper
bound for natural text of every script (English, CJK, emoji, code, …) and at
most twice a real tokenizer's count, so the history sent stays within the
budget whatever the language (a flat 4 characters a token let 60,000 emoji
through a 16,000-token budget). Trimming drops the oldest turns first, where a
turn is a user message with everything that followed it up to the next user
message (so a tool call is never separated from its output). The newest turn
is always kept; the instructions (system message) are not part of the history
and are always sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .token_estimate import estimate_text_tokens

TOKENS_PER_MESSAGE = 4
DEFAULT_BUDGET = 16_000
"""Tokens of history sent per turn when the assistant sets no ``context_tokens``."""


def estimate_tokens(message: dict[str, Any]) -> int:
    """An offline upper bound of the tokens a Chat Completions message (or a Responses API input item:
    a function call, its output) costs."""
    content = message.get("content") or ""
    texts = [content if isinstance(content, str) else json.dumps(content)]
    texts += [message.get(key) or "" for key in ("name", "arguments", "output")]  # Responses API items
    if message.get("parts"):  # a Gemini content
        texts.append(json.dumps(message["parts"]))
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        texts += [function.get("name", ""), function.get("arguments", "")]
    return TOKENS_PER_MESSAGE + sum(estimate_text_tokens(text) for text in texts)


def history_tokens(history: Sequence[dict[str, Any]]) -> int:
    """The estimate of a whole history (what ``trim_history`` keeps within its budget)."""
    return sum(estimate_tokens(message) for message in history)


def is_user_message(message: dict[str, Any]) -> bool:
    """Whether a Chat Completions message or Responses API item opens a turn (a user's message)."""
    return message.get("role") == "user"


def _units(
    history: Sequence[dict[str, Any]], starts_turn: Callable[[dict[str, Any]], bool]
) -> list[list[dict[str, Any]]]:
    units: list[list[dict[str, Any]]] = []
    for message in history:
        if starts_turn(message) or not units:
            units.append([message])
        else:
            units[-1].append(message)
    return units


def trim_history(
    history: Sequence[dict[str, Any]],
    budget: int,
    *,
    starts_turn: Callable[[dict[str, Any]], bool] = is_user_message,
) -> list[dict[str, Any]]:
    """The newest whole turns of ``history`` whose estimate fits ``budget`` (at least the newest turn);
    ``starts_turn`` tells which entries open a turn (by default a user's message)."""
    kept: list[list[dict[str, Any]]] = []
    used = 0
    for unit in reversed(_units(history, starts_turn)):
        cost = history_tokens(unit)
        if kept and used + cost > budget:
            break
        kept.append(unit)
        used += cost
    return [message for unit in reversed(kept) for message in unit]
