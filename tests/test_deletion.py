"""Deleting a user's data: every chat with everything under it, live runs stopped, nobody else touched.

The core runs on both stores through the ``crew`` fixture (in memory, then the Firestore emulator in
the test process); ``deleteMyData`` and a large history go through the emulators.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from crew import PHRASES, Crew
from google.cloud import firestore
from support import ChatWatcher, count, database_fingerprint

from firebase_ai_chat import RunHooks
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.models import ChatState
from firebase_ai_chat.store.deletion import delete_user_chats
from firebase_ai_chat.testing import CallableError, EmulatorClient, InMemoryChatStore, User
from firebase_ai_chat.testing.streamed import Streamed

Watch = Callable[[str, str], ChatWatcher]


def left_under(crew: Crew, chat_id: str) -> list[str]:
    """What is left of a chat: its document and anything under it, by path."""
    store: Any = crew.store
    if isinstance(store, InMemoryChatStore):
        return sorted(store.documents_now(chat_id))
    client: firestore.Client = store._client
    chat = client.collection(store.collection).document(chat_id)
    found = [chat.path] if chat.get().exists else []
    for collection in chat.collections():
        found += [snapshot.reference.path for snapshot in collection.stream()]
    return found


def test_every_chat_of_a_user_goes_with_everything_under_it_and_others_stay(
    make_crew: Callable[..., Crew],
) -> None:
    crew, other = make_crew(), make_crew()
    answered = crew.start("add 1 and multiply by 2")  # suspended, then resumed: runs, continuation, messages
    crew.drain()
    assert crew.resume(0) is True
    crew.drain()
    suspended = crew.start("add 3 and multiply by 4")  # still waiting for its continuation
    crew.drain()
    queued = crew.start("add 5")  # its run never started
    theirs = other.start("add 7")
    other.drain()
    deleted = delete_user_chats(crew.store, crew.user_id)
    assert deleted.deleted_chats == 3
    assert deleted.deleted_documents >= 3 + 2 * 4, "chats, messages, runs, a continuation"
    assert [left_under(crew, chat_id) for chat_id in (answered, suspended, queued)] == [[], [], []]
    assert other.state(theirs)["data"] == {"sum": 7}, "another user's chat was touched"
    assert delete_user_chats(crew.store, crew.user_id).deleted_chats == 0, "deleting twice is a no-op"
    count("chats deleted", 3)


def test_what_a_deleted_chat_had_pending_changes_nothing(crew: Crew) -> None:
    chat_id = crew.start("add 3 and multiply by 4")
    first = list(crew.queue.pending)
    crew.drain()
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["add 1"])  # queued behind the suspension
    delete_user_chats(crew.store, crew.user_id)
    assert crew.resume(0) is False, "a suspended call of a deleted chat resumes to False"
    for command in first:  # a late redelivery of the chat's run
        crew.worker.handle(command)
    assert left_under(crew, chat_id) == [], "something was written under the deleted chat"
    count("continuations of deleted chats refused")


class DeleteWhileStreaming(RunHooks):
    """Deletes the user's data as soon as a run other than the first writes a partial answer."""

    def __init__(self) -> None:
        self.crew: Crew | None = None
        self.first_dispatch = ""
        self.done = False

    def mid_stream(self, chat: ChatState) -> None:
        if not self.done and self.crew is not None and chat.latest_dispatch_id != self.first_dispatch:
            self.done = True
            delete_user_chats(self.crew.store, self.crew.user_id)


def test_a_run_in_progress_stops_and_leaves_no_partial_answer(make_crew: Callable[..., Crew]) -> None:
    hook = DeleteWhileStreaming()
    crew = make_crew(engine=Streamed(OfflineEngine(PHRASES), chunks=4), hooks=[hook], stream_interval=0)
    hook.crew = crew
    chat_id = crew.start("hello")
    hook.first_dispatch = crew.queue.pending[0].dispatch_id
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["tell me a story"])
    crew.chat.post_message(user_id=crew.user_id, chat_id=chat_id, messages=["and another one"])
    crew.drain()  # the second run streams two answers: the second partial is created after the deletion
    assert hook.done, "the answer was never streamed"
    assert left_under(crew, chat_id) == [], "the partial answer survived the deletion"
    count("runs stopped by a deletion")


