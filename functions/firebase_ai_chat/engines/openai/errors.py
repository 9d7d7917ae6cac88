"""How OpenAI SDK failures become ``ChatError``s: transient ones are retried, the rest fail the chat.

The SDK already retries 429, 5xx, timeouts and connection errors with backoff
(``max_retries``); what still fails here is handed to the task retry, and after
the last attempt the chat fails with a message a client can show.
"""

from __future__ import annotations

import openai

from ...errors import ChatError, ErrorCode

UNAVAILABLE_MESSAGE = "The AI service is busy or unavailable. Please try again later."
REJECTED_MESSAGE = "The AI service rejected the request."


def engine_error(error: openai.OpenAIError) -> ChatError:
    """The ``ChatError`` for an SDK failure (never the provider's raw text, which may hold details)."""
    if isinstance(error, openai.RateLimitError):
        return ChatError(ErrorCode.RESOURCE_EXHAUSTED, UNAVAILABLE_MESSAGE, permanent=False)
    if isinstance(error, openai.APITimeoutError):
        return ChatError(ErrorCode.DEADLINE_EXCEEDED, UNAVAILABLE_MESSAGE, permanent=False)
    if isinstance(error, openai.APIConnectionError | openai.InternalServerError):
        return ChatError(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, permanent=False)
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        return ChatError(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, permanent=False)
    return ChatError(ErrorCode.FAILED_PRECONDITION, REJECTED_MESSAGE, permanent=True)
