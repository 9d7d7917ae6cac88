"""``ChatWorker``: handles one task (a ``ChatCommand``) inside ``on_task_dispatched``.

The run loop (``run_loop.py``) is engine-agnostic: ask the engine → if it
calls tools, dispatch them → feed the results back → until it answers with
text only (write the AI messages, go to ``userInput`` or ``complete``) or a
tool suspends (persist the continuation, stay ``processing``). Each model
call with its tools is one commit, so a redelivered, retried or concurrent
task resumes from the last commit and its writes are never applied twice: AI
message ids derive from the dispatch id and a counter, a tool's result and
its data reduction are written together once. A tool that ran but whose
result was not committed (a crash in between) runs again on redelivery:
tools with outside effects should use ``continuation.id`` as an idempotency key.

Delivery: a command whose dispatch id is not the chat's ``latestDispatchId``
(or whose chat is not ``processing``) is stale: acknowledged and ignored.
Errors: a permanent ``ChatError`` fails the chat at once; anything else is
re-raised so Cloud Tasks retries, until the last attempt, which fails the chat
with ``error`` set, unless another delivery has advanced the run since this
one read it (that one goes on).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..commands import ChatCommand, CommandAction
from ..engines.base import Engine
from ..errors import ChatError, ErrorCode
from ..models import AssistantConfig, ErrorInfo
from ..records import run_path
from ..status import ChatStatus
from ..store.port import ChatStore
from ..tasks.port import TaskQueue
from ..tools.dispatcher import ToolsDispatcher
from .assistants import Assistants, AssistantSpec, Handoffs
from .failing import failing
from .hooks import CompletionEvent, RunHooks
from .parts import Mark, Stale, WorkerParts
from .run_loop import RunLoop
from .spending import Spending
from .streaming import STREAM_INTERVAL
from .watchdog import Watchdog

logger = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "The assistant could not answer. Please try again later."
MAX_TOOL_CALLS = 16
"""Default cap on the tool calls of one model turn; calls past it fail without running."""

CompletionHandler = Callable[[CompletionEvent], None]


@dataclass(frozen=True)
class Delivery:
    """How this task arrived: ``attempt`` counts from 0 (Cloud Tasks' ``X-CloudTasks-TaskRetryCount``);
    ``queue``: the queue it came from (``X-CloudTasks-QueueName``; one of several: ``tasks/routed.py``)."""

    attempt: int = 0
    max_attempts: int = 1
    task_name: str = ""
    queue: str = ""

    @property
    def is_last(self) -> bool:
        """No retry will follow if this attempt fails."""
        return self.attempt + 1 >= self.max_attempts


class _Log(logging.LoggerAdapter[logging.Logger]):
    """Log lines carry the chat and dispatch as text and as structured fields."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[chat={extra.get('chatId')} dispatch={extra.get('dispatchId')}] {msg}", {**kwargs, "extra": extra}


class _CompletionHook(RunHooks):
    def __init__(self, handler: CompletionHandler) -> None:
        self._handler = handler

    def on_complete(self, event: CompletionEvent) -> None:
        self._handler(event)


class ChatWorker:
    """Runs commands: asks the chat's engine, dispatches tools, writes answers, moves the status on."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        engines: Mapping[str, Engine],
        dispatchers: Mapping[str, ToolsDispatcher] | None = None,
        hooks: Sequence[RunHooks] = (),
        on_complete: CompletionHandler | None = None,
        max_tool_calls: int = MAX_TOOL_CALLS,
        stream_interval: float = STREAM_INTERVAL,
        assistants: Sequence[AssistantSpec | AssistantConfig] = (),
        handoffs: Mapping[str, Handoffs] | None = None,
        spending: Spending | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        """``assistants``: one ``AssistantSpec`` per assistant (its config, tools and hand-over rules; a
        bare config is an assistant a tool may hand over to by name, with tools from ``dispatchers``).
        ``dispatchers`` (tools by dispatcher id) and ``handoffs`` (rules by name) are the same by map,
        for custom wiring; ``handoffs`` limit where each
        assistant may hand the chat (an assistant not named there may hand it anywhere); ``spending``
        meters runs against the users' limits and the global switch (see ``spending``); ``watchdog``
        checks the runs its tasks name (default: ``watchdog.Watchdog`` on this store and queue)."""
        self._watchdog = watchdog or Watchdog(store=store, queue=queue)
        all_hooks = (*hooks, *((_CompletionHook(on_complete),) if on_complete else ()))
        self._parts = WorkerParts(
            store=store,
            queue=queue,
            engines=dict(engines),
            assistants=Assistants(assistants, dispatchers=dispatchers, handoffs=handoffs),
            hooks=all_hooks,
            max_tool_calls=max_tool_calls,
            stream_interval=stream_interval,
            spending=spending,
        )

    def handle(self, command: ChatCommand, *, delivery: Delivery | None = None) -> None:
        """Process one delivery of ``command``; raises only to ask for a retry."""
        delivery = delivery or Delivery()
        log = _Log(logger, {"chatId": command.chat_id, "dispatchId": command.dispatch_id})
        via = f" (queue {delivery.queue})" if delivery.queue else ""
        log.info("%s: attempt %d of %d%s", command.action, delivery.attempt + 1, delivery.max_attempts, via)
        if command.action is CommandAction.WATCHDOG:  # an error is retried: a watchdog never fails the chat itself
            log.info("watchdog %s: %s", command.watch, self._watchdog.check(command).verdict.value)
            return
        mark = Mark(writer=uuid.uuid4().hex)
        try:
            if command.action is CommandAction.CLOSE:
                self._close(command, log)
            else:
                RunLoop(self._parts, command, mark, log).run()
        except Stale:
            log.info("stale or duplicate command: nothing to do")
            if command.action is CommandAction.RUN:
                self._kick(command, log)
        except ChatError as error:
            if not (error.permanent or delivery.is_last):
                log.warning("transient failure, will retry: %s", error.message)
                raise
            log.error("failing the chat: %s", error.message)
            self._fail(command, ErrorInfo(code=error.code, message=error.message), mark, log)
        except Exception:
            if not delivery.is_last:
                log.exception("failure, will retry")
                raise
            log.exception("failure on the last attempt, failing the chat")
            self._fail(command, ErrorInfo(code=ErrorCode.INTERNAL, message=INTERNAL_ERROR_MESSAGE), mark, log)

    def _kick(self, command: ChatCommand, log: _Log) -> None:
        """A stale delivery may be the retry of a run that committed its end but died before
        enqueuing the follow-up run of queued posts: enqueue the live dispatch if it never started
        (the task is named after it, so a queued one is not duplicated)."""
        chat = self._parts.store.load(command.chat_id).state
        if chat is None or chat.status is not ChatStatus.PROCESSING or chat.latest_dispatch_id == command.dispatch_id:
            return
        if self._parts.store.load(command.chat_id, [run_path(chat.latest_dispatch_id)]).record(
            run_path(chat.latest_dispatch_id)
        ):
            return
        log.info("the live dispatch %s has not started: enqueuing it", chat.latest_dispatch_id)
        follow = ChatCommand.run(command.chat_id, chat.latest_dispatch_id, assistant_id=chat.config.assistant_id)
        self._parts.queue.enqueue(follow)

    def _close(self, command: ChatCommand, log: _Log) -> None:
        chat = self._parts.store.load(command.chat_id).state
        if chat is None or chat.latest_dispatch_id != command.dispatch_id or chat.status is not ChatStatus.COMPLETE:
            raise Stale()
        log.info("closed")
        event = CompletionEvent(
            chat_document=f"{self._parts.store.collection}/{command.chat_id}",
            dispatch_id=command.dispatch_id,
            status=chat.status,
            data=chat.data,
            meta=command.meta,
        )
        for hook in self._parts.hooks:
            hook.on_complete(event)

    def _fail(self, command: ChatCommand, error: ErrorInfo, mark: Mark, log: _Log) -> None:
        change = failing(command.dispatch_id, error, mark=mark, spending=self._parts.spending)
        if not self._parts.store.update(command.chat_id, change, reads=[run_path(command.dispatch_id)]):
            log.warning("not failing the chat: it moved on, or another delivery is advancing its run")
