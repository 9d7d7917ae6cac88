"""Running one tool call for the run loop: on the assistant that made it, with every failure contained.

What a dispatcher raises is logged in full and becomes a generic tool error;
what it returns must be storable (``tools.checked``). A tool's hand-over
without messages passes on the user's messages of the command, so the new
assistant answers the request that made the chat change hands.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .models import ChatConfig
from .run_state import PendingCall
from .tools import (
    ChatContext,
    Continuation,
    HandBack,
    HandOver,
    ToolFailure,
    ToolResult,
    ToolsDispatcher,
    checked,
    unexpected_failure,
)

Actions = tuple[HandOver | HandBack, ...]


def call_tool(
    dispatchers: Mapping[str, ToolsDispatcher],
    *,
    config: ChatConfig,
    context: ChatContext,
    data: dict[str, Any],
    call: PendingCall,
    log: logging.LoggerAdapter[Any],
) -> tuple[ToolResult, Actions]:
    """Run ``call`` with the tools of ``config``'s dispatcher on ``data``."""
    dispatcher = dispatchers.get(config.dispatcher_id)
    if dispatcher is None:
        return ToolFailure(message=f"No tools are available ({call.name})."), ()
    try:
        dispatched = dispatcher.dispatch(data, call.name, call.arguments, Continuation(call.continuation_id), context)
    except Exception:
        log.exception("dispatcher %s raised on %s", config.dispatcher_id, call.name)
        return unexpected_failure(call.name), ()
    return checked(dispatched.result, call.name), dispatched.actions


def with_request(actions: Actions, user_texts: Callable[[], Sequence[str]]) -> Actions:
    """``actions`` where a hand-over without messages carries the user's messages of the command."""
    if not any(isinstance(action, HandOver) and not action.messages for action in actions):
        return actions
    texts = tuple(user_texts())
    return tuple(
        dataclasses.replace(action, messages=texts) if isinstance(action, HandOver) and not action.messages else action
        for action in actions
    )
