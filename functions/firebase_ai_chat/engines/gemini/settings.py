"""The Gemini engine's settings that need no SDK: read at start by the app (which engine, which
default model) without importing ``google-genai``."""

from __future__ import annotations

import os

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_LOCATION = "global"


def default_model() -> str:
    """``GEMINI_MODEL`` or ``DEFAULT_MODEL``."""
    return os.environ.get("GEMINI_MODEL") or DEFAULT_MODEL


def uses_vertex() -> bool:
    """Whether the environment asks for Vertex AI (``GOOGLE_GENAI_USE_VERTEXAI``, as the SDK reads it)."""
    return os.environ.get("GOOGLE_GENAI_USE_VERTEXAI", "").lower() in ("true", "1")
