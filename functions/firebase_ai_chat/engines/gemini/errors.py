"""How ``google-genai`` failures become ``ChatError``s (the messages are ``failures.py``'s: the
provider's raw text never reaches the client).

The SDK retries 408, 429 and 5xx itself (``GEMINI_MAX_RETRIES``); what still fails here is handed to
the task retry when it is transient, else it fails the chat. A reply with no answer (the prompt or
the answer blocked by the service's safety filters) fails the chat with ``BLOCKED_MESSAGE``.
"""

from __future__ import annotations

import httpx
from google.genai import errors

from ...errors import ChatError, ErrorCode
from ..failures import rejected, unavailable


def engine_error(error: Exception) -> ChatError | None:
    """The ``ChatError`` of an SDK or transport failure; ``None`` for anything else (a bug: raised)."""
    if isinstance(error, errors.APIError):
        if error.code == 429:
            return unavailable(ErrorCode.RESOURCE_EXHAUSTED)
        if error.code in (408, 504):
            return unavailable(ErrorCode.DEADLINE_EXCEEDED)
        if error.code >= 500:
            return unavailable()
        return rejected()
    if isinstance(error, httpx.TimeoutException):
        return unavailable(ErrorCode.DEADLINE_EXCEEDED)
    if isinstance(error, httpx.TransportError):
        return unavailable()
    return None
