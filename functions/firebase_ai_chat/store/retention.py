"""Retention: an expiry on every document a chat owns, for Firestore's TTL policies.

With ``ChatApp(retention=timedelta(days=30))`` every document the library
writes carries ``expiresAt`` (a Firestore timestamp): the time it was written
plus ``retention``. Firestore's TTL policies (``firestore.indexes.json``
``fieldOverrides`` with ``"ttl": true``, one per collection group in
``TTL_COLLECTION_GROUPS``) delete a document some time after it expires
(Google: typically within 24 hours).

"Moved forward at each turn": every commit writes the chat document, so the
chat's expiry moves forward at every post, run step, resume and close; each
message, run, context and continuation gets its own expiry when it is written
(rewriting every old message at each turn would cost O(messages) writes per
turn and break the 500-writes-per-commit limit). What it means:

- a chat nobody touched for ``retention`` is deleted with everything under it
  (all its documents were written at or before its last commit);
- a chat in use longer than ``retention`` loses, one by one, the documents
  not written for ``retention``: old messages and runs, and the engine context
  of an assistant idle that long (the assistant then starts afresh).

A suspended call waits at most ``retention``: its continuation record expires
with it (choose a retention longer than your slowest continuation).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

EXPIRES_AT = "expiresAt"
"""The TTL field of every document a chat owns."""

TTL_COLLECTION_GROUPS = ("messages", "runs", "contexts", "continuations")
"""The collection groups under a chat; the chats' own collection (``chats`` unless the app names
another) and the app's own collections under a chat (the example's ``completions``) come on top."""


def expiry(retention: timedelta | None, now: datetime) -> dict[str, Any]:
    """The ``expiresAt`` field of a document written at ``now`` (nothing when retention is off)."""
    return {EXPIRES_AT: now + retention} if retention is not None else {}


def ttl_field_overrides(collection_groups: tuple[str, ...]) -> list[dict[str, Any]]:
    """The ``fieldOverrides`` entries of ``firestore.indexes.json`` for these collection groups: a
    TTL policy on ``expiresAt``, and no index on it (a timestamp that only grows would limit the
    collection's writes to about 500 per second; nothing queries it)."""
    return [
        {"collectionGroup": group, "fieldPath": EXPIRES_AT, "ttl": True, "indexes": []} for group in collection_groups
    ]
