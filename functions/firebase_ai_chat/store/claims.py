"""A run's claim on its chat: posts can never keep a run from committing.

Every writer of a chat writes its document and commits on the version it
read (``port.py``). A run commits a few times per turn; a post commits once.
Under a stream of posts (a client posting back to back, or many clients at
once) a post can land between the run's read and its commit every time, so
the run would lose every retry and its chat would stall. So a run that lost
``CLAIM_AFTER`` commits in a row *claims* the chat: one blind write of
``runClaim`` (no read, no precondition: it cannot lose), which also makes
every post in flight conflict. A post that then reads the chat sees the claim
and waits (``Held``: the store pauses and reads again, without using up an
attempt), so the run's next commit meets only the rare writers that do not
wait (a stop, a close, a deletion, a resume). That commit clears the claim,
and the posts go on, queued for the next run as ever.

A post waits for one claim at most ``CLAIM_PATIENCE`` seconds of its own clock
(no clocks are compared across machines): a claim whose run died before its
commit is ignored after that, and the post that ignores it clears it.
"""

from __future__ import annotations

import time
import uuid

from ..models import ChatState, RunClaim

CLAIM_AFTER = 2
"""Conflicts in a row after which a run claims its chat."""

CLAIM_PATIENCE = 10.0
"""Seconds a post waits for one claim before it ignores it (its run died, or stalls)."""


def new_claim(dispatch_id: str) -> RunClaim:
    """A fresh claim of the run of ``dispatch_id``."""
    return RunClaim(dispatch_id=dispatch_id, token=uuid.uuid4().hex)


class Patience:
    """One call's waiting for claims: how long it has waited for each, by its own clock."""

    def __init__(self, limit: float = CLAIM_PATIENCE) -> None:
        self._limit = limit
        self._since: dict[str, float] = {}

    def waits_for(self, chat: ChatState) -> bool:
        """Whether a post should wait for ``chat``'s claim now: the live run holds it and this call has
        waited for it less than the limit."""
        claim = chat.run_claim
        if claim is None or not chat.is_running(claim.dispatch_id):
            return False
        since = self._since.setdefault(claim.token, time.monotonic())
        return time.monotonic() - since < self._limit
