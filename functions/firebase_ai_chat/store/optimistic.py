"""``OptimisticStore``: ``update`` built on ``load`` and ``commit``, retrying a conflict after a random
pause (every adapter shares it)."""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TypeVar

from ..errors import ChatError, ErrorCode
from .documents import Loaded
from .port import BUSY, Change, ChatWrite, Conflict, Held

T = TypeVar("T")

MAX_ATTEMPTS = 30
"""How often ``update`` tries a change before the chat counts as busy (``unavailable``)."""

HELD_PAUSE = 3
"""The pause (as an attempt number of ``pause``: up to 80 ms) before a held chat is read again."""


def pause(attempt: int) -> None:
    """A random pause that grows with the attempts (full jitter, at most 0.5 s)."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


class OptimisticStore(ABC):
    """``update`` built on ``load`` and ``commit``: the part every adapter shares."""

    max_attempts: int = MAX_ATTEMPTS

    @abstractmethod
    def load(self, chat_id: str, paths: Sequence[str] = (), *, outside: Sequence[str] = ()) -> Loaded:
        """See ``ChatStore.load``."""

    @abstractmethod
    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        """See ``ChatStore.commit``."""

    def update(self, chat_id: str, change: Change[T], *, reads: Sequence[str] = (), outside: Sequence[str] = ()) -> T:
        """See ``ChatStore.update``; after ``max_attempts`` conflicts, ``unavailable`` (transient). A
        change that raises ``Held`` is tried again after a pause that uses up no attempt."""
        attempt = 0
        while attempt < self.max_attempts:
            base = self.load(chat_id, reads, outside=outside)
            try:
                write, result = change(base)
            except Held:
                pause(HELD_PAUSE)
                continue
            if write.is_empty:
                return result
            try:
                self.commit(base, write)
            except Conflict:
                pause(attempt)
                attempt += 1
                continue
            return result
        raise ChatError(ErrorCode.UNAVAILABLE, BUSY)
