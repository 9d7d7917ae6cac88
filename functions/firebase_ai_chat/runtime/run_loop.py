"""One delivery of a run command: load once, then model calls and tools until the run suspends or ends.

``load`` reads the chat, the run and the assistant's engine context in one
round trip. Then each model call, the tools it asked for (in order, stopping
at a suspended one) and the end of its turn are one commit: the run record
(signed by this delivery: ``writer``, ``version``), the chat, the engine
context and the AI messages, written only if the chat has not changed
since it was read. On a conflict the loop re-reads the chat and the run: if
the run is no longer this delivery's to advance (``Stale``) it stops, else
it commits the same progress against the fresh chat (a post may have queued
a message meanwhile). A redelivered task resumes from the last commit; work
done after it (a model reply, a tool's result) is done again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..engines.base import Engine, EngineInput, EngineReply, EngineRequest, UserInput
from ..errors import ChatError, ErrorCode
from ..models import AssistantConfig, Author, ChatCommand, ChatState
from ..records import EngineContextRecord, Next, PendingCall, RunState, context_path, next_step, run_path
from ..store.claims import CLAIM_AFTER, new_claim
from ..store.port import BUSY, MAX_ATTEMPTS, ChatStore, Conflict, Loaded, pause, read_record
from ..tasks.port import TaskQueue
from ..tools.context import ChatContext
from ..tools.dispatcher import ToolsDispatcher
from ..tools.results import ToolFailure, ToolResult
from .budget import scaled
from .hooks import CompletionEvent, RunHooks
from .spending import Meter, Spending, limit_reached
from .stop import StopRequested, StopSignal, stop_run
from .streaming import StreamWriter
from .tool_calls import Actions, Handoffs, call_tool, resolved, with_request
from .turn import Finish, Progress, ai_message_id, apply_reply, end_turn, record_tool, to_write

logger = logging.getLogger(__name__)

MAX_TURNS = 16
"""Model calls allowed in a run answering one user message before it fails (a model looping on
tools); a run answering queued posts together gets this many per message (``budget.py``)."""


class Stale(Exception):  # noqa: N818 - a state, not an error
    """The command is no longer current, or another delivery moved the run on."""


@dataclass
class Mark:
    """This delivery's signature on the run record, and the run version it first read."""

    writer: str
    first_seen: int | None = None


@dataclass(frozen=True)
class WorkerParts:
    """What every delivery uses: the store, the queue, the engines, the tools and the hooks."""

    store: ChatStore
    queue: TaskQueue
    engines: Mapping[str, Engine]
    dispatchers: Mapping[str, ToolsDispatcher]
    hooks: tuple[RunHooks, ...]
    max_tool_calls: int
    stream_interval: float
    assistants: Mapping[str, AssistantConfig]
    handoffs: Mapping[str, Handoffs]
    spending: Spending | None = None
    """Limits and the switch (``spending``); ``None``: the run is never metered."""


def live_run(loaded: Loaded, dispatch_id: str) -> RunState | None:
    """The one check of whether a delivery may advance a run: the chat is ``processing`` this
    dispatch (``Stale`` otherwise); returns its run record, or ``None`` while it has none."""
    chat = loaded.state
    if chat is None or not chat.is_running(dispatch_id):
        raise Stale()
    return read_record(loaded, run_path(dispatch_id), RunState)


