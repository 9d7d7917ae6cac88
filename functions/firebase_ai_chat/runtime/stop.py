"""Stopping an answer: what the chat, its run and the model's context become, and how a run hears it.

The owner asks with ``AssistantChat.stop``: the chat gets ``stopRequested`` (the dispatch to stop).
A worker running that dispatch listens to the chat document (``StopSignal``, one listener per
delivery) and stops at once wherever it is: while the model streams (the text so far is kept as
a final AI message marked ``stopped``), between tool calls (the calls not yet run are answered
``STOPPED_CALL`` and never run). When no worker runs it (a suspended call, a run not started yet,
a worker that does not answer in time) the front API stops it itself from what is committed (a
suspended call's continuation is ``cancelled``: a later resume returns ``False``).

Either way ``stop_run`` (pure) makes the same change: what the model has not received yet (the
run's input, the outputs of the turn's calls) and the stopped answer (``AssistantText``) wait in
the assistant's context (``pending``), so the next post goes on from a context that holds
everything said before the stop. The chat goes
back to ``userInput`` (``complete`` for a single run) with ``stoppedDispatchId`` set; posts queued
while the stopped run ran are answered next, as after any run (they were not part of the answer
that was stopped).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from ..commands import ChatCommand
from ..engines.base import AssistantText, UserInput
from ..errors import ChatError, ErrorCode
from ..front.stop import Messages, StopOutcome
from ..models import Author, ChatState
from ..records import (
    ContinuationRecord,
    ContinuationStatus,
    EngineContextRecord,
    RunState,
    RunStatus,
    context_path,
    continuation_path,
    run_path,
)
from ..store.documents import ChatSnapshot, ChatWrite, read_record
from ..tools.results import ToolFailure
from .ai_messages import ai_message, ai_message_id
from .turn import Progress, defer_input, end_turn, to_write

STOPPED_CALL = "Not run: the user stopped the answer."
"""The tool error the model reads for a call the stop kept from running."""


class StopRequested(Exception):  # noqa: N818 - a request, not an error
    """Raised inside a model call (by the stream sink) to abandon it: the chat changed under the run."""


class StopSignal:
    """Fed by a listener on the chat: ``changed`` is set once the run must not go on as it is, because
    the owner asked to stop it (``requested``) or it is no longer the chat's live run (closed,
    failed, deleted or finished by another delivery)."""

    def __init__(self, dispatch_id: str) -> None:
        self._dispatch_id = dispatch_id
        self.changed = threading.Event()
        self.requested = False

    def seen(self, chat: ChatState | None) -> None:
        """A version of the chat document (``None``: it was deleted)."""
        if chat is not None and chat.is_running(self._dispatch_id):
            if chat.stop_requested != self._dispatch_id:
                return
            self.requested = True
        self.changed.set()

    def check(self) -> None:
        """For a stream sink: raise ``StopRequested`` once the chat changed under the run."""
        if self.changed.is_set():
            raise StopRequested()


def stop_run(
    progress: Progress,
    chat: ChatState,
    *,
    partial: Mapping[int, str],
    context: Callable[[str], EngineContextRecord],
) -> None:
    """Stop the run of ``progress`` (see the module). ``partial``: the streamed texts by message
    position; ``context(assistant_id)``: an assistant's engine context as it is now."""
    run = progress.run
    calls, cancelled = [], {}
    for call in run.calls:
        if call.suspended:
            record = ContinuationRecord(dispatch_id=run.dispatch_id, call_id=call.call_id, tool=call.name)
            cancelled[continuation_path(call.continuation_id)] = record.model_copy(
                update={"status": ContinuationStatus.CANCELLED}
            )
        if call.result is None or call.suspended:
            call = call.model_copy(update={"result": ToolFailure(message=STOPPED_CALL)})
        calls.append(call)
    progress.records.update({path: r.to_record() for path, r in cancelled.items()})
    if calls:
        progress.run = run.model_copy(update={"calls": calls})
        end_turn(progress, context(run.turn_assistant_id or progress.config.assistant_id))
    _keep_partial(progress, chat, partial)
    assistant = progress.config.assistant_id
    answer = AssistantText(text="\n\n".join(text for _, text in sorted(partial.items()) if text))
    defer_input(progress, progress.contexts.get(assistant) or context(assistant), answer)
    progress.run = progress.run.model_copy(update={"calls": [], "status": RunStatus.DONE})
    progress.stopped = True


def _keep_partial(progress: Progress, chat: ChatState, partial: Mapping[int, str]) -> None:
    """The streamed texts become final AI messages marked ``stopped``."""
    run = progress.run
    for position, text in sorted(partial.items()):
        if text:
            message = ai_message(chat, progress.config, run.dispatch_id, position, text, stopped=True)
            progress.messages[ai_message_id(run.dispatch_id, position)] = message
    last = max((position + 1 for position, text in partial.items() if text), default=run.ai_messages)
    progress.run = run.model_copy(update={"ai_messages": max(run.ai_messages, last)})


def stop_committed(
    snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, messages: Messages
) -> tuple[ChatWrite, StopOutcome]:
    """Stop the run of ``dispatch_id`` from what is committed, when no worker stops it: a suspended
    call, a run not started yet (its input: the dispatch's user messages), or a worker too busy to
    answer in time (what it did since its last commit is dropped: its own commit then conflicts and
    it leaves). Nothing to do when the run is over already."""
    chat = snapshot.state
    if chat is None:
        raise ChatError(ErrorCode.NOT_FOUND, "Chat not found.")
    if not chat.is_running(dispatch_id):
        return ChatWrite(), StopOutcome(chat, True)
    run = read_record(snapshot, run_path(dispatch_id), RunState)
    if run is None:
        texts = [message.text for message in messages(dispatch_id, Author.USER)]
        run = RunState(dispatch_id=dispatch_id, input=[UserInput(text=text) for text in texts])
    progress = Progress(
        command=ChatCommand.run(chat_id, dispatch_id, assistant_id=None),
        run=run.model_copy(update={"version": run.version + 1, "writer": None}),
        data=chat.data,
        config=chat.config,
    )
    partial = {m.in_batch_sort_index: m.text for m in messages(dispatch_id, Author.AI) if m.streaming}

    def context(assistant_id: str) -> EngineContextRecord:
        return read_record(snapshot, context_path(assistant_id), EngineContextRecord) or EngineContextRecord()

    stop_run(progress, chat, partial=partial, context=context)
    write, ended = to_write(progress, chat, done=True)
    assert ended is not None
    return write, StopOutcome(ended.state, True, ended.follow)
