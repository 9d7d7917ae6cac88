"""Every server-only record a chat owns, its path under the chat, and one base model for them:

- ``runs/{dispatchId}`` (``RunState``): where a run is and its history;
- ``contexts/{assistantId}`` (``EngineContextRecord``): an assistant's engine context;
- ``continuations/{continuationId}`` (``ContinuationRecord``): a suspended tool call and its result;
- ``sweeps/{dispatchId}`` (``SweepRecord``): how often a watchdog re-enqueued a stuck run.

The worker writes every step here before acting on it, so a redelivered or
retried task resumes from the last persisted step, and a suspended tool call
is resumed by any process. Clients cannot read these records (rules). The chat
document and its messages, which clients read, are ``models.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from .engines.base import AssistantText, Instruction, ToolOutput, Usage, UserInput
from .errors import ChatError, ErrorCode
from .models import DOCUMENT_ID, ChatConfig
from .tools.results import DataReduction, Suspended, ToolFailure, ToolValue

EngineInputRecord = Annotated[UserInput | ToolOutput | AssistantText | Instruction, Field(discriminator="kind")]
ToolResultRecord = Annotated[ToolValue | DataReduction | ToolFailure | Suspended, Field(discriminator="kind")]
CompletedResultRecord = Annotated[ToolValue | DataReduction | ToolFailure, Field(discriminator="kind")]

MAX_STORED_ARGUMENTS = 16_000
"""Longest tool-call arguments (JSON text) a run keeps; longer calls fail without running."""


class RunOutcome(StrEnum):
    """How a run's command ended: ``userInput`` (answered; also when queued posts start the next
    run at once), ``complete`` (a single run, answered), ``stopped`` (the owner stopped it) or ``failed``."""

    USER_INPUT = "userInput"
    COMPLETE = "complete"
    STOPPED = "stopped"
    FAILED = "failed"


class RunStatus(StrEnum):
    """Where a run is: answering (``running``), waiting for a continuation, or over."""

    RUNNING = "running"
    SUSPENDED = "suspended"
    DONE = "done"


class _Record(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_record(self) -> dict[str, Any]:
        """The Firestore representation."""
        return self.model_dump(mode="json", by_alias=True)


class PendingCall(_Record):
    """A tool call of the current turn and, once known, its result (a ``ToolResult`` document)."""

    call_id: str
    name: str
    arguments: str
    continuation_id: str
    result: ToolResultRecord | None = None

    @property
    def suspended(self) -> bool:
        """The tool suspended and its continuation has not been resumed yet."""
        return isinstance(self.result, Suspended)

    @property
    def resolved(self) -> bool:
        """The call has a final result."""
        return self.result is not None and not self.suspended


class ModelCallDetail(_Record):
    """What one model call did and cost."""

    engine: str
    model: str
    texts: int
    tool_calls: list[str]
    usage: Usage
    ms: int
    stream_writes: int = 0


class ToolCallDetail(_Record):
    """One tool call: arguments and result (cut when long, see ``turn.clipped``), time taken."""

    name: str
    arguments: Any
    result: Any
    ms: int


class ModelStep(_Record):
    """A model call in the run history."""

    kind: Literal["model"] = "model"
    assistant_id: str
    detail: ModelCallDetail


class ToolStep(_Record):
    """A tool call in the run history."""

    kind: Literal["tool"] = "tool"
    assistant_id: str
    detail: ToolCallDetail


Step = Annotated[ModelStep | ToolStep, Field(discriminator="kind")]
"""One entry of the run history."""


class RunState(_Record):
    """Where a run is, and its history. ``turn`` counts model calls and versions every write.

    As a record it serves audits, cost accounting and debugging: ``engine`` and
    ``model`` of the last model call, token totals, every step (model calls and
    tool calls with arguments, results and timings) and the ``outcome``
    (``userInput``, ``complete`` or ``failed`` with ``error``).
    """

    dispatch_id: str
    started_at: datetime | None = None
    """When a worker first took the run up (its clock)."""
    status: RunStatus = RunStatus.RUNNING
    engine: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    billed_tokens: int = 0
    """Tokens of this run already added to the user's usage (limits; see ``spending``)."""
    billed_cost: float = 0.0
    """Cost of this run already added to the user's usage."""
    outcome: RunOutcome | None = None
    error: str | None = None
    writer: str | None = None
    """The delivery that wrote the record last (a random id per delivery)."""
    version: int = 0
    """Counts the writes of this record: a delivery that sees a higher one than it wrote or read
    knows another delivery is advancing the run."""
    turn: int = 0
    input: list[EngineInputRecord] = Field(default_factory=list)
    calls: list[PendingCall] = Field(default_factory=list)
    turn_assistant_id: str | None = None
    next_config: ChatConfig | None = None
    """The chat's assistant once this turn's calls are done, when a tool handed over or back
    (every call of a turn runs on the assistant that made it)."""
    handover_messages: list[str] = Field(default_factory=list)
    handover_by_user: bool = False
    """``handover_messages`` are the user's own words (a hand-over without messages passes the request
    on), not the app's ``Instruction``s."""
    ai_messages: int = 0
    steps: list[Step] = Field(default_factory=list)
    steps_omitted: int = 0
    """History entries left out once ``steps`` was full (``budget.MAX_STEPS``)."""
    user_messages: int = 1
    """The user messages this run answers (posts queued during the previous run are answered
    together): its tool-call and model-call caps scale with it (``budget.py``)."""
    request: list[str] | None = None
    """Their texts, kept from the delivery that started the run (what a tool's hand-over without
    messages passes on): the run's input is read once, never queried again (a hand-over's run, whose
    input is instructions, answers none). ``None``: a record written before 0.3 (read from the
    messages then)."""


