"""The assistant stack: hand a chat over to another assistant and back.

``chats/{id}.config`` is the active assistant; ``config.stack`` holds the ones
it was handed over from (the last is handed back to). Each assistant keeps
its own engine context (``contexts/{assistantId}``), so hand-over and
hand-back keep every assistant's conversation correct while the user sees one
conversation.
"""

from __future__ import annotations

from .errors import ChatError, ErrorCode
from .models import AssistantConfig, ChatConfig

MAX_STACK_DEPTH = 8
"""How many hand-overs may be nested."""


def hand_over(config: ChatConfig, assistant: AssistantConfig) -> ChatConfig:
    """``assistant`` becomes active; the current one goes on the stack."""
    if len(config.stack) >= MAX_STACK_DEPTH:
        raise ChatError(ErrorCode.FAILED_PRECONDITION, f"Hand-overs nest at most {MAX_STACK_DEPTH} deep.")
    return ChatConfig(**assistant.model_dump(), stack=[*config.stack, config.assistant])


def hand_back(config: ChatConfig) -> ChatConfig:
    """The assistant on top of the stack becomes active again."""
    if not config.stack:
        raise ChatError(ErrorCode.FAILED_PRECONDITION, "There is no assistant to hand back to.")
    previous = config.stack[-1]
    return ChatConfig(**previous.model_dump(), stack=config.stack[:-1])
