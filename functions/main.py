"""The example app: a calculator assistant behind three callables and one worker.

Contract used by clients (keep it exactly):
- ``calculate {message}`` → ``{chatDocument, status, data}`` starts a chat;
- ``postToCalculate {chatDocument, message}`` → same shape;
- ``closeCalculate {chatDocument}`` → same shape;
- task-queue function ``calculator`` runs the assistant.

Chat data starts as ``{"sum": 0}``. With no ``OPENAI_API_KEY`` the offline
engine answers, so the app runs and is tested with no key.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from firebase_functions import https_fn, options, tasks_fn
from pydantic import BaseModel

from firebase_ai_chat import (
    AssistantChat,
    AssistantConfig,
    ChatDocumentInput,
    ChatResult,
    ChatWorker,
    MessageInput,
    OfflineEngine,
    PostMessageInput,
)
from firebase_ai_chat.callables import handle_call
from firebase_ai_chat.firebase_app import firebase_app, firestore_client
from firebase_ai_chat.firestore import FirestoreChatStore
from firebase_ai_chat.task_handler import handle_task
from firebase_ai_chat.tasks import CloudTasksQueue

logging.basicConfig(level=logging.INFO)
firebase_app()  # callables verify ID tokens with the default app: it must exist before the first call

WORKER = "calculator"
MAX_ATTEMPTS = 3


class CalculatorData(BaseModel):
    """The calculator chat's data."""

    sum: int | float = 0


CALCULATOR = AssistantConfig(
    engine="offline",
    assistant_id="calculator",
    dispatcher_id="calculator",
    instructions="You are a calculator. Keep a running sum for the user.",
)


@functools.cache
def _chat() -> AssistantChat:
    return AssistantChat(
        store=FirestoreChatStore(firestore_client()),
        queue=CloudTasksQueue(WORKER, app=firebase_app()),
    )


@functools.cache
def _worker() -> ChatWorker:
    return ChatWorker(
        store=FirestoreChatStore(firestore_client()),
        queue=CloudTasksQueue(WORKER, app=firebase_app()),
        engines={"offline": OfflineEngine()},
    )


def _create(uid: str, payload: MessageInput) -> ChatResult:
    return _chat().create(user_id=uid, assistant=CALCULATOR, data=CalculatorData(), messages=[payload.message])


def _post(uid: str, payload: PostMessageInput) -> ChatResult:
    return _chat().post_message(user_id=uid, chat_id=payload.chat_id, messages=[payload.message])


def _close(uid: str, payload: ChatDocumentInput) -> ChatResult:
    return _chat().close_chat(user_id=uid, chat_id=payload.chat_id)


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
)
def calculator(request: tasks_fn.CallableRequest[Any]) -> None:
    """The worker: runs the calculator assistant for one command."""
    handle_task(_worker(), request, max_attempts=MAX_ATTEMPTS)
