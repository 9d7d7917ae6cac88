"""The AI messages a run writes: their deterministic ids, and their meta (the chat's AI message meta,
then the writing assistant's own)."""

from __future__ import annotations

from typing import Any

from ..models import AssistantConfig, Author, ChatMessage, ChatState


def ai_message_id(dispatch_id: str, index: int) -> str:
    """The deterministic id of the ``index``-th AI message a dispatch writes."""
    return f"{dispatch_id}-ai-{index:03d}"


def ai_meta(chat: ChatState, assistant: AssistantConfig) -> dict[str, Any] | None:
    """The meta of ``assistant``'s messages: the chat's AI message meta, then the assistant's own."""
    merged = {**((chat.meta.ai_message_meta if chat.meta else None) or {}), **(assistant.message_meta or {})}
    return merged or None


def ai_message(
    chat: ChatState,
    assistant: AssistantConfig,
    dispatch_id: str,
    index: int,
    text: str,
    *,
    stopped: bool | None = None,
) -> ChatMessage:
    """The ``index``-th AI message of a dispatch, written by ``assistant`` (final; ``stopped`` when the
    owner cut it short)."""
    return ChatMessage(
        user_id=chat.user_id,
        author=Author.AI,
        text=text,
        meta=ai_meta(chat, assistant),
        dispatch_id=dispatch_id,
        in_batch_sort_index=index,
        stopped=stopped,
    )
