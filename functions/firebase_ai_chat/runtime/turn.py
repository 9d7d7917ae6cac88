"""What a run does between two commits, as pure changes of ``Progress`` (no I/O here).

A delivery loads the chat, its run and the assistant's engine context, then
advances ``Progress`` in memory: the model's reply becomes calls and texts
(``apply_reply``), each tool's result is recorded in order (``record_tool``),
a turn whose calls are all answered feeds their outputs to the next model
call (``end_turn``), and ``to_write`` turns it all into one commit against
the chat as it is then. So one model call, its tools and the end of its
turn cost one commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..commands import ChatCommand
from ..engines.base import EngineInput, EngineReply, Instruction, ToolCall, ToolOutput, UserInput
from ..errors import ChatError
from ..handover import hand_back, hand_over
from ..models import ChatConfig, ChatMessage, ChatState
from ..records import (
    MAX_STORED_ARGUMENTS,
    ContinuationId,
    ContinuationRecord,
    EngineContextRecord,
    ModelCallDetail,
    ModelStep,
    PendingCall,
    RunOutcome,
    RunState,
    RunStatus,
    ToolCallDetail,
    ToolStep,
    context_path,
    continuation_path,
    run_path,
)
from ..status import ChatStatus, check_transition
from ..store.documents import ChatWrite
from ..tools.context import HandBack, HandOver
from ..tools.results import DataReduction, Suspended, ToolFailure, ToolResult, result_output
from .ai_messages import ai_message, ai_message_id
from .budget import MAX_TURN_ARGUMENTS, kept_steps, scaled
from .streaming import bounded_texts

MAX_STEP_CHARS = 1000
"""Arguments and results longer than this are cut in the run history (``steps``)."""


def clipped(value: Any) -> Any:
    """``value`` for the run history: as is when short, else its JSON text cut to ``MAX_STEP_CHARS``."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return value if len(text) <= MAX_STEP_CHARS else text[: MAX_STEP_CHARS - 1] + "…"


@dataclass(frozen=True)
class Finish:
    """The chat after its run ended: its state, the queued posts' run to enqueue, the run's outcome."""

    state: ChatState
    follow: ChatCommand | None
    outcome: RunOutcome


def finish(chat: ChatState, chat_id: str) -> Finish:
    """Complete (a single run), start the queued posts' run, or wait for the user (a stop asked for as
    the run ended is void: the run is over)."""
    chat = chat.model_copy(update={"stop_requested": None})
    if chat.single_run:
        check_transition(chat.status, ChatStatus.COMPLETE)
        return Finish(chat.model_copy(update={"status": ChatStatus.COMPLETE}), None, RunOutcome.COMPLETE)
    if chat.next_dispatch_id:
        state = chat.model_copy(update={"latest_dispatch_id": chat.next_dispatch_id, "next_dispatch_id": None})
        follow = ChatCommand.run(chat_id, chat.next_dispatch_id, assistant_id=chat.config.assistant_id)
        return Finish(state, follow, RunOutcome.USER_INPUT)
    check_transition(chat.status, ChatStatus.USER_INPUT)
    return Finish(chat.model_copy(update={"status": ChatStatus.USER_INPUT}), None, RunOutcome.USER_INPUT)


def stopped_end(chat: ChatState, chat_id: str, dispatch_id: str) -> Finish:
    """The chat after its run of ``dispatch_id`` was stopped (``stop.py``): as after any run (waiting
    for the user, complete for a single run, or running the posts queued meanwhile), marked stopped."""
    ended = finish(chat.model_copy(update={"stopped_dispatch_id": dispatch_id}), chat_id)
    return replace(ended, outcome=RunOutcome.STOPPED)


@dataclass
class Progress:
    """A run advanced in memory since the last commit, and what that commit must write."""

    command: ChatCommand
    run: RunState
    data: dict[str, Any]
    config: ChatConfig
    contexts: dict[str, EngineContextRecord] = field(default_factory=dict)
    """Engine contexts changed since the last commit, by assistant id."""
    messages: dict[str, ChatMessage] = field(default_factory=dict)
    records: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    stopped: bool = False
    """The owner stopped the run (``stop.stop_run``): the next commit ends it as stopped."""

    def written(self) -> None:
        """The commit is done: nothing is pending any more."""
        self.contexts, self.messages, self.records = {}, {}, {}


