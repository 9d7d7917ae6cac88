"""Running one tool call for the run loop: on the assistant that made it, with every failure contained.

What a dispatcher raises is logged in full and becomes a generic tool error;
what it returns must be storable (``tools.checked``). A tool's hand-over
without messages passes on the user's messages of the command, so the new
assistant answers the request that made the chat change hands.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..models import ChatConfig
from ..records import PendingCall
from ..tools.context import ChatContext, Continuation, HandBack, HandOver
from ..tools.results import ToolFailure, ToolResult, checked, unexpected_failure
from .assistants import Assistants

Actions = tuple[HandOver | HandBack, ...]


def call_tool(
    assistants: Assistants,
    *,
    config: ChatConfig,
    context: ChatContext,
    data: dict[str, Any],
    call: PendingCall,
    log: logging.LoggerAdapter[Any],
) -> tuple[ToolResult, Actions]:
    """Run ``call`` with the tools of ``config``'s dispatcher on ``data``."""
    dispatcher = assistants.tools(config.dispatcher_id)
    if dispatcher is None:
        return ToolFailure(message=f"No tools are available ({call.name})."), ()
    try:
        dispatched = dispatcher.dispatch(data, call.name, call.arguments, Continuation(call.continuation_id), context)
    except Exception:
        log.exception("dispatcher %s raised on %s", config.dispatcher_id, call.name)
        return unexpected_failure(call.name), ()
    return checked(dispatched.result, call.name), dispatched.actions


def resolved(actions: Actions, *, current: str, assistants: Assistants) -> Actions | ToolFailure:
    """``actions`` with assistant names made configs; a tool error for one the current assistant may not take."""
    rule = assistants.rule(current)
    out: list[HandOver | HandBack] = []
    for action in actions:
        if isinstance(action, HandBack):
            if rule is not None and not rule.back:
                return ToolFailure(message=f"{current} cannot hand the chat back.")
            out.append(action)
            continue
        name = action.assistant if isinstance(action.assistant, str) else action.assistant.assistant_id
        if rule is not None and name not in rule.to:
            return ToolFailure(message=f"{current} cannot hand the chat over to {name}.")
        if isinstance(action.assistant, str):
            config = assistants.config(name)
            if config is None:
                return ToolFailure(message=f"There is no assistant named {name}.")
            action = dataclasses.replace(action, assistant=config)
        out.append(action)
    return tuple(out)


def with_request(actions: Actions, user_texts: Callable[[], Sequence[str]]) -> Actions:
    """``actions`` where a hand-over without messages carries the user's messages of the command."""
    if not any(isinstance(action, HandOver) and not action.messages for action in actions):
        return actions
    texts = tuple(user_texts())
    return tuple(
        dataclasses.replace(action, messages=texts, by_user=True)
        if isinstance(action, HandOver) and not action.messages
        else action
        for action in actions
    )


def run_call(
    assistants: Assistants,
    *,
    config: ChatConfig,
    context: ChatContext,
    data: dict[str, Any],
    call: PendingCall,
    user_texts: Callable[[], Sequence[str]],
    log: logging.LoggerAdapter[Any],
) -> tuple[ToolResult, Actions]:
    """``call`` run (``call_tool``) and the hand-overs it asked for checked against the rules
    (``resolved``): a refused hand-over is the call's result instead."""
    result, actions = call_tool(assistants, config=config, context=context, data=data, call=call, log=log)
    allowed = resolved(actions, current=config.assistant_id, assistants=assistants)
    if isinstance(allowed, ToolFailure):
        return allowed, ()
    return result, with_request(allowed, user_texts)
