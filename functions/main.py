"""The example app: the calculator crew behind callables and task-queue workers.

Contract used by clients (keep it exactly):
- ``calculate {message}`` → ``{chatDocument, status, data}`` starts a chat;
- ``postToCalculate {chatDocument, message}`` → same shape;
- ``closeCalculate {chatDocument}`` → same shape;
- task-queue function ``calculator`` runs the assistants; ``multiplier`` does the
  asynchronous multiplication and resumes the chat through the continuation scheduler.

Chat data starts as ``{"sum": 0}``. The calculator assistant has ``getSum``,
``add``, ``subtract``, ``multiply`` (suspends) and ``switchToDivider`` (hands
over); the divider has ``getSum``, ``divide`` and ``handBack``.

Engine: the OpenAI Responses API when ``OPENAI_API_KEY`` is set (Chat
Completions with ``OPENAI_API_MODE=chat``, for any OpenAI-compatible server at
``OPENAI_BASE_URL``), else the offline engine, which understands the phrases
in ``PHRASES``. Both OpenAI engines stream unless ``OPENAI_STREAM=0``.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from firebase_functions import https_fn, options, scheduler_fn, tasks_fn
from pydantic import BaseModel, Field

from firebase_ai_chat import (
    AssistantChat,
    AssistantConfig,
    ChatDocumentInput,
    ChatMeta,
    ChatResult,
    ChatWorker,
    CompletionEvent,
    ContinuationScheduler,
    Engine,
    MessageInput,
    PostMessageInput,
)
from firebase_ai_chat.callables import handle_call
from firebase_ai_chat.engines.offline import OfflineEngine, Phrase
from firebase_ai_chat.firebase_app import firebase_app, firestore_client
from firebase_ai_chat.firestore import FirestoreChatStore
from firebase_ai_chat.local_runtime import fault_hooks, steady_local_runtime
from firebase_ai_chat.structured_logs import structured_logging
from firebase_ai_chat.stuck import StuckChatSweeper
from firebase_ai_chat.task_handler import delivery_of, handle_task
from firebase_ai_chat.tasks import CloudTasksQueue, enqueue_task
from firebase_ai_chat.tools import ToolContext, ToolFailure, Toolset, ToolValue

structured_logging()  # JSON entries through firebase_functions.logger, with chatId, dispatchId, assistantId
steady_local_runtime()  # the Functions emulator only: no "socket hang up" when it reuses an idle runtime
firebase_app()  # callables verify ID tokens with the default app: it must exist before the first call

WORKER = "calculator"
MULTIPLIER = "multiplier"
MAX_ATTEMPTS = 3


def _engine_name() -> str:
    if not os.environ.get("OPENAI_API_KEY"):
        return "offline"
    return "openai-chat" if os.environ.get("OPENAI_API_MODE") == "chat" else "openai"


ENGINE = _engine_name()
STREAM = os.environ.get("OPENAI_STREAM", "1") != "0"


class CalculatorData(BaseModel):
    """The calculator chat's data."""

    sum: int | float = 0


class Operand(BaseModel):
    """A number to apply to the sum."""

    value: float = Field(description="The number", allow_inf_nan=False)


class DividerRequest(BaseModel):
    """What the user wants from the divider."""

    request: str | None = Field(
        default=None, description="The user's request, passed on to the divider (default: the user's message)"
    )


CALCULATOR = AssistantConfig(
    engine=ENGINE,
    assistant_id="calculator",
    dispatcher_id="calculator",
    instructions=(
        "You are a calculator that keeps a running sum for the user. Use the tools to read and change it. "
        "For any division, call switchToDivider with the user's request."
    ),
)
DIVIDER = AssistantConfig(
    engine=ENGINE,
    assistant_id="divider",
    dispatcher_id="divider",
    instructions="You divide the user's running sum. When the user is done dividing, call handBack.",
)

NUMBER = r"(-?\d+(?:\.\d+)?)"


def _value(match: Any) -> dict[str, Any]:
    return {"value": float(match[1])}