def pending_calls(command: ChatCommand, turn: int, tool_calls: list[ToolCall], cap: int) -> list[PendingCall]:
    """The model's calls as the run keeps them: past the cap, with oversized arguments, or past the
    turn's budget of argument characters, a call is answered at once with a tool error the model
    reads (it never runs)."""
    calls, stored = [], 0
    for index, call in enumerate(tool_calls):
        result: ToolFailure | None = None
        if index >= cap:
            result = ToolFailure(
                message=f"Not run: a turn may make at most {cap} tool calls. Make the remaining calls in the next turn."
            )
        elif len(call.arguments) > MAX_STORED_ARGUMENTS:
            result = ToolFailure(message=f"Not run: the arguments are over {MAX_STORED_ARGUMENTS} characters.")
        elif stored + len(call.arguments) > MAX_TURN_ARGUMENTS:
            result = ToolFailure(message=f"Not run: this turn's arguments are over {MAX_TURN_ARGUMENTS} characters.")
        else:
            stored += len(call.arguments)
        ident = str(ContinuationId(command.chat_id, command.dispatch_id, turn, index))
        arguments = clipped(call.arguments) if result else call.arguments
        calls.append(
            PendingCall(call_id=call.call_id, name=call.name, arguments=arguments, continuation_id=ident, result=result)
        )
    return calls


def apply_reply(
    progress: Progress, reply: EngineReply | None, *, chat: ChatState, cap: int, elapsed_ms: int, stream_writes: int
) -> None:
    """The model's reply (``None``: there was nothing to ask) becomes AI messages, calls and history.
    ``cap`` is the tool calls of a turn answering one user message (``budget.scaled``)."""
    run, assistant = progress.run, progress.config
    texts = bounded_texts(reply.texts) if reply else []
    calls = pending_calls(progress.command, run.turn, reply.tool_calls if reply else [], scaled(cap, run))
    for offset, text in enumerate(texts):
        index = run.ai_messages + offset
        message = ai_message(chat, assistant, run.dispatch_id, index, text)
        progress.messages[ai_message_id(run.dispatch_id, index)] = message
    steps, omitted = list(run.steps), run.steps_omitted
    if reply is not None:
        detail = ModelCallDetail(
            engine=assistant.engine,
            model=reply.model,
            texts=len(texts),
            tool_calls=[call.name for call in calls],
            usage=reply.usage,
            ms=elapsed_ms,
            stream_writes=stream_writes,
        )
        steps, omitted = kept_steps(steps, [ModelStep(assistant_id=assistant.assistant_id, detail=detail)], omitted)
        context = progress.contexts.get(assistant.assistant_id, EngineContextRecord())
        progress.contexts[assistant.assistant_id] = context.model_copy(update={"context": reply.context, "pending": []})
    progress.run = run.model_copy(
        update={
            "turn": run.turn + 1,
            "input": [],
            "calls": calls,
            "turn_assistant_id": assistant.assistant_id,
            "ai_messages": run.ai_messages + len(texts),
            "steps": steps,
            "steps_omitted": omitted,
            "status": RunStatus.RUNNING if calls else RunStatus.DONE,
            "engine": assistant.engine,
            "model": reply.model if reply else run.model,
            "input_tokens": run.input_tokens + (reply.usage.input_tokens if reply else 0),
            "output_tokens": run.output_tokens + (reply.usage.output_tokens if reply else 0),
        }
    )


