"""``ChatWorker``: handles one task (a ``ChatCommand``) inside ``on_task_dispatched``.

The run loop is engine-agnostic: ask the engine → if it calls tools, dispatch
them → feed the results back → until it answers with text only (write the AI
messages, go to ``userInput`` or ``complete``) or a tool suspends (persist the
continuation, stay ``processing``).

Durability: every step is persisted in ``runs/{dispatchId}`` before the next
one starts, in a transaction that checks the command is still current and the
run is at the expected turn. So a redelivered, retried or concurrent task
resumes from the last persisted step and its writes are never applied twice:
AI message ids derive from the dispatch id and a counter, a tool's result and
its data reduction are written together once. A tool that ran but whose
result was not persisted (a crash in between) runs again on redelivery: tools
with outside effects should use ``continuation.id`` as an idempotency key.

Delivery: a command whose dispatch id is not the chat's ``latestDispatchId``
(or whose chat is not ``processing``) is stale: acknowledged and ignored.
Errors: a permanent ``ChatError`` fails the chat at once; anything else is
re-raised so Cloud Tasks retries, until the last attempt, which fails the chat
with ``error`` set.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .continuations import ContinuationRecord, continuation_id, continuation_path
from .engines.base import Engine, EngineReply, EngineRequest, ToolOutput, UserInput
from .errors import ChatError, ErrorCode
from .handover import hand_back, hand_over
from .models import Author, ChatCommand, ChatMessage, ChatState, ErrorInfo
from .run_state import (
    MAX_STORED_ARGUMENTS,
    EngineContextRecord,
    PendingCall,
    RunOutcome,
    RunState,
    Step,
    context_path,
    run_path,
)
from .status import ChatStatus
from .store import ChatSnapshot, ChatStore, ChatWrite
from .streaming import StreamWriter, bounded_texts
from .task_queue import TaskQueue
from .tools import (
    ChatContext,
    Continuation,
    DataReduction,
    HandBack,
    HandOver,
    Suspended,
    ToolFailure,
    ToolResult,
    ToolsDispatcher,
    checked,
    result_output,
    unexpected_failure,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

INTERNAL_ERROR_MESSAGE = "The assistant could not answer. Please try again later."
MAX_TURNS = 16
"""Model calls allowed in one run before it fails (a model looping on tools)."""
MAX_TOOL_CALLS = 16
"""Default cap on the tool calls of one model turn; calls past it fail without running."""
MAX_STEP_CHARS = 1000
"""Arguments and results longer than this are cut in the run history (``steps``)."""


@dataclass
class _Mark:
    """This delivery's signature on the run record, and the run version it first read."""

    writer: str
    first_seen: int | None = None


_MARK: contextvars.ContextVar[_Mark] = contextvars.ContextVar("firebase_ai_chat_delivery")


@dataclass(frozen=True)
class Delivery:
    """How this task arrived: ``attempt`` counts from 0 (Cloud Tasks' ``X-CloudTasks-TaskRetryCount``)."""

    attempt: int = 0
    max_attempts: int = 1
    task_name: str = ""

    @property
    def is_last(self) -> bool:
        """No retry will follow if this attempt fails."""
        return self.attempt + 1 >= self.max_attempts


@dataclass(frozen=True)
class CompletionEvent:
    """Passed to the completion handler when a command is done (``userInput`` or ``complete``)."""

    chat_document: str
    dispatch_id: str
    status: ChatStatus
    data: dict[str, Any]
    meta: dict[str, Any] | None


CompletionHandler = Callable[[CompletionEvent], None]

FaultHook = Callable[[str, ChatState], None]
"""Called at each step boundary (``after_model``, ``after_tool``, ``mid_stream``, ``after_finish``)
with the chat: fault-injection tests crash the process there (see ``testing/faults.py``)."""


def ai_message_id(dispatch_id: str, index: int) -> str:
    """The deterministic id of the ``index``-th AI message a dispatch writes."""
    return f"{dispatch_id}-ai-{index:03d}"


