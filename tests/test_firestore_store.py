"""The Firestore adapter when a commit's outcome is unknown: the emulator answers ``CANCELLED`` to a
commit it applied when a listener of the chat closes meanwhile (docs/EMULATORS.md). The client here
is the real one on the emulator; only its batches' ``commit`` is wrapped to give that answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import firestore

from firebase_ai_chat import AssistantChat
from firebase_ai_chat.limits import Allowance, Limits
from firebase_ai_chat.models import AssistantConfig
from firebase_ai_chat.store.firestore import FirestoreChatStore
from firebase_ai_chat.testing import InMemoryTaskQueue
from firebase_ai_chat.usage import Gate

CALC = AssistantConfig(engine="offline", assistant_id="calc", dispatcher_id="calc")


class CancellingClient:
    """The emulator's client whose next batch commit is answered ``CANCELLED``, applied or not."""

    def __init__(self, db: firestore.Client) -> None:
        self._db = db
        self.cancel_next: bool | None = None  # True: apply, then cancel; False: cancel without applying

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def batch(self) -> Any:
        batch = self._db.batch()
        commit, apply = batch.commit, self.cancel_next
        if apply is None:
            return batch

        def cancelled(*args: Any, **kwargs: Any) -> Any:
            self.cancel_next = None
            if apply:
                commit(*args, **kwargs)
            raise exceptions.Cancelled("call already cancelled")

        batch.commit = cancelled
        return batch


@pytest.mark.parametrize("limited", [False, True], ids=["no limits", "limits"])
@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not applied"])
def test_a_post_answered_cancelled_is_stored_and_counted_once(
    db: firestore.Client, applied: bool, limited: bool
) -> None:
    client = CancellingClient(db)
    store = FirestoreChatStore(client, collection="crew_chats")  # type: ignore[arg-type]
    chat = AssistantChat(store=store, queue=InMemoryTaskQueue(), gate=Gate("crew_usage") if limited else None)
    limits = Limits(day=Allowance(posts=100)) if limited else None
    user = f"user-{uuid.uuid4().hex[:8]}"
    started = chat.create(user_id=user, assistant=CALC, data={}, messages=["one"], limits=limits)
    chat_id = started.chat_document.split("/")[1]

    client.cancel_next = applied
    posted = chat.post_message(user_id=user, chat_id=chat_id, messages=["two"], limits=limits)

    assert client.cancel_next is None, "the commit was not answered CANCELLED"
    assert posted.status == "processing"
    texts = sorted(m.to_dict()["text"] for m in db.collection(f"crew_chats/{chat_id}/messages").stream())
    assert texts == ["one", "two"]
    if limited:
        days = (db.document(f"crew_usage/{user}").get().to_dict() or {})["days"]
        assert [tally["posts"] for tally in days.values()] == [2]