PHRASES = [
    Phrase(r"(?:what is the |get the |get )?sum", "getSum"),
    Phrase(rf"add {NUMBER}", "add", _value),
    Phrase(r"add (\D+)", "add", lambda m: {"value": m[1]}),  # models get arguments wrong too
    Phrase(rf"subtract {NUMBER}", "subtract", _value),
    Phrase(rf"multiply by {NUMBER}", "multiply", _value),
    Phrase(rf"divide by {NUMBER}", "divide", _value),
    Phrase(r"(divide.*)", "switchToDivider", lambda m: {"request": m[1]}),
    Phrase(r"switch to (?:the )?divider", "switchToDivider"),
    Phrase(r"hand back|go back|done dividing", "handBack"),
]


def _number(value: float) -> int | float:
    """Whole numbers as ints while floats hold them exactly (|x| < 2**53); others stay floats."""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


calculator_tools = Toolset(CalculatorData)
divider_tools = Toolset(CalculatorData)


@calculator_tools.tool(description="Get the current sum")
@divider_tools.tool(description="Get the current sum")
def getSum(ctx: ToolContext[CalculatorData]) -> ToolValue:  # noqa: N802 - tool names are the model's contract
    """Read the sum."""
    return ToolValue(value=ctx.data.sum)


@calculator_tools.tool(description="Add a number to the sum")
def add(ctx: ToolContext[CalculatorData], args: Operand) -> CalculatorData:
    """Add to the sum."""
    return CalculatorData(sum=_number(ctx.data.sum + args.value))


@calculator_tools.tool(description="Subtract a number from the sum")
def subtract(ctx: ToolContext[CalculatorData], args: Operand) -> CalculatorData:
    """Subtract from the sum."""
    return CalculatorData(sum=_number(ctx.data.sum - args.value))


class MultiplyTask(BaseModel):
    """The payload of the ``multiplier`` task: the factor only. The sum is read when the call
    resumes (a copy taken now could overwrite what changed meanwhile)."""

    continuation_id: str = Field(alias="continuationId")
    factor: float = Field(allow_inf_nan=False)


@calculator_tools.tool(description="Multiply the sum by a number (computed asynchronously)")
def multiply(ctx: ToolContext[CalculatorData], args: Operand) -> Any:
    """Hand the factor to the ``multiplier`` function and suspend until it resumes the call."""
    task = MultiplyTask(continuationId=ctx.continuation.id, factor=args.value)
    task_id = "multiply-" + ctx.continuation.id.replace(".", "_")
    enqueue_task(MULTIPLIER, task.model_dump(by_alias=True), task_id=task_id, app=firebase_app())
    return ctx.continuation.suspend()


@calculator_tools.tool(description="Hand the chat over to the divider assistant for divisions")
def switchToDivider(ctx: ToolContext[CalculatorData], args: DividerRequest) -> ToolValue:  # noqa: N802
    """Hand over to the divider with the user's request."""
    ctx.hand_over(DIVIDER, messages=[args.request] if args.request else [])
    return ToolValue(value="The divider takes over.")


@divider_tools.tool(description="Divide the sum by a number")
def divide(ctx: ToolContext[CalculatorData], args: Operand) -> CalculatorData | ToolFailure:
    """Divide the sum; division by zero is an error the model sees."""
    if args.value == 0:
        return ToolFailure(message="Division by zero is not allowed.")
    return CalculatorData(sum=_number(ctx.data.sum / args.value))


@divider_tools.tool(description="Hand the chat back to the calculator when the user is done dividing")
def handBack(ctx: ToolContext[CalculatorData]) -> ToolValue:  # noqa: N802
    """Return the chat to the calculator."""
    ctx.hand_back(messages=[f"The divider is done. The sum is {_number(ctx.data.sum)}."])
    return ToolValue(value="Handed back to the calculator.")


META = ChatMeta(ai_message_meta={"name": "Calculator"}, user_message_meta={"name": "You"})
"""Merged into every message: clients show who said what."""


def on_complete(event: CompletionEvent) -> None:
    """The completion handler: records each finished command with its meta (an audit trail)."""
    logging.getLogger("calculator").info("completed %s: %s %s", event.chat_document, event.status.value, event.meta)
    firestore_client().document(f"{event.chat_document}/completions/{event.dispatch_id}").set(
        {"status": event.status.value, "data": event.data, "meta": event.meta}
    )


def _store() -> FirestoreChatStore:
    return FirestoreChatStore(firestore_client())


def _queue() -> CloudTasksQueue:
    return CloudTasksQueue(WORKER, app=firebase_app())


