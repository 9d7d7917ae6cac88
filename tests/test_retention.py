"""Retention: ``expiresAt`` on every document a chat owns, and the TTL policies that delete them.

The emulator does not run TTL policies, so the tests check the field on every kind of document (in
memory, and through the emulators with the calculator, which keeps chats 30 days) and the policies
declared in ``firestore.indexes.json`` (parsed, and validated by firebase-tools' own code).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crew import HALF, PHRASES, Crew
from google.cloud import firestore
from support import ChatWatcher, count

from firebase_ai_chat import RunHooks
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.models import ChatState
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.store.retention import EXPIRES_AT, TTL_COLLECTION_GROUPS
from firebase_ai_chat.testing import EmulatorClient, InMemoryChatStore, User
from firebase_ai_chat.testing.streamed import Streamed

ROOT = Path(__file__).resolve().parent.parent
WEEK = timedelta(days=7)
CALCULATOR_RETENTION = timedelta(days=30)


def kind(path: str) -> str:
    """``chat`` for the chat document, else the collection under it (``messages``, ``runs``, …)."""
    parts = path.split("/")
    return "chat" if len(parts) == 1 else parts[1]


def memory_crew(retention: timedelta | None) -> tuple[Crew, InMemoryChatStore]:
    store = InMemoryChatStore(retention=retention)
    return Crew(store, "user-retention", store.all_messages), store


def play_every_kind(crew: Crew) -> str:
    """A chat with messages, runs, a continuation and two assistants' contexts."""
    chat_id = crew.start("add 1 and multiply by 2")
    crew.drain()
    assert crew.resume(0) is True
    crew.drain()
    crew.chat.hand_over(user_id=crew.user_id, chat_id=chat_id, assistant=HALF, messages=["halve"])
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 1}
    return chat_id


def test_every_document_a_chat_owns_expires_a_retention_after_it_was_written() -> None:
    crew, store = memory_crew(WEEK)
    chat_id = play_every_kind(crew)
    documents = store.documents_now(chat_id)
    assert {kind(path) for path in documents} == {"chat", "messages", "runs", "contexts", "continuations"}
    chat = documents[chat_id]
    assert chat[EXPIRES_AT] == chat["updatedAt"] + WEEK, "the chat expires a retention after its last commit"
    for path, document in documents.items():
        assert EXPIRES_AT in document, f"{path} has no expiry"
        assert document[EXPIRES_AT] <= chat[EXPIRES_AT], f"{path} outlives its chat"
        if kind(path) == "messages":
            assert document[EXPIRES_AT] == document["createdAt"] + WEEK
    count("documents with an expiry", len(documents))


def test_the_chats_expiry_moves_forward_at_each_turn_and_old_messages_keep_theirs() -> None:
    crew, store = memory_crew(WEEK)
    chat_id = crew.start("add 1")
    crew.drain()
    first = store.documents_now(chat_id)
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["add 2"])
    crew.drain()
    second = store.documents_now(chat_id)
    assert second[chat_id][EXPIRES_AT] > first[chat_id][EXPIRES_AT]
    old_messages = [path for path in first if kind(path) == "messages"]
    assert old_messages and all(second[path][EXPIRES_AT] == first[path][EXPIRES_AT] for path in old_messages)
    new_messages = [path for path in second if kind(path) == "messages" and path not in first]
    assert new_messages and all(second[path][EXPIRES_AT] > first[chat_id][EXPIRES_AT] for path in new_messages)


def test_without_retention_no_document_expires() -> None:
    crew, store = memory_crew(None)
    chat_id = play_every_kind(crew)
    assert not [path for path, document in store.documents_now(chat_id).items() if EXPIRES_AT in document]


class PartialSeen(RunHooks):
    """Reads the streamed partial message as it is stored, right after it is written."""

    def __init__(self, read: Callable[[], dict[str, Any] | None]) -> None:
        self._read = read
        self.seen: list[dict[str, Any]] = []

    def mid_stream(self, chat: ChatState) -> None:
        found = self._read()
        if found is not None:
            self.seen.append(found)


