"""What one run may do (``budget.py``): caps that bound the run record whatever the queued posts.

The scenarios of queued posts against the tool-call cap are in ``test_core.py`` (both stores) and
``test_reliability.py`` (the emulators); these are the pure pieces.
"""

from __future__ import annotations

from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.engines.base import ToolCall
from firebase_ai_chat.records import MAX_STORED_ARGUMENTS
from firebase_ai_chat.runtime.budget import MAX_STEPS, MAX_TURN_ARGUMENTS, kept_steps
from firebase_ai_chat.runtime.turn import pending_calls
from firebase_ai_chat.tools import ToolFailure


def test_a_turns_calls_share_one_budget_of_argument_characters() -> None:
    command = ChatCommand(chat_id="c", dispatch_id="d")
    big = '{"value": "' + "x" * (MAX_STORED_ARGUMENTS - 20) + '"}'
    calls = [ToolCall(call_id=f"k{i}", name="add", arguments=big) for i in range(20)]
    pending = pending_calls(command, 0, calls, cap=64)
    refused = [call for call in pending if call.result is not None]
    fitting = MAX_TURN_ARGUMENTS // len(big)
    assert len(pending) - len(refused) == fitting
    messages = [call.result.message for call in refused if isinstance(call.result, ToolFailure)]
    assert len(messages) == len(refused) and all("this turn's arguments are over" in m for m in messages)
    assert sum(len(call.arguments) for call in pending) < MAX_TURN_ARGUMENTS + len(refused) * 1001


def test_the_run_history_keeps_its_first_steps_and_counts_the_rest() -> None:
    steps, omitted = kept_steps(list(range(MAX_STEPS - 1)), [1, 2, 3], 0)
    assert (len(steps), omitted) == (MAX_STEPS, 2)
    assert kept_steps(steps, [4], omitted) == (steps, 3)
