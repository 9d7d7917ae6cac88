"""The example app: the calculator crew, declared on ``ChatApp``.

Contract used by clients (keep it exactly): callables ``calculate {message, clientMessageId?}``,
``postToCalculate {chatDocument, message, clientMessageId?}``, ``closeCalculate {chatDocument}`` and
``stopCalculate {chatDocument}`` → ``{chatDocument, status, data}``; task-queue functions
``calculator`` (the worker) and ``multiplier`` (the asynchronous multiplication that resumes the
chat). Chat data starts as ``{"sum": 0}``. Also ``deleteMyData {}`` → ``{deletedChats,
deletedDocuments}``, and the same chats behind App Check: ``calculateAppCheck``,
``postToCalculateAppCheck``, ``chatEventsAppCheck``. Engine: see ``firebase_ai_chat.firebase.app`` (the
worker binds ``OPENAI_API_KEY`` and ``GEMINI_API_KEY``: the one set selects OpenAI or Gemini,
``CHAT_ENGINE`` when both are, ``GOOGLE_GENAI_USE_VERTEXAI=true`` Gemini on Vertex AI with no key; with
none, the emulators use the offline engine, which understands ``PHRASES``).

Limits per UTC day, from params (``functions/.env.local`` on the emulators): guests (anonymous
sign-in) get ``GUEST_DAILY_POSTS`` posts and ``GUEST_DAILY_TOKENS`` tokens, signed-in users
``USER_DAILY_POSTS`` and ``USER_DAILY_TOKENS``, and users with the custom claim ``plan: "pro"`` ten
times the users' tokens and no post limit. ``CHAT_PAUSED=true`` stops every model call.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from firebase_functions import params
from pydantic import BaseModel, Field

from firebase_ai_chat import Capacity, ChatMeta, RunHooks
from firebase_ai_chat.engines.offline import Phrase
from firebase_ai_chat.firebase.app import Assistant, Caller, ChatApp
from firebase_ai_chat.firebase.app_check import AppCheck
from firebase_ai_chat.limits import Allowance, Limits
from firebase_ai_chat.tools import ToolContext, ToolFailure, Toolset, ToolValue

if TYPE_CHECKING:  # annotations only: the worker is imported by the first task, not by every function
    from firebase_ai_chat import CompletionEvent
    from firebase_ai_chat.runtime.worker import Delivery


class CalculatorData(BaseModel):
    """The calculator chat's data."""

    sum: int | float = 0


Number = Annotated[float, Field(description="The number", allow_inf_nan=False)]
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
    return ToolValue(value=ctx.data.sum)


@calculator_tools.tool(description="Add a number to the sum")
def add(ctx: ToolContext[CalculatorData], value: Number) -> CalculatorData:
    return CalculatorData(sum=_number(ctx.data.sum + value))


@calculator_tools.tool(description="Subtract a number from the sum")
def subtract(ctx: ToolContext[CalculatorData], value: Number) -> CalculatorData:
    return CalculatorData(sum=_number(ctx.data.sum - value))


class MultiplyTask(BaseModel):
    """The ``multiplier`` task: the factor only; the sum is read when the call resumes."""

    continuation_id: str = Field(alias="continuationId")
    factor: float = Field(allow_inf_nan=False)


@calculator_tools.tool(description="Multiply the sum by a number (computed asynchronously)")
def multiply(ctx: ToolContext[CalculatorData], value: Number) -> Any:
    task = MultiplyTask(continuationId=ctx.continuation.id, factor=value)
    app.enqueue("multiplier", task, task_id=f"multiply-{ctx.continuation.id}")
    return ctx.continuation.suspend()


@calculator_tools.tool(description="Hand the chat over to the divider assistant for divisions")
def switchToDivider(  # noqa: N802
    ctx: ToolContext[CalculatorData],
    request: Annotated[
        str | None, Field(description="The user's request, passed on to the divider (default: the user's message)")
    ] = None,
) -> ToolValue:
    ctx.hand_over("divider", messages=[request] if request else [])
    return ToolValue(value="The divider takes over.")


