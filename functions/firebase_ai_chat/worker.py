"""``ChatWorker``: handles one task (a ``ChatCommand``) inside ``on_task_dispatched``.

Delivery is at least once. A command whose dispatch id is no longer the chat's
``latestDispatchId`` (or whose chat is no longer ``processing``) is stale: it is
acknowledged and ignored. AI message ids are derived from the dispatch id, so a
redelivered command rewrites its messages instead of adding new ones, and the
finishing transaction writes nothing unless the command is still current.

Errors: a permanent ``ChatError`` fails the chat at once; anything else is
re-raised so Cloud Tasks retries, until the last attempt, which fails the chat
with ``error`` set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .engines.base import Engine, EngineRequest, UserInput
from .errors import ChatError, ErrorCode
from .models import Author, ChatCommand, ChatMessage, ChatState, ErrorInfo
from .status import ChatStatus
from .store import ChatStore, ChatWrite
from .task_queue import TaskQueue

logger = logging.getLogger(__name__)

INTERNAL_ERROR_MESSAGE = "The assistant could not answer. Please try again later."


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
    """Passed to the completion handler when a chat becomes ``complete``."""

    chat_document: str
    status: ChatStatus
    data: dict[str, Any]
    meta: dict[str, Any] | None


CompletionHandler = Callable[[CompletionEvent], None]


def ai_message_id(dispatch_id: str, index: int) -> str:
    """The deterministic id of the ``index``-th AI message a dispatch writes."""
    return f"{dispatch_id}-ai-{index:03d}"


def _is_current(chat: ChatState | None, command: ChatCommand) -> bool:
    return chat is not None and chat.latest_dispatch_id == command.dispatch_id and chat.status is ChatStatus.PROCESSING


class _Log(logging.LoggerAdapter[logging.Logger]):
    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[chat={extra.get('chatId')} dispatch={extra.get('dispatchId')}] {msg}", {**kwargs, "extra": extra}


class ChatWorker:
    """Runs commands: asks the chat's engine, writes its answers, moves the status on."""

    def __init__(
        self,
        *,
        store: ChatStore,
        queue: TaskQueue,
        engines: Mapping[str, Engine],
        on_complete: CompletionHandler | None = None,
    ) -> None:
        self._store = store
        self._queue = queue
        self._engines = dict(engines)
        self._on_complete = on_complete

    def handle(self, command: ChatCommand, *, delivery: Delivery | None = None) -> None:
        """Process one delivery of ``command``; raises only to ask for a retry."""
        delivery = delivery or Delivery()
        log = _Log(logger, {"chatId": command.chat_id, "dispatchId": command.dispatch_id})
        log.info("%s: attempt %d of %d", command.action, delivery.attempt + 1, delivery.max_attempts)
        try:
            if command.action == "close":
                self._close(command, log)
            else:
                self._run(command, log)
        except ChatError as error:
            if not (error.permanent or delivery.is_last):
                log.warning("transient failure, will retry: %s", error.message)
                raise
            log.error("failing the chat: %s", error.message)
            self._fail(command, ErrorInfo(code=error.code.value, message=error.message))
        except Exception:
            if not delivery.is_last:
                log.exception("failure, will retry")
                raise
            log.exception("failure on the last attempt, failing the chat")
            self._fail(command, ErrorInfo(code=ErrorCode.INTERNAL.value, message=INTERNAL_ERROR_MESSAGE))

    def _engine(self, name: str) -> Engine:
        engine = self._engines.get(name)
        if engine is None:
            raise ChatError(ErrorCode.FAILED_PRECONDITION, f"No engine named {name!r} is configured.", permanent=True)
        return engine

    def _run(self, command: ChatCommand, log: _Log) -> None:
        chat = self._store.get(command.chat_id)
        if chat is None or not _is_current(chat, command):
            log.info("stale or duplicate command ignored")
            return
        inputs = self._store.messages(command.chat_id, dispatch_id=command.dispatch_id, author=Author.USER)
        reply = self._engine(chat.config.engine).run(
            EngineRequest(
                assistant=chat.config.assistant,
                input=[UserInput(text=message.text) for message in inputs],
                data=chat.data,
            )
        )
        ai_meta = chat.meta.ai_message_meta if chat.meta else None
        answers = {
            ai_message_id(command.dispatch_id, index): ChatMessage(
                user_id=chat.user_id,
                author=Author.AI,
                text=text,
                meta=ai_meta,
                dispatch_id=command.dispatch_id,
                in_batch_sort_index=index,
            )
            for index, text in enumerate(reply.texts)
        }

        def finish(current: ChatState | None) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None] | None]:
            if current is None or not _is_current(current, command):
                return ChatWrite(), None
            if current.single_run:
                new_state = current.model_copy(update={"status": ChatStatus.COMPLETE})
                follow = None
            elif current.next_dispatch_id:
                new_state = current.model_copy(
                    update={"latest_dispatch_id": current.next_dispatch_id, "next_dispatch_id": None}
                )
                follow = ChatCommand(chat_id=command.chat_id, dispatch_id=current.next_dispatch_id)
            else:
                new_state = current.model_copy(update={"status": ChatStatus.USER_INPUT})
                follow = None
            return ChatWrite(state=new_state, messages=answers), (new_state, follow)

        outcome = self._store.update(command.chat_id, finish)
        if outcome is None:
            log.info("command went stale while running; answers discarded")
            return
        new_state, follow = outcome
        log.info("answered with %d message(s); chat is %s", len(answers), new_state.status.value)
        if follow is not None:
            self._queue.enqueue(follow)
        if new_state.status is ChatStatus.COMPLETE:
            self._complete(command, new_state)

    def _close(self, command: ChatCommand, log: _Log) -> None:
        chat = self._store.get(command.chat_id)
        if chat is None or chat.latest_dispatch_id != command.dispatch_id or chat.status is not ChatStatus.COMPLETE:
            log.info("stale close ignored")
            return
        self._complete(command, chat)

    def _complete(self, command: ChatCommand, chat: ChatState) -> None:
        if self._on_complete is not None:
            self._on_complete(
                CompletionEvent(
                    chat_document=f"chats/{command.chat_id}", status=chat.status, data=chat.data, meta=command.meta
                )
            )

    def _fail(self, command: ChatCommand, error: ErrorInfo) -> None:
        def change(current: ChatState | None) -> tuple[ChatWrite, None]:
            if current is None or current.status.is_final or current.latest_dispatch_id != command.dispatch_id:
                return ChatWrite(), None
            return ChatWrite(state=current.model_copy(update={"status": ChatStatus.FAILED, "error": error})), None

        self._store.update(command.chat_id, change)
