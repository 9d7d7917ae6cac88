"""Keep a stateless engine's history within a token budget, offline.

Tokens are estimated, not counted with the model's tokenizer (that needs a
download): about one token per 4 characters of content and arguments, plus 4
per message, which over-estimates English text slightly. Trimming drops the
oldest turns first, where a turn is a user message with everything that
followed it up to the next user message (so a tool call is never
separated from its output). The newest turn is always kept; the instructions
(system message) are not part of the history and are always sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
DEFAULT_BUDGET = 16_000
"""Tokens of history sent per turn when the assistant sets no ``context_tokens``."""


def estimate_tokens(message: dict[str, Any]) -> int:
    """An offline estimate of the tokens a Chat Completions message costs."""
    text = message.get("content") or ""
    if not isinstance(text, str):
        text = json.dumps(text)
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        text += function.get("name", "") + function.get("arguments", "")
    return TOKENS_PER_MESSAGE + -(-len(text) // CHARS_PER_TOKEN)


def _units(history: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    units: list[list[dict[str, Any]]] = []
    for message in history:
        if message.get("role") == "user" or not units:
            units.append([message])
        else:
            units[-1].append(message)
    return units


def trim_history(history: Sequence[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """The newest whole turns of ``history`` whose estimate fits ``budget`` (at least the newest turn)."""
    kept: list[list[dict[str, Any]]] = []
    used = 0
    for unit in reversed(_units(history)):
        cost = sum(estimate_tokens(message) for message in unit)
        if kept and used + cost > budget:
            break
        kept.append(unit)
        used += cost
    return [message for unit in reversed(kept) for message in unit]
