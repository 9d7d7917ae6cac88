"""One model call of a run: its request (the assistant's pending context and the run's input, its
tools, the chat's data), streamed into partial AI messages (``streaming.py``)."""

from __future__ import annotations

from collections.abc import Callable

from ..commands import ChatCommand
from ..engines.base import Engine, EngineReply, EngineRequest
from ..errors import ChatError, ErrorCode
from ..models import AssistantConfig, ChatState
from ..records import EngineContextRecord
from .ai_messages import ai_message_id, ai_meta
from .hooks import HookPoint
from .parts import WorkerParts
from .streaming import StreamWriter
from .turn import Progress


def stream_writer(
    parts: WorkerParts,
    command: ChatCommand,
    chat: ChatState,
    assistant: AssistantConfig,
    first_index: int,
    check: Callable[[], None],
    hook: Callable[[HookPoint], None],
) -> StreamWriter:
    """The writer of ``assistant``'s partial messages, from position ``first_index``; ``check`` raises
    when the run must stop, ``hook(HookPoint.MID_STREAM)`` follows each write."""
    return StreamWriter(
        store=parts.store,
        chat_id=command.chat_id,
        user_id=chat.user_id,
        dispatch_id=command.dispatch_id,
        first_index=first_index,
        message_id=lambda index: ai_message_id(command.dispatch_id, index),
        meta=ai_meta(chat, assistant),
        after_write=lambda: hook(HookPoint.MID_STREAM),
        interval=parts.stream_interval,
        check=check,
    )


def ask_model(
    parts: WorkerParts, progress: Progress, context: EngineContextRecord, stream: StreamWriter
) -> EngineReply | None:
    """The model's reply to what the assistant has not answered yet (``None``: nothing to answer)."""
    assistant = progress.config.assistant
    inputs = [*context.pending, *progress.run.input]
    if not inputs:
        return None
    dispatcher = parts.assistants.tools(assistant.dispatcher_id)
    request = EngineRequest(
        assistant=assistant,
        input=inputs,
        tools=dispatcher.specs() if dispatcher else [],
        data=progress.data,
        context=context.context,
    )
    return _engine(parts, assistant.engine).run(request, on_text=stream)


def _engine(parts: WorkerParts, name: str) -> Engine:
    engine = parts.engines.get(name)
    if engine is None:
        raise ChatError(ErrorCode.FAILED_PRECONDITION, f"No engine named {name!r} is configured.", permanent=True)
    return engine