class EngineContextRecord(_Record):
    """``chats/{id}/contexts/{assistantId}``: an assistant's engine context and the inputs it
    still owes its model (tool calls answered while another assistant had the chat; the input of a
    turn a limit or the switch ended before its model call; what a stopped run did not send: its
    input, the stopped answer, ``stop.py``)."""

    context: dict[str, Any] = Field(default_factory=dict)
    pending: list[EngineInputRecord] = Field(default_factory=list)


def run_path(dispatch_id: str) -> str:
    """Where the run of ``dispatch_id`` is stored, relative to the chat."""
    return f"runs/{dispatch_id}"


def context_path(assistant_id: str) -> str:
    """Where an assistant's engine context is stored, relative to the chat."""
    return f"contexts/{assistant_id}"


class Next(StrEnum):
    """What a run does next."""

    ASK_MODEL = "askModel"
    CALL_TOOLS = "callTools"
    SUSPEND = "suspend"
    END_TURN = "endTurn"
    FINISH = "finish"


def next_step(run: RunState) -> Next:
    """The run's next step, from its record alone."""
    if run.status is RunStatus.DONE:
        return Next.FINISH
    if any(call.suspended for call in run.calls):
        return Next.SUSPEND
    if any(call.result is None for call in run.calls):
        return Next.CALL_TOOLS
    return Next.END_TURN if run.calls else Next.ASK_MODEL


_CONTINUATION_ID = re.compile(r"^([A-Za-z0-9_-]{1,128})\.([A-Za-z0-9_-]{1,128})\.(\d{1,6})\.(\d{1,4})$")


@dataclass(frozen=True)
class ContinuationId:
    """The id of a tool call that may suspend: ``{chatId}.{dispatchId}.{turn}.{index}`` (stable across
    retries), parsed once (``parse``) wherever one arrives from outside."""

    chat_id: str
    dispatch_id: str
    turn: int
    index: int

    def __str__(self) -> str:
        return f"{self.chat_id}.{self.dispatch_id}.{self.turn}.{self.index}"

    @classmethod
    def parse(cls, text: object) -> ContinuationId:
        """The id ``text`` names; ``not-found`` for anything that is not one."""
        match = _CONTINUATION_ID.match(text) if isinstance(text, str) else None
        if match is None or not all(re.fullmatch(DOCUMENT_ID, part) for part in match.group(1, 2)):
            raise ChatError(ErrorCode.NOT_FOUND, "Unknown continuation.")
        return cls(match.group(1), match.group(2), int(match.group(3)), int(match.group(4)))


class ContinuationStatus(StrEnum):
    """A suspended call's continuation: waiting, resumed, or cancelled by a stop (a resume changes nothing)."""

    SUSPENDED = "suspended"
    RESUMED = "resumed"
    CANCELLED = "cancelled"


class ContinuationRecord(_Record):
    """``chats/{chatId}/continuations/{id}``."""

    dispatch_id: str
    call_id: str
    tool: str
    status: ContinuationStatus = ContinuationStatus.SUSPENDED
    result: CompletedResultRecord | None = None


def continuation_path(continuation: ContinuationId | str) -> str:
    """Where a continuation record is stored, relative to the chat."""
    return f"continuations/{continuation}"


class SweepRecord(_Record):
    """``chats/{id}/sweeps/{dispatchId}``: how often a stuck dispatch was re-enqueued."""

    count: int = 0


def sweep_path(dispatch_id: str) -> str:
    """Where a dispatch's sweep count is stored, relative to the chat."""
    return f"sweeps/{dispatch_id}"