def test_delete_my_data_deletes_the_callers_chats_only(
    client: EmulatorClient, user: User, other_user: User, watch: Watch, db: firestore.Client
) -> None:
    mine = [client.call("calculate", {"message": text}, user=user)["chatDocument"] for text in ("add 5", "add 2")]
    theirs = client.call("calculate", {"message": "add 9"}, user=other_user)["chatDocument"]
    for chat, who in [(chat, user) for chat in mine] + [(theirs, other_user)]:
        watch(chat, who.uid).wait_for_status("userInput")
    for who in (user, other_user):  # usage counters (per-user limits) with a document under them
        db.document(f"chatUsage/{who.uid}").set({"posts": 2})
        db.document(f"chatUsage/{who.uid}/days/2026-11-30").set({"posts": 2})
    before = database_fingerprint(db, other_user.uid)
    deleted = client.call("deleteMyData", {}, user=user)
    assert deleted["deletedChats"] == 2 and deleted["deletedDocuments"] >= 2 * 4 + 2, deleted
    assert [list(db.document(chat).collections()) for chat in mine] == [[], []]
    assert not any(db.document(chat).get().exists for chat in mine)
    assert not db.document(f"chatUsage/{user.uid}").get().exists
    assert not list(db.collection(f"chatUsage/{user.uid}/days").stream())
    assert db.document(f"chatUsage/{other_user.uid}/days/2026-11-30").get().exists
    assert database_fingerprint(db, other_user.uid) == before, "another user's data changed"
    assert client.call("deleteMyData", {}, user=user) == {"deletedChats": 0, "deletedDocuments": 0}
    with pytest.raises(CallableError) as refused:
        client.call("deleteMyData", {}, user=None)
    assert refused.value.status == "UNAUTHENTICATED"
    with pytest.raises(CallableError) as extra:
        client.call("deleteMyData", {"everything": True}, user=user)
    assert extra.value.status == "INVALID_ARGUMENT"
    count("chats deleted", 2)


def seed_history(db: firestore.Client, uid: str, *, chats: int, messages: int) -> list[str]:
    """``chats`` chats of ``messages`` messages (and a run per user message), written directly."""
    writer = db.bulk_writer()
    ids = []
    for number in range(chats):
        chat = db.collection("chats").document()
        ids.append(chat.path)
        writer.set(chat, {"userId": uid, "status": "userInput", "data": {"sum": number}, "config": {}})
        for index in range(messages):
            author = "user" if index % 2 == 0 else "ai"
            message = {"userId": uid, "author": author, "text": f"message {index}", "inBatchSortIndex": 0}
            writer.set(chat.collection("messages").document(f"m{index:04d}"), message)
            if author == "user":
                writer.set(chat.collection("runs").document(f"r{index:04d}"), {"dispatchId": f"r{index:04d}"})
    writer.close()
    return ids


def test_a_large_history_is_deleted_within_the_callables_time_limit(
    client: EmulatorClient, user: User, db: firestore.Client
) -> None:
    chats = seed_history(db, user.uid, chats=50, messages=200)
    started = time.monotonic()
    result = client.call("deleteMyData", {}, user=user, timeout=540)
    seconds = time.monotonic() - started
    assert result == {"deletedChats": 50, "deletedDocuments": 50 * (1 + 200 + 100)}
    assert not any(db.document(chat).get().exists for chat in chats[:5])
    mine = db.collection_group("messages").where(filter=firestore.FieldFilter("userId", "==", user.uid))
    assert not list(mine.limit(1).stream())
    print(f"deleteMyData: 50 chats of 200 messages (15 050 documents) in {seconds:.1f} s")
    count("documents deleted in one call", result["deletedDocuments"])
