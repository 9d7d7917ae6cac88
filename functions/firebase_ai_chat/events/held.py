"""What a ``chatEvents`` client holds: the messages it was sent and not told were removed.

A live stream knows it exactly (``HeldMessages``). A resumed stream knows only the summary its
``Last-Event-ID`` carries (``Held``: count, digest of the ids, how many streaming), and the chat's
messages as they are now. ``held_after_resume`` rebuilds the set from both:

- every message whose current version is at or before the cursor is held: the stream that sent
  the cursor saw each such version in a snapshot that also held the last message it sent, and sent
  it in order before that one (a consistent snapshot holds every version up to its read time);
- the other messages the client may hold are among those changed after the cursor (they are sent
  again anyway): the subset whose count and digest complete the summary is what it holds;
- when no subset does, the client holds a message that no longer exists (deleted while it was away:
  the partial answer of a run a close abandoned, a message expired by retention), or the id carries
  no summary (an id of the first version): ``None``, and the stream starts again from scratch.

A digest is 64 bits: two different sets match by chance with a probability of about 2^-64.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, islice

from .cursor import Held, MessageKey, MessageVersion, digest_of, id_hash

MAX_SUBSETS = 4096
"""How many subsets of the changed messages a resume tries before it starts again from scratch
(a client cut off mid-answer holds one or two of them; thousands means a long absence)."""


class HeldMessages:
    """The ids a client holds, each with whether its version is still streaming."""

    def __init__(self, streaming: dict[str, bool] | None = None) -> None:
        self._streaming = dict(streaming or {})
        self._digest = digest_of(self._streaming)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._streaming)

    @property
    def streaming(self) -> int:
        """How many held messages are still streaming."""
        return sum(self._streaming.values())

    def add(self, version: MessageVersion) -> None:
        """The client got ``version`` (a new message, or a newer version of one it holds)."""
        if version.key.id not in self._streaming:
            self._digest ^= id_hash(version.key.id)
        self._streaming[version.key.id] = version.streaming

    def remove(self, message_id: str) -> None:
        """The client was told the message is gone."""
        if self._streaming.pop(message_id, None) is not None:
            self._digest ^= id_hash(message_id)

    def summary(self) -> Held:
        """What an event id carries of the set."""
        return Held(count=len(self._streaming), digest=self._digest, streaming=self.streaming)


def held_after_resume(held: Held | None, since: MessageKey, messages: Sequence[MessageVersion]) -> HeldMessages | None:
    """What a client resumed at a cursor (last message version ``since``, summary ``held``) holds of
    the chat's ``messages`` now; ``None`` when it may hold a message that is gone (see the module)."""
    if held is None:
        return None
    known = [m for m in messages if m.key <= since]
    changed = [m for m in messages if m.key > since]
    wanted = held.count - len(known)
    rest = held.digest ^ digest_of(m.key.id for m in known)
    if wanted < 0:
        return None
    for subset in islice(combinations(changed, wanted), MAX_SUBSETS):
        if digest_of(m.key.id for m in subset) == rest:
            return HeldMessages({m.key.id: m.streaming for m in (*known, *subset)})
    return None