@divider_tools.tool(description="Divide the sum by a number")
def divide(ctx: ToolContext[CalculatorData], value: Number) -> CalculatorData | ToolFailure:
    if value == 0:
        return ToolFailure(message="Division by zero is not allowed.")
    return CalculatorData(sum=_number(ctx.data.sum / value))


@divider_tools.tool(description="Hand the chat back to the calculator when the user is done dividing")
def handBack(ctx: ToolContext[CalculatorData]) -> ToolValue:  # noqa: N802
    ctx.hand_back(messages=[f"The divider is done. The sum is {_number(ctx.data.sum)}."])
    return ToolValue(value="Handed back to the calculator.")


RETENTION = timedelta(days=30)
"""Every document of a chat expires 30 days after it was last written (Firestore TTL policies in
``firestore.indexes.json``); the chat itself 30 days after its last change."""


USER_DAILY_POSTS = params.IntParam("USER_DAILY_POSTS", default=500)
"""Posts (a new chat's first message included) a signed-in user may make per UTC day."""
USER_DAILY_TOKENS = params.IntParam("USER_DAILY_TOKENS", default=2_000_000)
"""Model tokens (input + output) a signed-in user's runs may use per UTC day."""
GUEST_DAILY_POSTS = params.IntParam("GUEST_DAILY_POSTS", default=20)
"""Posts a guest (anonymous sign-in) may make per UTC day."""
GUEST_DAILY_TOKENS = params.IntParam("GUEST_DAILY_TOKENS", default=50_000)
"""Model tokens a guest's runs may use per UTC day."""


def limits_for(caller: Caller) -> Limits:
    """The caller's tier: a guest (anonymous sign-in), a ``pro`` plan (custom claim) or a user."""
    firebase = caller.claims.get("firebase")
    if isinstance(firebase, dict) and firebase.get("sign_in_provider") == "anonymous":
        return Limits(tier="guest", day=Allowance(posts=GUEST_DAILY_POSTS.value, tokens=GUEST_DAILY_TOKENS.value))
    if caller.claims.get("plan") == "pro":
        return Limits(tier="pro", day=Allowance(tokens=10 * USER_DAILY_TOKENS.value))
    return Limits(tier="user", day=Allowance(posts=USER_DAILY_POSTS.value, tokens=USER_DAILY_TOKENS.value))


def on_complete(event: CompletionEvent) -> None:
    """Records each finished command with its meta in ``chats/{id}/completions/{dispatchId}`` (with the
    chat's retention; never under a chat deleted meanwhile)."""
    logging.getLogger("calculator").info("completed %s: %s %s", event.chat_document, event.status.value, event.meta)
    record = {"status": event.status.value, "data": event.data, "meta": event.meta}
    app.write_under_chat(event.chat_document, f"completions/{event.dispatch_id}", record)


ASSISTANTS = [
    Assistant(
        name="calculator",
        instructions="You are a calculator that keeps a running sum for the user. Use the tools to read and "
        "change it. For any division, call switchToDivider with the user's request.",
        tools=calculator_tools,
        handoffs=("divider",),
    ),
    Assistant(
        name="divider",
        instructions="You divide the user's running sum. When the user is done dividing, call handBack.",
        tools=divider_tools,
        can_hand_back=True,
        message_meta={"name": "Divider"},  # over META's "Calculator"
    ),
]
META = ChatMeta(ai_message_meta={"name": "Calculator"}, user_message_meta={"name": "You"})


CAPACITY = Capacity(queues=2)
"""The default 16 runs per instance, at most 50 instances per queue (800 runs at once per queue), on two
queues: the worker functions ``calculator`` and ``calculator2`` (each chat always on the same one)."""


