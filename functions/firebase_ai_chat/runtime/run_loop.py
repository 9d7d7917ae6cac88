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
from typing import Any

from ..commands import ChatCommand
from ..engines.base import EngineReply
from ..errors import ChatError, ErrorCode
from ..models import ChatState
from ..records import Next, PendingCall, next_step
from ..tools.context import ChatContext
from ..tools.results import ToolResult
from .budget import scaled
from .hooks import CompletionEvent, HookPoint
from .model_call import ask_model, stream_writer
from .parts import Mark, Stale, WorkerParts
from .run_writer import RunWriter
from .spending import Meter, limit_reached
from .stop import StopRequested, StopSignal, stop_run
from .streaming import StreamWriter
from .tool_calls import Actions, run_call
from .turn import Finish, apply_reply, end_turn, record_tool

logger = logging.getLogger(__name__)

MAX_TURNS = 16
"""Model calls allowed in a run answering one user message before it fails (a model looping on
tools); a run answering queued posts together gets this many per message (``budget.py``)."""


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
        self._writer = RunWriter(parts, command, mark, self._signal)
        self._progress = self._writer.progress  # mutated in place by each step, never replaced
        self._meter: Meter | None = (
            parts.spending.meter(parts.store, self._chat.user_id, known=command.usage) if parts.spending else None
        )
        self._log = type(log)(log.logger, {**(log.extra or {}), "assistantId": self._progress.config.assistant_id})

    @property
    def _chat(self) -> ChatState:
        return self._writer.chat

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
                    end_turn(self._progress, self._writer.context(self._progress.run.turn_assistant_id))
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
        limit_reached(self._progress, self._chat, self._writer.context(self._progress.config.assistant_id), refusal)
        return True

    def _ask(self) -> None:
        """One model call (streamed into partial messages), applied to the progress."""
        assistant = self._progress.config.assistant
        context = self._writer.context(assistant.assistant_id)
        started = time.monotonic()
        first = self._progress.run.ai_messages
        self._stream = stream_writer(
            self._parts, self._command, self._chat, assistant, first, self._signal.check, self._hook
        )
        reply: EngineReply | None = None
        try:
            reply = ask_model(self._parts, self._progress, context, self._stream)
        except StopRequested:
            first = self._progress.run.ai_messages
            self._partial = {first + index: text for index, text in self._stream.texts.items()}
            return
        except Exception:
            self._stream.discard()
            self._writer.still_mine()  # a delivery another has overtaken is stale, not failed
            raise
        if reply is not None:
            self._log.info("model answered %d text(s), %d tool call(s)", len(reply.texts), len(reply.tool_calls))
            self._hook(HookPoint.AFTER_MODEL)
        elapsed = round((time.monotonic() - started) * 1000)
        apply_reply(
            self._progress,
            reply,
            chat=self._chat,
            cap=self._parts.max_tool_calls,
            elapsed_ms=elapsed,
            stream_writes=self._stream.writes,
        )

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
            self._hook(HookPoint.AFTER_TOOL)
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
        return run_call(
            self._parts.assistants,
            config=self._progress.config,
            context=context,
            data=self._progress.data,
            call=call,
            user_texts=self._writer.request,
            log=self._log,
        )

    def _commit(self, *, done: bool) -> Finish | None:
        return self._writer.commit(done=done, meter=self._meter, discard=self._discard)

    def _discard(self) -> None:
        if self._stream is not None:
            self._stream.discard()

    def _stop(self) -> None:
        """The chat changed under the run: stop it as its owner asked, or leave it (``Stale``) when it is
        no longer the chat's live run."""
        if not self._signal.requested:
            self._discard()
            raise Stale()
        stop_run(self._progress, self._chat, partial=self._partial, context=self._writer.context)
        ended = self._commit(done=True)
        self._log.info("stopped by the owner")
        if ended is not None and ended.follow is not None:
            self._parts.queue.enqueue(ended.follow)

    def _finish(self) -> None:
        ended = self._commit(done=True)
        assert ended is not None
        self._log.info("run done; chat is %s", ended.state.status.value)
        self._hook(HookPoint.AFTER_FINISH)
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

    def _hook(self, point: HookPoint) -> None:
        for hook in self._parts.hooks:
            getattr(hook, point)(self._chat)