def record_tool(
    progress: Progress,
    index: int,
    result: ToolResult,
    actions: tuple[HandOver | HandBack, ...],
    *,
    elapsed_ms: int,
) -> None:
    """The ``index``-th call's result; a data reduction becomes the data, a hand-over waits for the
    end of the turn (``next_config``), a suspension leaves a continuation record to resume."""
    run = progress.run
    call = run.calls[index]
    before = run.next_config or progress.config
    config, handover_messages, by_user = before, list(run.handover_messages), run.handover_by_user
    try:
        for action in actions:
            if isinstance(action, HandOver):
                assert not isinstance(action.assistant, str), "assistant names are resolved before"
                config = hand_over(config, action.assistant)
            else:
                config = hand_back(config)
            handover_messages, by_user = list(action.messages), isinstance(action, HandOver) and action.by_user
    except ChatError as error:
        result, config = ToolFailure(message=error.message), before
        handover_messages, by_user = run.handover_messages, run.handover_by_user
    if isinstance(result, DataReduction):
        progress.data = result.data
    calls = list(run.calls)
    calls[index] = call.model_copy(update={"result": result})
    detail = ToolCallDetail(
        name=call.name,
        arguments=clipped(call.arguments),
        result=clipped(result.model_dump(mode="json")),
        ms=elapsed_ms,
    )
    step = ToolStep(assistant_id=progress.config.assistant_id, detail=detail)
    steps, omitted = kept_steps(run.steps, [step], run.steps_omitted)
    progress.run = run.model_copy(
        update={
            "calls": calls,
            "handover_messages": handover_messages,
            "handover_by_user": by_user,
            "steps": steps,
            "steps_omitted": omitted,
            "next_config": config if config != before else run.next_config,
            "status": RunStatus.SUSPENDED if isinstance(result, Suspended) else run.status,
        }
    )
    if isinstance(result, Suspended):
        record = ContinuationRecord(dispatch_id=run.dispatch_id, call_id=call.call_id, tool=call.name)
        progress.records[continuation_path(call.continuation_id)] = record.to_record()


def end_turn(progress: Progress, owed: EngineContextRecord) -> None:
    """Every call is answered: the outputs are the next model input, or wait in the turn assistant's
    context (``owed``, its current record) when a tool handed the chat over; the new assistant gets
    the hand-over messages."""
    run = progress.run
    outputs = []
    for call in run.calls:
        assert call.result is not None and not isinstance(call.result, Suspended)
        text, is_error = result_output(call.result)
        outputs.append(ToolOutput(call_id=call.call_id, name=call.name, output=text, is_error=is_error))
    config = run.next_config or progress.config
    said = UserInput if run.handover_by_user else Instruction
    handed: list[EngineInput] = [said(text=text) for text in run.handover_messages]
    if run.turn_assistant_id and run.turn_assistant_id != config.assistant_id:
        progress.contexts[run.turn_assistant_id] = owed.model_copy(update={"pending": [*owed.pending, *outputs]})
        next_input: list[Any] = handed
    else:
        next_input = [*outputs, *handed]
    progress.config = config
    progress.run = run.model_copy(
        update={
            "calls": [],
            "input": next_input,
            "handover_messages": [],
            "handover_by_user": False,
            "status": RunStatus.RUNNING,
            "next_config": None,
        }
    )


def defer_input(progress: Progress, context: EngineContextRecord, *more: EngineInput) -> None:
    """The run ends before the model received its input (a stop, a limit): the input, then ``more``,
    waits in the assistant's ``context`` (its ``pending``) for its next model call."""
    waiting = [*context.pending, *progress.run.input, *more]
    progress.contexts[progress.config.assistant_id] = context.model_copy(update={"pending": waiting})
    progress.run = progress.run.model_copy(update={"input": []})


def to_write(progress: Progress, chat: ChatState, *, done: bool) -> tuple[ChatWrite, Finish | None]:
    """The commit of ``progress`` against ``chat`` as it is now (``done``: the run ends with it)."""
    state = chat.model_copy(update={"data": progress.data, "config": progress.config, "run_claim": None})
    ended = None
    if progress.stopped:
        ended = stopped_end(state, progress.command.chat_id, progress.run.dispatch_id)
    elif done:
        ended = finish(state, progress.command.chat_id)
    run = progress.run.model_copy(update={"outcome": ended.outcome}) if ended else progress.run
    records = {**progress.records, run_path(run.dispatch_id): run.to_record()}
    for assistant_id, context in progress.contexts.items():
        records[context_path(assistant_id)] = context.to_record()
    return ChatWrite(state=ended.state if ended else state, messages=dict(progress.messages), records=records), ended