def crash_injection() -> list[RunHooks]:
    """The reliability suite's crash injection (``tests/test_reliability.py``): only under the emulator,
    only when ``tests/run`` sets ``CHAT_FAULTS_DIR``; no hooks anywhere else."""
    directory = os.environ.get("CHAT_FAULTS_DIR")
    if os.environ.get("FUNCTIONS_EMULATOR") != "true" or not directory:
        return []
    from firebase_ai_chat.testing.faults import CrashOnMarker

    return [CrashOnMarker(directory)]


MODEL_KEYS = ("OPENAI_API_KEY", "GEMINI_API_KEY")
"""The worker binds both keys: the one set (on the emulators ``functions/.secret.local``) picks the
engine (``CHAT_ENGINE`` when both are). Deployed, each must exist in Secret Manager."""


def calculator_app(*, app_check: AppCheck | None = None) -> ChatApp[CalculatorData]:
    """The calculator's chats (the same chats, worker and limits), with or without App Check."""
    return ChatApp(
        data=CalculatorData,
        assistants=ASSISTANTS,
        worker="calculator",
        offline=PHRASES,
        meta=META,
        on_complete=on_complete,
        retention=RETENTION,
        limits=limits_for,
        app_check=app_check or False,
        capacity=CAPACITY,
        hooks=crash_injection(),
        secrets=MODEL_KEYS,
    )


app = calculator_app()
CALCULATOR, DIVIDER = app.config("calculator"), app.config("divider")

calculate = app.start_function("calculate", command_meta={"command": "calculate"})
postToCalculate = app.post_function("postToCalculate", command_meta={"command": "post"})  # noqa: N816
closeCalculate = app.close_function("closeCalculate", command_meta={"command": "close"})  # noqa: N816
stopCalculate = app.stop_function("stopCalculate")  # noqa: N816
calculator = app.worker_function()  # queue 1 (of CAPACITY.queues)
calculator2 = app.worker_function(2)  # queue 2: another 500 dispatches per second
chatEvents = app.events_function("chatEvents")  # noqa: N816 - GET, Server-Sent Events of a chat
OPENAPI: dict[str, Any] = {
    "title": "Calculator chat",
    # The openapi function puts the address it was reached at first (the emulators' host and port, or
    # the deployed project's); this template is for the committed docs/openapi.json and clients.
    "servers": [
        {
            "url": "https://{region}-{project}.cloudfunctions.net",
            "description": "Deployed",
            "variables": {"region": {"default": "us-central1"}, "project": {"default": "your-project-id"}},
        },
    ],
}
deleteMyData = app.delete_data_function("deleteMyData")  # noqa: N816 - {} → {deletedChats, deletedDocuments}
openapi = app.openapi_function("openapi", **OPENAPI)  # GET: docs/openapi.json, built by docs/build-openapi

# The same chats behind App Check (with replay protection), for clients that send App Check tokens:
# the calculator's own callables above keep their contract; these run on the same worker and chats.
guarded = calculator_app(app_check=AppCheck(consume_tokens=True))
calculateAppCheck = guarded.start_function("calculateAppCheck", command_meta={"command": "calculate"})  # noqa: N816
postToCalculateAppCheck = guarded.post_function("postToCalculateAppCheck", command_meta={"command": "post"})  # noqa: N816
chatEventsAppCheck = guarded.events_function("chatEventsAppCheck")  # noqa: N816


@app.task_function("multiplier", MultiplyTask)
def multiplier(task: MultiplyTask, delivery: Delivery) -> None:
    """Resume ``multiply`` with the product of the sum as it is then; the last failed attempt resumes
    it with a tool error, so the chat goes on."""
    product = calculator_tools.resumer("multiply", lambda data: CalculatorData(sum=_number(data.sum * task.factor)))
    try:
        app.resume(task.continuation_id, product)
    except Exception:
        if not delivery.is_last:
            raise
        logging.getLogger("calculator").exception("multiplier: last attempt failed; resuming with an error")
        app.resume(task.continuation_id, ToolFailure(message="The multiplication could not be done."))