class _StaleError(Exception):
    """The command is no longer current, or another delivery moved the run on."""


class _Log(logging.LoggerAdapter[logging.Logger]):
    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[chat={extra.get('chatId')} dispatch={extra.get('dispatchId')}] {msg}", {**kwargs, "extra": extra}


@dataclass(frozen=True)
class _Finish:
    state: ChatState
    follow: ChatCommand | None
    outcome: RunOutcome


def _finish(chat: ChatState, chat_id: str) -> _Finish:
    """The chat after its run ended: complete, the next queued run, or waiting for the user."""
    if chat.single_run:
        return _Finish(chat.model_copy(update={"status": ChatStatus.COMPLETE}), None, RunOutcome.COMPLETE)
    if chat.next_dispatch_id:
        state = chat.model_copy(update={"latest_dispatch_id": chat.next_dispatch_id, "next_dispatch_id": None})
        follow = ChatCommand(chat_id=chat_id, dispatch_id=chat.next_dispatch_id)
        return _Finish(state, follow, RunOutcome.USER_INPUT)
    return _Finish(chat.model_copy(update={"status": ChatStatus.USER_INPUT}), None, RunOutcome.USER_INPUT)


def _clipped(value: Any) -> Any:
    """``value`` for the run history: as is when short, else its JSON text cut to ``MAX_STEP_CHARS``."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) <= MAX_STEP_CHARS:
        return value
    return text[: MAX_STEP_CHARS - 1] + "…"


def _signed(write: ChatWrite, dispatch_id: str, mark: _Mark | None) -> ChatWrite:
    """Every write of the run record counts a version and names the delivery that made it."""
    path = run_path(dispatch_id)
    record = write.records.get(path)
    if record is None:
        return write
    return dataclasses.replace(write, records={**write.records, path: _sign(record, mark)})


def _sign(record: dict[str, Any], mark: _Mark | None) -> dict[str, Any]:
    return {**record, "version": int(record.get("version", 0)) + 1, "writer": mark.writer if mark else None}


class ChatWorker:
    """Runs commands: asks the chat's engine, dispatches tools, writes answers, moves the status on."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        engines: Mapping[str, Engine],
        dispatchers: Mapping[str, ToolsDispatcher] | None = None,
        on_complete: CompletionHandler | None = None,
        fault_hook: FaultHook | None = None,
        max_tool_calls: int = MAX_TOOL_CALLS,
    ) -> None:
        self._store = store
        self._max_tool_calls = max_tool_calls
        self._fault_hook = fault_hook
        self._queue = queue
        self._engines = dict(engines)
        self._dispatchers = dict(dispatchers or {})
        self._on_complete = on_complete

    def handle(self, command: ChatCommand, *, delivery: Delivery | None = None) -> None:
        """Process one delivery of ``command``; raises only to ask for a retry."""
        delivery = delivery or Delivery()
        log = _Log(logger, {"chatId": command.chat_id, "dispatchId": command.dispatch_id})
        log.info("%s: attempt %d of %d", command.action, delivery.attempt + 1, delivery.max_attempts)
        mark = _Mark(writer=uuid.uuid4().hex)
        _MARK.set(mark)
        try:
            if command.action == "close":
                self._close(command, log)
            else:
                self._run(command, log)
        except _StaleError:
            log.info("stale or duplicate command: nothing to do")
            if command.action == "run":
                self._kick(command, log)
        except ChatError as error:
            if not (error.permanent or delivery.is_last):
                log.warning("transient failure, will retry: %s", error.message)
                raise
            log.error("failing the chat: %s", error.message)
            self._fail(command, ErrorInfo(code=error.code.value, message=error.message), mark, log)
        except Exception:
            if not delivery.is_last:
                log.exception("failure, will retry")
                raise
            log.exception("failure on the last attempt, failing the chat")
            self._fail(command, ErrorInfo(code=ErrorCode.INTERNAL.value, message=INTERNAL_ERROR_MESSAGE), mark, log)

    # -- the run loop ---------------------------------------------------------------------------

    def _run(self, command: ChatCommand, log: _Log) -> None:
        chat, run = self._start(command)
        for _ in range(MAX_TURNS + 1):
            if run.status == "done":
                return
            if run.calls:
                chat, run = self._dispatch_tools(command, chat, run, log)
                if not all(call.resolved for call in run.calls):
                    log.info("suspended: waiting for %d continuation(s)", sum(c.suspended for c in run.calls))
                    return
                chat, run = self._end_turn(command, run)
            if run.turn >= MAX_TURNS:
                raise ChatError(ErrorCode.INTERNAL, "The assistant used too many tool steps.", permanent=True)
            chat, run = self._model_turn(command, chat, run, log)
        raise AssertionError("unreachable: the loop ends by MAX_TURNS")

    def _transact(
        self,
        command: ChatCommand,
        turn: int | None,
        change: Callable[[ChatState, RunState | None, ChatSnapshot], tuple[ChatWrite, T]],
    ) -> T:
        """Run ``change`` only while the command is current and its run is at ``turn``."""

        mark = _MARK.get(None)

        def guarded(snapshot: ChatSnapshot) -> tuple[ChatWrite, T | _StaleError]:
            chat = snapshot.state
            if chat is None or not chat.is_running(command.dispatch_id):
                return ChatWrite(), _StaleError()
            found = snapshot.record(run_path(command.dispatch_id))
            run = RunState.model_validate(found) if found is not None else None
            if turn is not None and (run is None or run.turn != turn):
                return ChatWrite(), _StaleError()
            if mark is not None and mark.first_seen is None:
                mark.first_seen = run.version if run is not None else 0
            write, result = change(chat, run, snapshot)
            return _signed(write, command.dispatch_id, mark), result

        result = self._store.update(command.chat_id, guarded)
        if isinstance(result, _StaleError):
            raise result
        return result

    def _start(self, command: ChatCommand) -> tuple[ChatState, RunState]:
        """Load the run, or start it from the user messages of this dispatch."""
        messages = self._store.messages(command.chat_id, dispatch_id=command.dispatch_id, author=Author.USER)

        def change(
            chat: ChatState, run: RunState | None, _: ChatSnapshot
        ) -> tuple[ChatWrite, tuple[ChatState, RunState]]:
            if run is not None:
                return ChatWrite(), (chat, run)
            run = RunState(dispatch_id=command.dispatch_id, input=[UserInput(text=m.text) for m in messages])
            return ChatWrite(records={run_path(command.dispatch_id): run.to_record()}), (chat, run)

        return self._transact(command, None, change)

    def _dispatcher(self, dispatcher_id: str) -> ToolsDispatcher | None:
        return self._dispatchers.get(dispatcher_id)

    def _dispatch_tools(
        self, command: ChatCommand, chat: ChatState, run: RunState, log: _Log
    ) -> tuple[ChatState, RunState]:
        """Dispatch the turn's calls in the order the model made them, persisting each result as it
        completes. A call that suspends stops the turn: the calls after it wait until it is resumed
        (the resumed delivery goes on from there), so each call sees the data its predecessors left.

        A data reduction computed from data that changed meanwhile (another delivery resolved a call
        of the same turn) is not persisted: the tool runs again on the current data.
        """
        for index in range(len(run.calls)):
            if run.calls[index].suspended:
                break
            while run.calls[index].result is None:
                call = run.calls[index]
                seen = chat.data
                started = time.monotonic()
                result, actions = self._call_tool(command, chat, call)
                elapsed_ms = round((time.monotonic() - started) * 1000)
                log.info("tool %s → %s", call.name, result.kind)
                self._inject("after_tool", chat)
                chat, run = self._transact(
                    command,
                    run.turn,
                    functools.partial(
                        self._record_tool,
                        command,
                        index=index,
                        result=result,
                        actions=actions,
                        elapsed_ms=elapsed_ms,
                        seen_data=seen,
                    ),
                )
            if run.calls[index].suspended:
                break
        return chat, run

    def _call_tool(
        self, command: ChatCommand, chat: ChatState, call: PendingCall
    ) -> tuple[ToolResult, tuple[HandOver | HandBack, ...]]:
        """Run one call on the assistant that made it (a hand-over waits for the end of the turn).

        What the dispatcher raises is logged and becomes a generic tool error; what it returns must be
        storable (``tools.checked``)."""
        dispatcher = self._dispatcher(chat.config.dispatcher_id)
        if dispatcher is None:
            return ToolFailure(message=f"No tools are available ({call.name})."), ()
        try:
            dispatched = dispatcher.dispatch(
                chat.data,
                call.name,
                call.arguments,
                Continuation(call.continuation_id),
                ChatContext(
                    chat_id=command.chat_id,
                    user_id=chat.user_id,
                    dispatch_id=command.dispatch_id,
                    assistant=chat.config.assistant,
                ),
            )
        except Exception:
            logger.exception("dispatcher %s raised on %s", chat.config.dispatcher_id, call.name)
            return unexpected_failure(call.name), ()
        return checked(dispatched.result, call.name), self._with_request(command, dispatched.actions)

    def _with_request(
        self, command: ChatCommand, actions: tuple[HandOver | HandBack, ...]
    ) -> tuple[HandOver | HandBack, ...]:
        """A tool's hand-over without messages passes on the user's messages of this command, so the
        new assistant answers the request that made the chat change hands (it would get no input else)."""
        if not any(isinstance(action, HandOver) and not action.messages for action in actions):
            return actions
        found = self._store.messages(command.chat_id, dispatch_id=command.dispatch_id, author=Author.USER)
        texts = tuple(message.text for message in found)
        return tuple(
            dataclasses.replace(action, messages=texts)
            if isinstance(action, HandOver) and not action.messages
            else action
            for action in actions
        )

    def _record_tool(
        self,
        command: ChatCommand,
        chat: ChatState,
        run: RunState | None,
        _snapshot: ChatSnapshot,
        *,
        index: int,
        result: ToolResult,
        actions: tuple[HandOver | HandBack, ...],
        elapsed_ms: int,
        seen_data: dict[str, Any],
    ) -> tuple[ChatWrite, tuple[ChatState, RunState]]:
        assert run is not None
        call = run.calls[index]
        if call.result is not None or (isinstance(result, DataReduction) and chat.data != seen_data):
            return ChatWrite(), (chat, run)
        before = run.next_config or chat.config
        config, handover_messages = before, list(run.handover_messages)
        try:
            for action in actions:
                config = hand_over(config, action.assistant) if isinstance(action, HandOver) else hand_back(config)
                handover_messages = list(action.messages)
        except ChatError as error:
            result, config, handover_messages = ToolFailure(message=error.message), before, run.handover_messages
        data = result.data if isinstance(result, DataReduction) else chat.data
        new_chat = chat.model_copy(update={"data": data})
        calls = list(run.calls)
        calls[index] = call.model_copy(update={"result": result})
        step = Step(
            kind="tool",
            assistant_id=chat.config.assistant_id,
            detail={
                "name": call.name,
                "arguments": _clipped(call.arguments),
                "result": _clipped(result.model_dump(mode="json")),
                "ms": elapsed_ms,
            },
        )
        new_run = run.model_copy(
            update={
                "calls": calls,
                "handover_messages": handover_messages,
                "steps": [*run.steps, step],
                "next_config": config if config != before else run.next_config,
            }
        )
        records: dict[str, dict[str, Any] | None] = {}
        if isinstance(result, Suspended):
            new_run = new_run.model_copy(update={"status": "suspended"})
            record = ContinuationRecord(dispatch_id=command.dispatch_id, call_id=call.call_id, tool=call.name)
            records[continuation_path(call.continuation_id)] = record.model_dump(mode="json", by_alias=True)
        records[run_path(command.dispatch_id)] = new_run.to_record()
        changed = new_chat != chat
        return ChatWrite(state=new_chat if changed else None, records=records), (new_chat, new_run)

    def _end_turn(self, command: ChatCommand, run: RunState) -> tuple[ChatState, RunState]:
        """All calls answered: their outputs become the next input, or wait in the old assistant's
        context when a tool handed the chat over (the new assistant gets the hand-over messages)."""

        def change(
            chat: ChatState, found: RunState | None, snapshot: ChatSnapshot
        ) -> tuple[ChatWrite, tuple[ChatState, RunState]]:
            assert found is not None
            if not found.calls or not all(call.resolved for call in found.calls):
                return ChatWrite(), (chat, found)  # another delivery ended this turn already
            outputs = []
            for call in found.calls:
                assert call.result is not None
                text, is_error = result_output(call.result)
                outputs.append(ToolOutput(call_id=call.call_id, name=call.name, output=text, is_error=is_error))
            records: dict[str, dict[str, Any] | None] = {}
            config = found.next_config or chat.config
            new_chat = chat.model_copy(update={"config": config})
            if found.turn_assistant_id and found.turn_assistant_id != config.assistant_id:
                path = context_path(found.turn_assistant_id)
                owed = EngineContextRecord.model_validate(snapshot.record(path) or {})
                owed = owed.model_copy(update={"pending": [*owed.pending, *outputs]})
                records[path] = owed.to_record()
                next_input: list[Any] = [UserInput(text=text) for text in found.handover_messages]
            else:
                next_input = [*outputs, *(UserInput(text=text) for text in found.handover_messages)]
            new_run = found.model_copy(
                update={
                    "calls": [],
                    "input": next_input,
                    "handover_messages": [],
                    "status": "running",
                    "next_config": None,
                }
            )
            records[run_path(command.dispatch_id)] = new_run.to_record()
            state = new_chat if new_chat != chat else None
            return ChatWrite(state=state, records=records), (new_chat, new_run)

        return self._transact(command, run.turn, change)

    def _model_turn(
        self, command: ChatCommand, chat: ChatState, run: RunState, log: _Log
    ) -> tuple[ChatState, RunState]:
        """One model call and everything it produced, persisted together."""
        assistant = chat.config.assistant
        context = EngineContextRecord.model_validate(
            self._store.record(command.chat_id, context_path(assistant.assistant_id)) or {}
        )
        inputs = [*context.pending, *run.input]
        reply: EngineReply | None = None
        elapsed_ms = 0
        if inputs:
            dispatcher = self._dispatcher(assistant.dispatcher_id)
            stream = StreamWriter(
                store=self._store,
                chat_id=command.chat_id,
                user_id=chat.user_id,
                dispatch_id=command.dispatch_id,
                first_index=run.ai_messages,
                message_id=lambda index: ai_message_id(command.dispatch_id, index),
                meta=chat.meta.ai_message_meta if chat.meta else None,
                after_write=lambda: self._inject("mid_stream", chat),
            )
            started = time.monotonic()
            try:
                reply = self._engine(assistant.engine).run(
                    EngineRequest(
                        assistant=assistant,
                        input=inputs,
                        tools=dispatcher.specs() if dispatcher else [],
                        data=chat.data,
                        context=context.context,
                    ),
                    on_text=stream,
                )
            except Exception:
                stream.discard()
                self._raise_if_moved_on(command, run.turn)
                raise
            elapsed_ms = round((time.monotonic() - started) * 1000)
            log.info("model answered %d text(s), %d tool call(s)", len(reply.texts), len(reply.tool_calls))
            self._inject("after_model", chat)

        def change(
            current: ChatState, found: RunState | None, _: ChatSnapshot
        ) -> tuple[ChatWrite, tuple[ChatState, RunState, _Finish | None]]:
            assert found is not None
            texts = bounded_texts(reply.texts) if reply else []
            calls = self._pending_calls(command, found.turn, reply.tool_calls if reply else [])
            ai_meta = current.meta.ai_message_meta if current.meta else None
            messages = {
                ai_message_id(command.dispatch_id, found.ai_messages + index): ChatMessage(
                    user_id=current.user_id,
                    author=Author.AI,
                    text=text,
                    meta=ai_meta,
                    dispatch_id=command.dispatch_id,
                    in_batch_sort_index=found.ai_messages + index,
                )
                for index, text in enumerate(texts)
            }
            steps = list(found.steps)
            if reply is not None:
                steps.append(
                    Step(
                        kind="model",
                        assistant_id=assistant.assistant_id,
                        detail={
                            "engine": assistant.engine,
                            "model": reply.model,
                            "texts": len(texts),
                            "toolCalls": [call.name for call in calls],
                            "usage": reply.usage.model_dump(),
                            "ms": elapsed_ms,
                            "streamWrites": stream.writes,
                        },
                    )
                )
            new_run = found.model_copy(
                update={
                    "turn": found.turn + 1,
                    "input": [],
                    "calls": calls,
                    "turn_assistant_id": assistant.assistant_id,
                    "ai_messages": found.ai_messages + len(texts),
                    "steps": steps,
                    "status": "running" if calls else "done",
                    "engine": assistant.engine,
                    "model": reply.model if reply else found.model,
                    "input_tokens": found.input_tokens + (reply.usage.input_tokens if reply else 0),
                    "output_tokens": found.output_tokens + (reply.usage.output_tokens if reply else 0),
                }
            )
            finish = None if calls else _finish(current, command.chat_id)
            if finish is not None:
                new_run = new_run.model_copy(update={"outcome": finish.outcome})
            records: dict[str, dict[str, Any] | None] = {run_path(command.dispatch_id): new_run.to_record()}
            if reply is not None:
                records[context_path(assistant.assistant_id)] = EngineContextRecord(context=reply.context).to_record()
            state = finish.state if finish else None
            return ChatWrite(state=state, messages=messages, records=records), (
                finish.state if finish else current,
                new_run,
                finish,
            )

        try:
            chat, run, finish = self._transact(command, run.turn, change)
        except _StaleError:
            if reply is not None:
                stream.discard()
            raise
        if finish is not None:
            log.info("run done; chat is %s", finish.state.status.value)
            self._inject("after_finish", chat)
            if finish.follow is not None:
                self._queue.enqueue(finish.follow)
            self._complete(command, finish.state, finish.outcome)
        return chat, run

    def _pending_calls(self, command: ChatCommand, turn: int, tool_calls: list[Any]) -> list[PendingCall]:
        """The model's calls as the run keeps them: past the cap, or with oversized arguments, a call
        is answered at once with a tool error the model reads (it never runs)."""
        calls = []
        for index, call in enumerate(tool_calls):
            result: ToolFailure | None = None
            arguments = call.arguments
            if index >= self._max_tool_calls:
                result = ToolFailure(
                    message=f"Not run: a turn may make at most {self._max_tool_calls} tool calls. "
                    "Make the remaining calls in the next turn."
                )
            elif len(arguments) > MAX_STORED_ARGUMENTS:
                result = ToolFailure(message=f"Not run: the arguments are over {MAX_STORED_ARGUMENTS} characters.")
            if result is not None:
                arguments = _clipped(arguments)
            calls.append(
                PendingCall(
                    call_id=call.call_id,
                    name=call.name,
                    arguments=arguments,
                    continuation_id=continuation_id(
                        chat_id=command.chat_id, dispatch_id=command.dispatch_id, turn=turn, index=index
                    ),
                    result=result,
                )
            )
        return calls

    # -- other commands and outcomes -----------------------------------------------------------

    def _raise_if_moved_on(self, command: ChatCommand, turn: int) -> None:
        """A failure of a delivery that another delivery has overtaken (it may have sent the model
        inputs that were already answered) is that delivery's staleness, not the chat's failure."""
        chat = self._store.get(command.chat_id)
        found = self._store.record(command.chat_id, run_path(command.dispatch_id))
        if chat is None or not chat.is_running(command.dispatch_id) or found is None:
            raise _StaleError()
        if RunState.model_validate(found).turn != turn:
            raise _StaleError()

    def _kick(self, command: ChatCommand, log: _Log) -> None:
        """A stale delivery may be the retry of a run that committed its end but died before
        enqueuing the follow-up run of queued posts: enqueue the live dispatch if it never started
        (the task is named after it, so a queued one is not duplicated)."""
        chat = self._store.get(command.chat_id)
        if chat is None or chat.status is not ChatStatus.PROCESSING or chat.latest_dispatch_id == command.dispatch_id:
            return
        if self._store.record(command.chat_id, run_path(chat.latest_dispatch_id)) is not None:
            return
        log.info("the live dispatch %s has not started: enqueuing it", chat.latest_dispatch_id)
        self._queue.enqueue(ChatCommand(chat_id=command.chat_id, dispatch_id=chat.latest_dispatch_id))

    def _inject(self, point: str, chat: ChatState) -> None:
        if self._fault_hook is not None:
            self._fault_hook(point, chat)

    def _engine(self, name: str) -> Engine:
        engine = self._engines.get(name)
        if engine is None:
            raise ChatError(ErrorCode.FAILED_PRECONDITION, f"No engine named {name!r} is configured.", permanent=True)
        return engine

    def _close(self, command: ChatCommand, log: _Log) -> None:
        chat = self._store.get(command.chat_id)
        if chat is None or chat.latest_dispatch_id != command.dispatch_id or chat.status is not ChatStatus.COMPLETE:
            raise _StaleError()
        log.info("closed")
        self._complete(command, chat)

    def _complete(self, command: ChatCommand, chat: ChatState, outcome: RunOutcome | None = None) -> None:
        if self._on_complete is not None:
            self._on_complete(
                CompletionEvent(
                    chat_document=f"chats/{command.chat_id}",
                    dispatch_id=command.dispatch_id,
                    status=ChatStatus(outcome.value) if outcome else chat.status,
                    data=chat.data,
                    meta=command.meta,
                )
            )

    def _fail(self, command: ChatCommand, error: ErrorInfo, mark: _Mark, log: _Log) -> None:
        if not self._store.update(command.chat_id, failing(command.dispatch_id, error, mark=mark)):
            log.warning("not failing the chat: it moved on, or another delivery is advancing its run")


