"""A deterministic engine that needs no model: demos and tests run with no key.

It answers every user message with an acknowledgement that quotes it and shows
the chat data, so the same input always gives the same answer.
"""

from __future__ import annotations

import json

from .base import EngineReply, EngineRequest, UserInput


class OfflineEngine:
    """Answers ``You said "<text>". Data: <json>.`` for each user message."""

    name = "offline"

    def run(self, request: EngineRequest) -> EngineReply:
        """One deterministic reply per user message in the input."""
        data = json.dumps(request.data, sort_keys=True)
        texts = [f'You said "{item.text}". Data: {data}.' for item in request.input if isinstance(item, UserInput)]
        return EngineReply(texts=texts or ["(nothing to answer)"], model="offline", context=request.context)
