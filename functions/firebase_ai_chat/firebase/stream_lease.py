"""The Firestore side of the per-user stream limit (``stream_slots.py``): take and give back a slot.

Taking reads ``{streams}/{uid}`` and writes it back with one more slot, preconditioned on the update
time it read (or created, when there is none): two streams of one user taking a slot at once
conflict, and the loser reads again after a short random pause, so the limit holds across
instances with no transaction. Giving back is one blind write (the slot's field deleted); a
document deleted meanwhile (the user's data deleted) is nothing to give back.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions
from google.cloud import firestore

from .stream_slots import StreamSlots

logger = logging.getLogger(__name__)

ATTEMPTS = 8
_CONFLICTS = (exceptions.FailedPrecondition, exceptions.AlreadyExists)


class LeaseBusy(Exception):  # noqa: N818 - an outcome, not an error
    """The user's slot document stayed contended for every attempt (answered ``unavailable``)."""


@dataclass(frozen=True)
class StreamLease:
    """Slots of ``collection`` (``limit`` per user, each freeing itself after ``lifetime``)."""

    client: Any
    collection: str
    limit: int
    lifetime: timedelta

    def acquire(self, uid: str) -> str | None:
        """A slot for one more stream of ``uid``; ``None`` when the user is at the limit."""
        reference = self.client.collection(self.collection).document(uid)
        for attempt in range(ATTEMPTS):
            snapshot = reference.get()
            slots = StreamSlots.model_validate(snapshot.to_dict()) if snapshot.exists else StreamSlots(user_id=uid)
            taken = slots.taken(now=datetime.now(UTC), limit=self.limit, lifetime=self.lifetime)
            if taken is None:
                return None
            document, slot = taken
            try:
                if snapshot.exists:
                    option = self.client.write_option(last_update_time=snapshot.update_time)
                    reference.update(document.fields(), option=option)
                else:
                    reference.create(document.fields())
            except _CONFLICTS:
                time.sleep(random.uniform(0.01, min(0.5, 0.02 * 2**attempt)))
                continue
            return slot
        raise LeaseBusy(f"the stream slots of {uid} stayed contended")

    def release(self, uid: str, slot: str) -> None:
        """Give ``slot`` back (one blind write); never raises."""
        reference = self.client.collection(self.collection).document(uid)
        try:
            reference.update({f"slots.{slot}": firestore.DELETE_FIELD})
        except exceptions.NotFound:
            pass  # the user's data was deleted meanwhile: nothing to give back
        except Exception:
            logger.exception("chatEvents: could not give a stream slot back (it frees itself)", extra={"userId": uid})
