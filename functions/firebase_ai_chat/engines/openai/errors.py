"""How OpenAI SDK failures become ``ChatError``s: transient ones are retried, the rest fail the chat.

The SDK already retries 429, 5xx, timeouts and connection errors with backoff
(``max_retries``); what still fails here is handed to the task retry, and after
the last attempt the chat fails with a message a client can show (``failures.py``).
"""

from __future__ import annotations

import openai

from ...errors import ChatError, ErrorCode
from ..failures import REJECTED_MESSAGE as REJECTED_MESSAGE
from ..failures import UNAVAILABLE_MESSAGE as UNAVAILABLE_MESSAGE
from ..failures import rejected, unavailable


def engine_error(error: openai.OpenAIError) -> ChatError:
    """The ``ChatError`` for an SDK failure (never the provider's raw text, which may hold details)."""
    if isinstance(error, openai.RateLimitError):
        return unavailable(ErrorCode.RESOURCE_EXHAUSTED)
    if isinstance(error, openai.APITimeoutError):
        return unavailable(ErrorCode.DEADLINE_EXCEEDED)
    if isinstance(error, openai.APIConnectionError | openai.InternalServerError):
        return unavailable()
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        return unavailable()
    return rejected()
