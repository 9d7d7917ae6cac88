"""The ``openai`` SDK client shared by the OpenAI engines, configured from the environment.

``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` are read by the SDK; ``OPENAI_MODEL``
is the default model (``DEFAULT_MODEL`` when unset); ``OPENAI_TIMEOUT``
(seconds, default 60) and ``OPENAI_MAX_RETRIES`` (default 2) tune the SDK's own
retries with backoff of 429, 5xx, timeouts and connection errors.
"""

from __future__ import annotations

import os

import openai

from ..._once import once

DEFAULT_MODEL = "gpt-4.1-mini"


def default_model() -> str:
    """``OPENAI_MODEL`` or ``DEFAULT_MODEL``."""
    return os.environ.get("OPENAI_MODEL") or DEFAULT_MODEL


def client_from_environment() -> openai.OpenAI:
    """A client with the timeout and retries from the environment."""
    return openai.OpenAI(
        timeout=float(os.environ.get("OPENAI_TIMEOUT", "60")),
        max_retries=int(os.environ.get("OPENAI_MAX_RETRIES", "2")),
    )


class OpenAIEngineBase:
    """What both OpenAI engines share: the client (lazily from the environment), model and streaming."""

    def __init__(self, *, client: openai.OpenAI | None = None, model: str | None = None, stream: bool = True) -> None:
        self._given = client
        self._model = model
        self.stream = stream

    @once
    def client(self) -> openai.OpenAI:
        """The SDK client (the given one, else from the environment on first use): one for all the runs
        a worker instance answers at once (the SDK's client is thread-safe and pools its connections)."""
        return self._given or client_from_environment()

    def model_for(self, assistant_model: str | None) -> str:
        """The assistant's model, else this engine's, else ``OPENAI_MODEL`` or ``DEFAULT_MODEL``."""
        return assistant_model or self._model or default_model()
