"""The OpenAI engines (Responses and Chat Completions, through the ``openai`` SDK)."""

from typing import TYPE_CHECKING

from ..._faces import face

if TYPE_CHECKING:
    from .chat import OpenAIChatEngine as OpenAIChatEngine
    from .responses import OpenAIResponsesEngine as OpenAIResponsesEngine

_HOMES = {
    "responses": ("OpenAIResponsesEngine",),
    "chat": ("OpenAIChatEngine",),
}
if not TYPE_CHECKING:  # type checkers see the names above, not a catch-all __getattr__
    __getattr__, __dir__ = face(__name__, globals(), _HOMES)

__all__ = [
    "OpenAIChatEngine",
    "OpenAIResponsesEngine",
]
