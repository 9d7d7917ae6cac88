"""The stop call: ``stopRequested`` for the worker running the answer, then, when no worker stops it
within ``stop_wait`` seconds, the runtime's stop from what is committed (``stop.py``)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence

from ..errors import ChatError, ErrorCode
from ..models import Author, ChatMessage, ChatResult, ChatState
from .parts import FrontParts
from .stop import request_stop

logger = logging.getLogger(__name__)


def stop(parts: FrontParts, *, user_id: str, chat_id: str) -> ChatResult:
    """``AssistantChat.stop``."""

    def messages(dispatch_id: str, author: Author) -> Sequence[ChatMessage]:
        return parts.store.messages(chat_id, dispatch_id=dispatch_id, author=author)

    change = functools.partial(
        request_stop, chat_id=chat_id, user_id=user_id, messages=messages, committed=parts.committed_stop
    )
    outcome = parts.store.update(chat_id, change)
    state = outcome.state
    if not outcome.done:
        dispatch_id = state.latest_dispatch_id
        stopped = _stopped_by_worker(parts, chat_id, dispatch_id)
        if stopped is None:
            at_once = functools.partial(
                parts.committed_stop, chat_id=chat_id, dispatch_id=dispatch_id, messages=messages
            )
            outcome = parts.store.update(chat_id, at_once)
            stopped = outcome.state
        state = stopped
    if outcome.follow is not None:
        parts.queue.enqueue(outcome.follow)
    logger.info("stop: the chat is %s", state.status.value, extra={"chatId": chat_id})
    return parts.result(chat_id, state)


def _stopped_by_worker(parts: FrontParts, chat_id: str, dispatch_id: str) -> ChatState | None:
    """The chat once its run of ``dispatch_id`` is over, if that happens within ``stop_wait`` s."""
    deadline = time.monotonic() + parts.stop_wait
    while time.monotonic() < deadline:
        time.sleep(0.1)
        chat = parts.store.load(chat_id).state
        if chat is None:
            raise ChatError(ErrorCode.NOT_FOUND, "Chat not found.")
        if not chat.is_running(dispatch_id):
            return chat
    return None
