"""The offline engine's answers (``decide``): in the order the inputs came, a user's words answered
as said by the user, an app's instruction acted on or relayed, never presented as the user's."""

from __future__ import annotations

import json

from crew import PHRASES

from firebase_ai_chat.engines.base import INSTRUCTION_PREFIX, Instruction, ToolOutput, UserInput, heard
from firebase_ai_chat.engines.offline import decide

TOOLS = ["add", "multiply", "switch", "halve"]


def output(name: str, data: dict[str, float]) -> ToolOutput:
    return ToolOutput(call_id=f"c-{name}", name=name, output=json.dumps({"data": data}))


def test_a_users_message_without_a_tool_is_answered_as_said_by_the_user() -> None:
    assert decide(PHRASES, [UserInput(text="hello")], TOOLS, call_prefix="c") == (['You said "hello".'], [])


def test_an_instruction_is_acted_on_or_relayed_never_said_by_the_user() -> None:
    texts, calls = decide(PHRASES, [Instruction(text="halve")], TOOLS, call_prefix="c")
    assert (texts, [c.name for c in calls]) == ([], ["halve"])
    said = decide(PHRASES, [Instruction(text="The divider is done. The sum is 7.5.")], TOOLS, call_prefix="c")
    assert said == (["The divider is done. The sum is 7.5."], [])


def test_outputs_given_back_with_a_hand_back_are_history_and_what_follows_is_answered() -> None:
    """Back from a hand-over: the outputs of the calls that handed the chat over came before the
    other assistant's work; the hand-back and the user's new message are answered, in order."""
    inputs = [
        output("add", {"sum": 4}),
        output("switch", {"sum": 4}),
        Instruction(text="The halver is done."),
        UserInput(text="add 1"),
    ]
    texts, calls = decide(PHRASES, inputs, TOOLS, call_prefix="c")
    assert texts == ["The halver is done."] and [c.name for c in calls] == ["add"]
    answered = decide(PHRASES, [output("add", {"sum": 5})], TOOLS, call_prefix="c")
    assert answered == (['add: data is now {"sum": 5}'], []), "an output with no instruction before it is answered"


def test_a_model_reads_an_instruction_marked_as_the_apps() -> None:
    instruction = Instruction(text="The divider is done.")
    assert instruction.spoken == f"{INSTRUCTION_PREFIX} The divider is done."
    assert heard(instruction.spoken) == instruction and heard("hello") == UserInput(text="hello")
