"""``firestore.indexes.json`` declares no hot index of the design's own.

Firestore documents a limit of about 500 writes per second to a collection whose documents hold
sequential values in an indexed field. Every commit writes ``chats/{id}.updatedAt`` (and a new chat
``createdAt``), so in the root ``chats`` collection those fields are exempt from single-field
indexing, and no composite index puts a low-cardinality field before one of them. The documented
queries keep theirs: a user's chats by ``updatedAt`` (the prefix is the user) and a user's messages
of one chat (a sub-collection per chat: its own collection).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL = {"chats": {"createdAt", "updatedAt", "expiresAt"}}
"""Root collections of the design and their fields that grow with time."""
LOW_CARDINALITY = {"status", "author", "streaming", "stopped", "singleRun"}


def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "firestore.indexes.json").read_text())
    return loaded


def test_the_sequential_fields_of_the_root_chats_collection_are_not_indexed() -> None:
    exempt = {
        (override["collectionGroup"], override["fieldPath"])
        for override in spec()["fieldOverrides"]
        if override.get("indexes") == []
    }
    for collection, fields in SEQUENTIAL.items():
        assert {(collection, field) for field in fields} <= exempt


def test_no_composite_index_puts_a_low_cardinality_field_before_a_sequential_one() -> None:
    for index in spec()["indexes"]:
        sequential = SEQUENTIAL.get(index["collectionGroup"], set())
        paths = [field["fieldPath"] for field in index["fields"]]
        for position, path in enumerate(paths):
            if path in sequential:
                assert not LOW_CARDINALITY & set(paths[:position]), index


def test_the_documented_queries_keep_their_indexes() -> None:
    composite = {
        (index["collectionGroup"], tuple((f["fieldPath"], f["order"]) for f in index["fields"]))
        for index in spec()["indexes"]
    }
    assert ("chats", (("userId", "ASCENDING"), ("updatedAt", "DESCENDING"))) in composite  # a user's chats
    messages = (("userId", "ASCENDING"), ("createdAt", "ASCENDING"), ("inBatchSortIndex", "ASCENDING"))
    assert ("messages", messages) in composite  # a chat's messages, as its owner lists them
