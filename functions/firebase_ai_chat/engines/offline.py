"""A deterministic engine that needs no model: demos and tests run with no key.

It reads each user message as clauses (split on ``,``, ``;``, ``and``,
``then``) and turns every clause that matches a ``Phrase`` of an available
tool into a tool call; a message with no such clause is answered
``You said "<text>".`` (an app's ``Instruction``: relayed as it is). Tool outputs are answered ``<tool>: <output>`` (or
``<tool> failed: <error>``). The same input always gives the same answer.
``decide`` is the pure function behind it, so a fake model server can speak
any wire protocol with the same behaviour. It reports a deterministic usage
estimate (``estimate_tokens``: about 4 characters a token, instructions and
inputs in, texts and calls out), so token limits work offline too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import (
    AssistantText,
    EngineInput,
    EngineReply,
    EngineRequest,
    Instruction,
    TextSink,
    ToolCall,
    ToolOutput,
    Usage,
)

_CLAUSES = re.compile(r"\s*(?:[,;]|\band then\b|\bthen\b|\band\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Phrase:
    """A clause (a full-match regular expression, case-insensitive) that calls ``tool``.

    ``arguments`` builds the tool's arguments from the match.
    """

    pattern: str
    tool: str
    arguments: Callable[[re.Match[str]], dict[str, Any]] = field(default=lambda _: {})

    def match(self, clause: str) -> re.Match[str] | None:
        """The match of the whole clause, if any."""
        return re.fullmatch(self.pattern, clause, re.IGNORECASE)


def _describe(output: ToolOutput) -> str:
    try:
        parsed = json.loads(output.output)
    except ValueError:
        parsed = output.output
    if output.is_error:
        message = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        return f"{output.name} failed: {message}"
    if isinstance(parsed, dict) and "data" in parsed:
        return f"{output.name}: data is now {json.dumps(parsed['data'], sort_keys=True)}"
    if isinstance(parsed, dict) and "result" in parsed:
        return f"{output.name}: {json.dumps(parsed['result'], sort_keys=True)}"
    return f"{output.name}: {output.output}"


def decide(
    phrases: Sequence[Phrase], inputs: Sequence[EngineInput], tools: Sequence[str], *, call_prefix: str
) -> tuple[list[str], list[ToolCall]]:
    """The texts and tool calls answering ``inputs`` when ``tools`` are available, in the order the
    inputs came. What precedes a stopped answer (``AssistantText``) is history: only the inputs after
    the last one are answered. An ``Instruction`` (the app's message on a hand-over or a hand-back) is
    acted on like a user's message but never answered as said by the user: with no tool to call, it is
    relayed as it is; and the tool outputs before it (those of the turn that handed the chat over,
    given back when the chat comes back) are history too: their answer would come after the fact."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    stops = [index for index, item in enumerate(inputs) if isinstance(item, AssistantText)]
    later = inputs[stops[-1] + 1 :] if stops else inputs
    instructed = max((index for index, item in enumerate(later) if isinstance(item, Instruction)), default=-1)
    for position, item in enumerate(later):
        if isinstance(item, ToolOutput):
            if position > instructed:
                texts.append(_describe(item))
            continue
        if isinstance(item, AssistantText):
            continue
        found = _calls(phrases, item.text, tools, call_prefix, len(calls))
        calls += found
        if not found:
            texts.append(item.text if isinstance(item, Instruction) else f'You said "{item.text}".')
    return texts, calls


def _calls(phrases: Sequence[Phrase], text: str, tools: Sequence[str], call_prefix: str, first: int) -> list[ToolCall]:
    """A call for each clause of ``text`` that matches a phrase of an available tool."""
    calls: list[ToolCall] = []
    for clause in _CLAUSES.split(text.strip().rstrip(".!?")):
        phrase = next((p for p in phrases if p.tool in tools and p.match(clause)), None)
        match = phrase.match(clause) if phrase is not None else None
        if phrase is not None and match is not None:
            call_id = f"{call_prefix}_{first + len(calls)}"
            calls.append(ToolCall(call_id=call_id, name=phrase.tool, arguments=json.dumps(phrase.arguments(match))))
    return calls


CHARS_PER_TOKEN = 4
"""The offline engine's token estimate: one token per 4 characters (rounded up)."""


def estimate_tokens(text: str) -> int:
    """The offline estimate of ``text``'s tokens."""
    return -(-len(text) // CHARS_PER_TOKEN)


def estimated_usage(request: EngineRequest, texts: Sequence[str], calls: Sequence[ToolCall]) -> Usage:
    """The offline engine's usage of one turn: the instructions and inputs in, the texts and calls out."""
    inputs = [item.output if isinstance(item, ToolOutput) else item.text for item in request.input]
    sent = "".join([request.assistant.instructions, *inputs])
    answered = "".join([*texts, *(call.name + call.arguments for call in calls)])
    return Usage(input_tokens=estimate_tokens(sent), output_tokens=estimate_tokens(answered))


class OfflineEngine:
    """The ``Engine`` that answers with ``decide``; its context counts turns (for unique call ids)."""

    name = "offline"

    def __init__(self, phrases: Sequence[Phrase] = ()) -> None:
        self.phrases = list(phrases)

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """One deterministic turn (it does not stream: the whole text is there at once)."""
        turn = int(request.context.get("turn", 0)) + 1
        texts, calls = decide(
            self.phrases,
            request.input,
            [tool.name for tool in request.tools],
            call_prefix=f"call_{request.assistant.assistant_id}_{turn}",
        )
        if not texts and not calls:
            texts = ["(nothing to answer)"]
        usage = estimated_usage(request, texts, calls)
        return EngineReply(texts=texts, tool_calls=calls, model="offline", context={"turn": turn}, usage=usage)
