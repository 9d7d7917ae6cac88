"""A post: the user's messages stored at once, answered by a new run or by the one after the run in
progress (``chats/{id}.nextDispatchId``); a retried post with its client key stores nothing new."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..commands import ChatCommand
from ..errors import ChatError, ErrorCode
from ..limits import Limits, UsageDocument
from ..models import ChatResult, ChatState
from ..status import ChatStatus, check_transition
from ..store.claims import Patience
from ..store.documents import ChatSnapshot, ChatWrite
from ..store.port import Held
from ..usage import guarded
from .client_keys import CREATED, message_id, owned, post_namespace, replayed, rerun
from .messages import user_messages
from .parts import FrontParts, copied_meta, metered

logger = logging.getLogger(__name__)


def posted(
    snapshot: ChatSnapshot,
    *,
    chat_id: str,
    user_id: str,
    messages: Sequence[str],
    fresh_dispatch: str,
    key: str | None,
    command_meta: Mapping[str, Any] | None,
    new_id: Callable[[], str],
    patience: Patience,
) -> tuple[ChatWrite, tuple[ChatState, ChatCommand | None]]:
    """Store the messages: answered by a new run, or by the one after the run in progress (after its
    next commit if it holds the chat: ``claims.py``)."""
    chat = owned(snapshot.state, user_id)
    namespace = post_namespace(user_id, chat_id, key) if key else CREATED
    replay = replayed(snapshot, message_id(user_id, key, 0, namespace), messages[0], user_id) if key else None
    if replay is not None:
        return ChatWrite(), (chat, rerun(chat_id, *replay, copied_meta(command_meta)))
    if chat.status.is_final or chat.single_run:
        raise ChatError(ErrorCode.FAILED_PRECONDITION, f"The chat is {chat.status.value}: it takes no more messages.")
    if chat.status is ChatStatus.PROCESSING:
        if patience.waits_for(chat):
            raise Held()
        dispatch_id = chat.next_dispatch_id or fresh_dispatch
        new_state = chat.model_copy(update={"next_dispatch_id": dispatch_id, "run_claim": None})
        command = None
    else:
        check_transition(chat.status, ChatStatus.PROCESSING)
        dispatch_id = fresh_dispatch
        new_state = chat.model_copy(update={"status": ChatStatus.PROCESSING, "latest_dispatch_id": dispatch_id})
        command = ChatCommand.run(
            chat_id, dispatch_id, assistant_id=chat.config.assistant_id, texts=messages, meta=command_meta
        )
    written = user_messages(
        new_id=new_id,
        user_id=user_id,
        dispatch_id=dispatch_id,
        texts=messages,
        meta=chat.meta,
        key=key,
        namespace=namespace,
    )
    return ChatWrite(state=new_state, messages=written), (new_state, command)


def post(
    parts: FrontParts,
    *,
    user_id: str,
    chat_id: str,
    messages: Sequence[str],
    command_meta: Mapping[str, Any] | None,
    client_message_id: str | None,
    limits: Limits | None,
) -> ChatResult:
    """``AssistantChat.post_message``."""
    if not messages:
        raise ChatError(ErrorCode.INVALID_ARGUMENT, "No message to post.")
    fresh_dispatch = parts.dispatch_ids()
    parts.watchdog.arm(chat_id, fresh_dispatch)  # the run that answers the post, now or after the live one
    change = functools.partial(
        posted,
        chat_id=chat_id,
        user_id=user_id,
        messages=messages,
        fresh_dispatch=fresh_dispatch,
        key=client_message_id,
        command_meta=command_meta,
        new_id=parts.store.new_id,
        patience=Patience(parts.claim_patience),
    )
    usage: list[UsageDocument] = []
    limited, outside = guarded(
        change, parts.gate, parts.paused, user_id=user_id, limits=limits, posts=1, chats=0, written=usage
    )
    state, command = parts.store.update(chat_id, limited, outside=outside)
    if command is not None:
        parts.queue.enqueue(metered(command, usage))
    logger.info(
        "message posted",
        extra={"chatId": chat_id, "dispatchId": state.next_dispatch_id or state.latest_dispatch_id},
    )
    return parts.result(chat_id, state)