class RunLoop:
    """Advances the run of one command as far as it can go in this delivery."""

    def __init__(self, parts: WorkerParts, command: ChatCommand, mark: Mark, log: logging.LoggerAdapter[Any]) -> None:
        self._parts = parts
        self._command = command
        self._mark = mark
        self._log = log
        self._stream: StreamWriter | None = None
        self._signal = StopSignal(command.dispatch_id)
        self._partial: dict[int, str] = {}
        self._base, self._progress, self._version = self._load()
        self._meter: Meter | None = (
            parts.spending.meter(parts.store, self._chat.user_id, known=command.usage) if parts.spending else None
        )
        self._log = type(log)(log.logger, {**(log.extra or {}), "assistantId": self._progress.config.assistant_id})

    @property
    def _chat(self) -> ChatState:
        assert self._base.state is not None
        return self._base.state

    def _load(self) -> tuple[Loaded, Progress, int]:
        command = self._command
        paths = [run_path(command.dispatch_id)]
        if command.assistant_id:
            paths.append(context_path(command.assistant_id))
        base = self._parts.store.load(command.chat_id, paths)
        run = live_run(base, command.dispatch_id)
        self._mark.first_seen = run.version if run else 0
        self._signal.seen(base.state)
        if run is None:
            texts = command.input if command.input is not None else self._user_texts()
            inputs: list[EngineInput] = [UserInput(text=text) for text in texts]
            run = RunState(
                dispatch_id=command.dispatch_id, started_at=datetime.now(UTC), input=inputs, user_messages=len(texts)
            )
        assert base.state is not None
        progress = Progress(command=command, run=run, data=base.state.data, config=base.state.config)
        return base, progress, run.version

    def _user_texts(self) -> list[str]:
        command = self._command
        found = self._parts.store.messages(command.chat_id, dispatch_id=command.dispatch_id, author=Author.USER)
        return [message.text for message in found]

    def run(self) -> None:
        """Model calls and tools until the run is done, waits for a continuation or is stopped; a
        listener on the chat tells the run at once when the owner stops it (``stop.py``)."""
        unwatch = self._parts.store.watch(self._command.chat_id, self._signal.seen)
        try:
            self._advance()
        finally:
            unwatch()

    def _advance(self) -> None:
        while True:
            if self._signal.changed.is_set():
                self._stop()
                return
            match next_step(self._progress.run):
                case Next.CALL_TOOLS:
                    self._call_tools()
                case Next.SUSPEND:
                    self._commit(done=False)
                    self._log.info("suspended: waiting for a continuation")
                    return
                case Next.END_TURN:
                    end_turn(self._progress, self._context(self._progress.run.turn_assistant_id))
                    self._commit(done=False)
                case Next.ASK_MODEL if self._refused():
                    continue
                case Next.ASK_MODEL:
                    if self._progress.run.turn >= scaled(MAX_TURNS, self._progress.run):
                        raise ChatError(ErrorCode.INTERNAL, "The assistant used too many tool steps.", permanent=True)
                    self._ask()
                case Next.FINISH:
                    self._finish()
                    return

    def _refused(self) -> bool:
        """The switch or a used-up allowance ends the turn before the model call (``spending``)."""
        refusal = self._meter.refusal(self._progress.run) if self._meter else None
        if refusal is None:
            return False
        self._log.info("no model call: %s", refusal)
        limit_reached(self._progress, self._chat, self._context(self._progress.config.assistant_id), refusal)
        return True

    def _context(self, assistant_id: str | None) -> EngineContextRecord:
        """An assistant's engine context: as changed by this delivery, else as stored."""
        key = assistant_id or self._progress.config.assistant_id
        if key in self._progress.contexts:
            return self._progress.contexts[key]
        return read_record(self._base, context_path(key), EngineContextRecord) or EngineContextRecord()

    def _ask(self) -> None:
        """One model call (streamed into partial messages), applied to the progress."""
        assistant = self._progress.config.assistant
        context = self._context(assistant.assistant_id)
        inputs = [*context.pending, *self._progress.run.input]
        reply: EngineReply | None = None
        started = time.monotonic()
        self._stream = StreamWriter(
            store=self._parts.store,
            chat_id=self._command.chat_id,
            user_id=self._chat.user_id,
            dispatch_id=self._command.dispatch_id,
            first_index=self._progress.run.ai_messages,
            message_id=lambda index: ai_message_id(self._command.dispatch_id, index),
            meta=self._chat.meta.ai_message_meta if self._chat.meta else None,
            after_write=lambda: self._hook("mid_stream"),
            interval=self._parts.stream_interval,
            check=self._signal.check,
        )
        if inputs:
            dispatcher = self._parts.dispatchers.get(assistant.dispatcher_id)
            request = EngineRequest(
                assistant=assistant,
                input=inputs,
                tools=dispatcher.specs() if dispatcher else [],
                data=self._progress.data,
                context=context.context,
            )
            try:
                reply = self._engine(assistant.engine).run(request, on_text=self._stream)
            except StopRequested:
                first = self._progress.run.ai_messages
                self._partial = {first + index: text for index, text in self._stream.texts.items()}
                return
            except Exception:
                self._stream.discard()
                self._raise_if_moved_on()
                raise
            self._log.info("model answered %d text(s), %d tool call(s)", len(reply.texts), len(reply.tool_calls))
            self._hook("after_model")
        elapsed = round((time.monotonic() - started) * 1000)
        apply_reply(
            self._progress,
            reply,
            chat=self._chat,
            cap=self._parts.max_tool_calls,
            elapsed_ms=elapsed,
            stream_writes=self._stream.writes,
        )

    def _engine(self, name: str) -> Engine:
        engine = self._parts.engines.get(name)
        if engine is None:
            raise ChatError(ErrorCode.FAILED_PRECONDITION, f"No engine named {name!r} is configured.", permanent=True)
        return engine

    def _call_tools(self) -> None:
        """Run the turn's calls in the order the model made them, until one suspends (the calls after
        it wait for its continuation, so each sees its predecessors' data)."""
        for index, call in enumerate(self._progress.run.calls):
            if call.suspended or self._signal.changed.is_set():
                return
            if call.result is not None:
                continue
            started = time.monotonic()
            result, actions = self._call_tool(call)
            self._log.info("tool %s → %s", call.name, result.kind)
            self._hook("after_tool")
            elapsed = round((time.monotonic() - started) * 1000)
            record_tool(self._progress, index, result, actions, elapsed_ms=elapsed)
            if self._progress.run.calls[index].suspended:
                return

    def _call_tool(self, call: PendingCall) -> tuple[ToolResult, Actions]:
        context = ChatContext(
            chat_id=self._command.chat_id,
            user_id=self._chat.user_id,
            dispatch_id=self._command.dispatch_id,
            assistant=self._progress.config.assistant,
        )
        result, actions = call_tool(
            self._parts.dispatchers,
            config=self._progress.config,
            context=context,
            data=self._progress.data,
            call=call,
            log=self._log,
        )
        checked_actions = resolved(
            actions,
            current=self._progress.config.assistant_id,
            assistants=self._parts.assistants,
            rules=self._parts.handoffs,
        )
        if isinstance(checked_actions, ToolFailure):
            return checked_actions, ()
        return result, with_request(checked_actions, self._user_texts)

    def _commit(self, *, done: bool) -> Finish | None:
        """Write the progress in one commit against the chat as it is; re-read it on a conflict."""
        signed = {"version": self._version + 1, "writer": self._mark.writer}
        self._progress.run = self._progress.run.model_copy(update=signed)
        increments: dict[str, dict[str, float]] = {}
        if self._meter is not None and (done or next_step(self._progress.run) is Next.SUSPEND):
            self._progress.run, increments = self._meter.billed(self._progress.run)  # once per delivery
        for attempt in range(MAX_ATTEMPTS):
            write, ended = to_write(self._progress, self._chat, done=done)
            write = replace(write, increments=increments)
            try:
                self._base = self._parts.store.commit(self._base, write)
            except Conflict:
                pause(attempt)
                if attempt + 1 >= CLAIM_AFTER:  # posts keep winning: hold the chat for the next commit
                    self._parts.store.claim(self._command.chat_id, new_claim(self._command.dispatch_id))
                self._reload()
                continue
            self._version += 1
            self._progress.written()
            return ended
        raise ChatError(ErrorCode.UNAVAILABLE, BUSY)

    def _stop(self) -> None:
        """The chat changed under the run: stop it as its owner asked, or leave it (``Stale``) when it is
        no longer the chat's live run."""
        if not self._signal.requested:
            if self._stream is not None:
                self._stream.discard()
            raise Stale()
        stop_run(self._progress, self._chat, partial=self._partial, context=self._context)
        ended = self._commit(done=True)
        self._log.info("stopped by the owner")
        if ended is not None and ended.follow is not None:
            self._parts.queue.enqueue(ended.follow)

    def _still_mine(self) -> Loaded:
        """The chat and run read again; ``Stale`` unless the run is live and at the version this
        delivery last read or wrote (no other delivery or resume has written it since)."""
        fresh = self._parts.store.load(self._command.chat_id, [run_path(self._command.dispatch_id)])
        run = live_run(fresh, self._command.dispatch_id)
        if (run.version if run else 0) != self._version:
            raise Stale()
        return fresh

    def _reload(self) -> None:
        """After a conflict: go on only if the run is still this delivery's to advance."""
        try:
            self._base = self._still_mine()
        except Stale:
            if self._stream is not None:
                self._stream.discard()
            raise

    def _raise_if_moved_on(self) -> None:
        """A failure of a delivery that another delivery has overtaken (it may have sent the model
        inputs that were already answered) is that delivery's staleness, not the chat's failure."""
        self._still_mine()

    def _finish(self) -> None:
        ended = self._commit(done=True)
        assert ended is not None
        self._log.info("run done; chat is %s", ended.state.status.value)
        self._hook("after_finish")
        if ended.follow is not None:
            self._parts.queue.enqueue(ended.follow)
        event = CompletionEvent(
            chat_document=f"{self._parts.store.collection}/{self._command.chat_id}",
            dispatch_id=self._command.dispatch_id,
            status=ended.state.status,
            data=ended.state.data,
            meta=self._command.meta,
        )
        for hook in self._parts.hooks:
            hook.on_complete(event)

    def _hook(self, point: str) -> None:
        for hook in self._parts.hooks:
            getattr(hook, point)(self._chat)
