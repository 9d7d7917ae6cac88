"""The Gemini engine (the Gemini Developer API or Vertex AI, through the ``google-genai`` SDK)."""

from typing import TYPE_CHECKING

from ..._faces import face

if TYPE_CHECKING:
    from .engine import GeminiEngine as GeminiEngine

_HOMES = {
    "engine": ("GeminiEngine",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "GeminiEngine",
]
