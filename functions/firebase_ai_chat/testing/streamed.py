"""``Streamed``: any engine, streamed, for tests of what clients see while an answer grows.

It asks the wrapped engine, then reports each text to the sink in ``chunks``
growing prefixes (``delay`` seconds apart) before it returns the reply, as a
streaming model would.
"""

from __future__ import annotations

import time

from ..engines.base import Engine, EngineReply, EngineRequest, TextSink


class Streamed:
    """An ``Engine`` that streams the texts of ``engine`` in ``chunks`` steps."""

    def __init__(self, engine: Engine, *, chunks: int = 3, delay: float = 0.0) -> None:
        self.name = engine.name
        self._engine = engine
        self._chunks = chunks
        self._delay = delay
        self.deltas = 0
        """Deltas reported so far (a stopped answer reports fewer than its whole text)."""

    def run(self, request: EngineRequest, *, on_text: TextSink | None = None) -> EngineReply:
        """The wrapped engine's reply, its texts reported to ``on_text`` as they grow."""
        reply = self._engine.run(request)
        if on_text is not None:
            for index, text in enumerate(reply.texts):
                for step in range(1, self._chunks + 1):
                    time.sleep(self._delay)
                    on_text(index, text[: max(1, len(text) * step // self._chunks)])
                    self.deltas += 1
        return reply