@functools.cache
def _chat() -> AssistantChat:
    return AssistantChat(store=_store(), queue=_queue())


@functools.cache
def _worker() -> ChatWorker:
    engines: dict[str, Engine] = {"offline": OfflineEngine(PHRASES)}
    if ENGINE != "offline":  # the openai SDK takes a while to import: only the worker, only with a key
        from firebase_ai_chat.engines.openai_chat import OpenAIChatEngine
        from firebase_ai_chat.engines.openai_responses import OpenAIResponsesEngine

        engines["openai"] = OpenAIResponsesEngine(stream=STREAM)
        engines["openai-chat"] = OpenAIChatEngine(stream=STREAM)
    return ChatWorker(
        store=_store(),
        queue=_queue(),
        engines=engines,
        dispatchers={"calculator": calculator_tools, "divider": divider_tools},
        on_complete=on_complete,
        hooks=fault_hooks(),
    )


@functools.cache
def _continuations() -> ContinuationScheduler:
    return ContinuationScheduler(store=_store(), queue=_queue())


def _create(uid: str, payload: MessageInput) -> ChatResult:
    return _chat().create(
        user_id=uid,
        assistant=CALCULATOR,
        data=CalculatorData(),
        messages=[payload.message],
        meta=META,
        command_meta={"command": "calculate"},
        client_message_id=payload.client_message_id,
    )


def _post(uid: str, payload: PostMessageInput) -> ChatResult:
    return _chat().post_message(
        user_id=uid,
        chat_id=payload.chat_id,
        messages=[payload.message],
        command_meta={"command": "post"},
        client_message_id=payload.client_message_id,
    )


def _close(uid: str, payload: ChatDocumentInput) -> ChatResult:
    return _chat().close_chat(user_id=uid, chat_id=payload.chat_id, command_meta={"command": "close"})


@https_fn.on_call()
def calculate(request: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Start a calculator chat with the user's first message."""
    return handle_call(request, MessageInput, _create)


@https_fn.on_call()
def postToCalculate(request: https_fn.CallableRequest[Any]) -> dict[str, Any]:  # noqa: N802 - client contract
    """Post a message to a calculator chat."""
    return handle_call(request, PostMessageInput, _post)


@https_fn.on_call()
def closeCalculate(request: https_fn.CallableRequest[Any]) -> dict[str, Any]:  # noqa: N802 - client contract
    """Close a calculator chat."""
    return handle_call(request, ChatDocumentInput, _close)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=MAX_ATTEMPTS, min_backoff_seconds=1, max_backoff_seconds=30),
    rate_limits=options.RateLimits(max_concurrent_dispatches=6),
    timeout_sec=300,
)
def calculator(request: tasks_fn.CallableRequest[Any]) -> None:
    """The worker: runs the calculator crew for one command."""
    handle_task(_worker(), request, max_attempts=MAX_ATTEMPTS)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=MAX_ATTEMPTS, min_backoff_seconds=1, max_backoff_seconds=30),
)
def multiplier(request: tasks_fn.CallableRequest[Any]) -> None:
    """Multiply asynchronously, then resume the suspended ``multiply`` call with the product of the
    sum *as it is then* (a resumer runs inside the resuming transaction). If every attempt fails,
    the last one resumes the call with a tool error, so the chat goes on."""
    task = MultiplyTask.model_validate(request.data)
    product = calculator_tools.resumer("multiply", lambda data: CalculatorData(sum=_number(data.sum * task.factor)))
    try:
        _continuations().resume(task.continuation_id, product)
    except Exception:
        if not delivery_of(request, max_attempts=MAX_ATTEMPTS).is_last:
            raise
        logging.getLogger("calculator").exception("multiplier: last attempt failed; resuming with an error")
        _continuations().resume(task.continuation_id, ToolFailure(message="The multiplication could not be done."))


@scheduler_fn.on_schedule(schedule="every 5 minutes")
def sweepStuckChats(event: scheduler_fn.ScheduledEvent) -> None:  # noqa: N802 - function name
    """Re-enqueue chats stuck in ``processing`` for 10 minutes; fail them after 3 tries."""
    report = StuckChatSweeper(store=_store(), queue=_queue()).sweep()
    logging.getLogger("calculator").info("sweep: requeued %s, failed %s", report.requeued, report.failed)
