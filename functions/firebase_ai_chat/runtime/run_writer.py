"""A run's records as one delivery reads and commits them: loaded once (the chat, the run, the
assistant's engine context), then each step's progress written in one commit against the chat as it
is, re-read on a conflict while the run is still this delivery's to advance (else ``Stale``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from ..commands import ChatCommand
from ..engines.base import EngineInput, UserInput
from ..errors import ChatError, ErrorCode
from ..models import Author, ChatState
from ..records import EngineContextRecord, Next, RunState, context_path, next_step, run_path
from ..store.claims import CLAIM_AFTER, new_claim
from ..store.documents import Loaded, read_record
from ..store.optimistic import MAX_ATTEMPTS, pause
from ..store.port import BUSY, Conflict
from .parts import Mark, Stale, WorkerParts, live_run
from .spending import Meter
from .stop import StopSignal
from .turn import Finish, Progress, to_write


class RunWriter:
    """Reads and commits the run of ``command`` for one delivery (signed with ``mark``)."""

    def __init__(self, parts: WorkerParts, command: ChatCommand, mark: Mark, signal: StopSignal) -> None:
        self._parts = parts
        self._command = command
        self._mark = mark
        self.base, self.progress, self._version = self._load(signal)

    @property
    def chat(self) -> ChatState:
        assert self.base.state is not None
        return self.base.state

    def _load(self, signal: StopSignal) -> tuple[Loaded, Progress, int]:
        command = self._command
        paths = [run_path(command.dispatch_id)]
        if command.assistant_id:
            paths.append(context_path(command.assistant_id))
        base = self._parts.store.load(command.chat_id, paths)
        run = live_run(base, command.dispatch_id)
        self._mark.first_seen = run.version if run else 0
        signal.seen(base.state)
        if run is None:
            texts = command.input if command.input is not None else self.user_texts()
            inputs: list[EngineInput] = [UserInput(text=text) for text in texts]
            started = datetime.now(UTC)
            run = RunState(
                dispatch_id=command.dispatch_id,
                started_at=started,
                input=inputs,
                user_messages=len(texts),
                request=texts,
            )
        assert base.state is not None
        progress = Progress(command=command, run=run, data=base.state.data, config=base.state.config)
        return base, progress, run.version

    def request(self) -> list[str]:
        """The texts of the user's messages the run answers: as the run keeps them (read from the store
        only for a run whose record does not, see ``RunState.request``)."""
        kept = self.progress.run.request
        return list(kept) if kept is not None else self.user_texts()

    def user_texts(self) -> list[str]:
        """The texts of the dispatch's user messages, as stored."""
        command = self._command
        found = self._parts.store.messages(command.chat_id, dispatch_id=command.dispatch_id, author=Author.USER)
        return [message.text for message in found]

    def context(self, assistant_id: str | None) -> EngineContextRecord:
        """An assistant's engine context: as changed by this delivery, else as stored."""
        key = assistant_id or self.progress.config.assistant_id
        if key in self.progress.contexts:
            return self.progress.contexts[key]
        return read_record(self.base, context_path(key), EngineContextRecord) or EngineContextRecord()

    def commit(self, *, done: bool, meter: Meter | None, discard: Callable[[], None]) -> Finish | None:
        """Write the progress in one commit against the chat as it is; re-read it on a conflict
        (``discard`` the partial messages when the run is no longer this delivery's)."""
        signed = {"version": self._version + 1, "writer": self._mark.writer}
        self.progress.run = self.progress.run.model_copy(update=signed)
        increments: dict[str, dict[str, float]] = {}
        if meter is not None and (done or next_step(self.progress.run) is Next.SUSPEND):
            self.progress.run, increments = meter.billed(self.progress.run)  # once per delivery
        for attempt in range(MAX_ATTEMPTS):
            write, ended = to_write(self.progress, self.chat, done=done)
            write = replace(write, increments=increments)
            try:
                self.base = self._parts.store.commit(self.base, write)
            except Conflict:
                pause(attempt)
                if attempt + 1 >= CLAIM_AFTER:  # posts keep winning: hold the chat for the next commit
                    self._parts.store.claim(self._command.chat_id, new_claim(self._command.dispatch_id))
                self._reload(discard)
                continue
            self._version += 1
            self.progress.written()
            return ended
        raise ChatError(ErrorCode.UNAVAILABLE, BUSY)

    def still_mine(self) -> Loaded:
        """The chat and run read again; ``Stale`` unless the run is live and at the version this
        delivery last read or wrote (no other delivery or resume has written it since)."""
        fresh = self._parts.store.load(self._command.chat_id, [run_path(self._command.dispatch_id)])
        run = live_run(fresh, self._command.dispatch_id)
        if (run.version if run else 0) != self._version:
            raise Stale()
        return fresh

    def _reload(self, discard: Callable[[], None]) -> None:
        """After a conflict: go on only if the run is still this delivery's to advance."""
        try:
            self.base = self.still_mine()
        except Stale:
            discard()
            raise