@pytest.mark.parametrize("where", ["memory", "firestore"])
def test_a_partial_streamed_message_expires_too(where: str, request: pytest.FixtureRequest) -> None:
    memory = InMemoryChatStore(retention=WEEK)
    store: Any = memory
    if where == "firestore":
        db: firestore.Client = request.getfixturevalue("db")
        store = FirestoreChatStore(db, collection="crew_chats", retention=WEEK)
    ids: list[str] = []

    def partial() -> dict[str, Any] | None:
        chat_id = ids[0]
        if isinstance(store, InMemoryChatStore):
            found = [d for p, d in store.documents_now(chat_id).items() if kind(p) == "messages" and d.get("streaming")]
            return found[0] if found else None
        query = db.collection(f"crew_chats/{chat_id}/messages").where(
            filter=firestore.FieldFilter("streaming", "==", True)
        )
        return next((snapshot.to_dict() for snapshot in query.stream()), None)

    hook = PartialSeen(partial)
    crew = Crew(
        store,
        "user-stream",
        lambda chat_id: [],  # messages are read by the hook
        engine=Streamed(OfflineEngine(PHRASES)),
        hooks=[hook],
        stream_interval=0,
    )
    ids.append(crew.start("hello there"))
    crew.drain()
    assert hook.seen, "no partial message was seen"
    assert all(isinstance(seen.get(EXPIRES_AT), datetime) for seen in hook.seen)


def ttl_policies() -> dict[str, dict[str, Any]]:
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    return {o["collectionGroup"]: o for o in overrides if o["fieldPath"] == EXPIRES_AT}


def test_firestore_indexes_declare_a_ttl_policy_for_every_collection_group_of_a_chat() -> None:
    policies = ttl_policies()
    assert set(policies) == {"chats", *TTL_COLLECTION_GROUPS, "completions"}
    for group, policy in policies.items():
        assert policy["ttl"] is True, group
        assert policy["indexes"] == [], f"{group}.expiresAt should not be indexed (a growing timestamp)"


def test_firebase_tools_accepts_the_indexes_file() -> None:
    script = (
        "const {FirestoreApi} = require('./node_modules/firebase-tools/lib/firestore/api.js');"
        "const api = new FirestoreApi();"
        "const spec = api.upgradeOldSpec(require('./firestore.indexes.json'));"
        "api.validateSpec(spec);"
        "process.stdout.write(JSON.stringify(spec.fieldOverrides.filter(f => f.ttl).length));"
    )
    result = subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(ttl_policies())


def every_document(db: firestore.Client, chat: firestore.DocumentReference) -> dict[str, dict[str, Any]]:
    """The chat and every document in its sub-collections, by path relative to ``chats``."""
    found = {chat.id: chat.get().to_dict() or {}}
    for collection in chat.collections():
        for snapshot in collection.stream():
            found[f"{chat.id}/{collection.id}/{snapshot.id}"] = snapshot.to_dict() or {}
    return found


def test_the_calculator_stamps_every_document_with_its_retention(
    client: EmulatorClient, user: User, watch: Callable[[str, str], ChatWatcher], db: firestore.Client
) -> None:
    before = datetime.now(UTC)
    chat = client.call("calculate", {"message": "add 5 and multiply by 3"}, user=user)["chatDocument"]
    watcher = watch(chat, user.uid)
    watcher.wait_answered("add 5 and multiply by 3")
    client.call("postToCalculate", {"chatDocument": chat, "message": "divide by 5"}, user=user)
    watcher.wait_answered("divide by 5")
    after = datetime.now(UTC)
    documents = every_document(db, db.document(chat))
    kinds = {kind(path) for path in documents}
    assert kinds == {"chat", "messages", "runs", "contexts", "continuations", "completions"}
    assert kinds - {"chat"} <= set(ttl_policies()), "a collection under a chat has no TTL policy"
    for path, document in documents.items():
        expires = document.get(EXPIRES_AT)
        assert isinstance(expires, datetime), f"{path} has no expiry timestamp"
        assert before + CALCULATOR_RETENTION <= expires <= after + CALCULATOR_RETENTION, path
    count("documents with an expiry", len(documents))