def _advanced_by_another(run: RunState, mark: _Mark | None) -> bool:
    if mark is None or mark.first_seen is None or run.writer in (None, mark.writer):
        return False
    return run.version > mark.first_seen


def failing(
    dispatch_id: str, error: ErrorInfo, *, mark: _Mark | None = None
) -> Callable[[ChatSnapshot], tuple[ChatWrite, bool]]:
    """A change that fails the chat (and marks its run) if it is still running ``dispatch_id``.

    With the ``mark`` of a failing delivery, a run that another delivery wrote since this one first
    read it is left alone: that delivery is advancing it (and fails it itself if it must)."""

    def change(snapshot: ChatSnapshot) -> tuple[ChatWrite, bool]:
        current = snapshot.state
        if current is None or not current.is_running(dispatch_id):
            return ChatWrite(), False
        records: dict[str, dict[str, Any] | None] = {}
        found = snapshot.record(run_path(dispatch_id))
        if found is not None:
            run = RunState.model_validate(found)
            if _advanced_by_another(run, mark):
                return ChatWrite(), False
            run = run.model_copy(update={"outcome": RunOutcome.FAILED, "error": error.message})
            records[run_path(dispatch_id)] = _sign(run.to_record(), mark)
        failed = current.model_copy(update={"status": ChatStatus.FAILED, "error": error})
        return ChatWrite(state=failed, records=records), True

    return change
