"""Sustained posting through the emulators: clients post ``add 1`` to one chat as fast as they can.

Whatever the rate, the worker keeps making progress, the chat never fails, and every post the
callable accepted is applied exactly once (the calculator's sum equals the accepted posts), with
the per-user limits off (a ``pro`` user has no post limit) and on (a signed-in user may post
``USER_DAILY_POSTS`` a day: the posts past it are refused, ``resource-exhausted``, and stored
nowhere). ``tests/run`` runs these alone, after the first pass (marker ``storm``), so that the
load they make is the only load on the stack.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore
from support import count, wait_until

from firebase_ai_chat.testing import CallableError, EmulatorClient, User

pytestmark = pytest.mark.storm

SETTINGS = dict(
    line.split("=", 1) for line in (Path(__file__).parent / "limits.env").read_text().splitlines() if "=" in line
)
USER_POSTS = int(SETTINGS["USER_DAILY_POSTS"])
REFUSALS = {"RESOURCE_EXHAUSTED", "UNAVAILABLE"}
"""What a post may be told under this load: over the limit, or busy (nothing stored, the client may retry)."""


@dataclass
class Tally:
    """What the posting clients were told."""

    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str | None) -> None:
        with self.lock:
            if outcome is None:
                self.accepted += 1
            else:
                self.refused[outcome] += 1


def post_back_to_back(client: EmulatorClient, user: User, chat: str, until: float, tally: Tally) -> None:
    """One client: post ``add 1``, and again as soon as the answer is there, until ``until``."""
    while time.monotonic() < until:
        try:
            client.call("postToCalculate", {"chatDocument": chat, "message": "add 1"}, user=user)
        except CallableError as error:
            tally.add(f"{error.status}: {error.message}")
        else:
            tally.add(None)


def storm(client: EmulatorClient, user: User, *, clients: int, seconds: float) -> tuple[str, Tally]:
    """A chat started with ``add 1``, then ``clients`` clients posting to it for ``seconds``."""
    chat = client.call("calculate", {"message": "add 1"}, user=user)["chatDocument"]
    tally = Tally(accepted=1)
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=post_back_to_back, args=(client, user, chat, until, tally)) for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return chat, tally


def settled(db: firestore.Client, chat: str) -> dict[str, Any]:
    """The chat once every accepted post is answered (it waits for the user, nothing queued)."""

    def answered() -> dict[str, Any] | None:
        state = db.document(chat).get().to_dict() or {}
        assert state.get("status") != "failed", f"the chat failed under load: {state.get('error')}"
        done = state.get("status") == "userInput" and not state.get("nextDispatchId")
        return state if done else None

    settled_state: dict[str, Any] = wait_until(answered, timeout=180, what="every accepted post answered")
    return settled_state


def check_every_post_applied(db: firestore.Client, chat: str, tally: Tally) -> None:
    unexpected = {outcome: n for outcome, n in tally.refused.items() if outcome.split(":")[0] not in REFUSALS}
    assert unexpected == {}, f"posts refused for another reason: {unexpected}"
    state = settled(db, chat)
    mine = firestore.FieldFilter("author", "==", "user")
    users = [m.to_dict() for m in db.collection(f"{chat}/messages").where(filter=mine).stream()]
    assert len(users) == tally.accepted, "an accepted post was lost or duplicated"
    assert state["data"]["sum"] == tally.accepted, "an accepted add 1 was not applied exactly once"
    print(f"{chat}: {tally.accepted} accepted, refused: {dict(tally.refused)}")
    count("posts accepted under sustained load", tally.accepted)
    count("posts refused under sustained load", sum(tally.refused.values()))


def pro_user(client: EmulatorClient) -> User:
    """A user with no post limit (the calculator's ``pro`` plan)."""
    return client.with_claims(client.sign_up(), {"plan": "pro"})


def test_one_client_posting_back_to_back_for_30_s_without_limits(client: EmulatorClient, db: firestore.Client) -> None:
    chat, tally = storm(client, pro_user(client), clients=1, seconds=30)
    assert tally.accepted > USER_POSTS, f"too few posts to load the chat: {tally}"
    check_every_post_applied(db, chat, tally)


def test_eight_clients_posting_for_60_s_without_limits(client: EmulatorClient, db: firestore.Client) -> None:
    chat, tally = storm(client, pro_user(client), clients=8, seconds=60)
    assert tally.accepted > USER_POSTS, f"too few posts to load the chat: {tally}"
    check_every_post_applied(db, chat, tally)


def test_one_client_posting_back_to_back_for_30_s_up_to_the_daily_limit(
    client: EmulatorClient, db: firestore.Client
) -> None:
    chat, tally = storm(client, client.sign_up(), clients=1, seconds=30)
    assert tally.accepted == USER_POSTS, f"the limit let {tally.accepted} posts in: {tally}"
    check_every_post_applied(db, chat, tally)


def test_eight_clients_posting_for_60_s_up_to_the_daily_limit(client: EmulatorClient, db: firestore.Client) -> None:
    chat, tally = storm(client, client.sign_up(), clients=8, seconds=60)
    assert tally.accepted == USER_POSTS, f"the limit let {tally.accepted} posts in: {tally}"
    check_every_post_applied(db, chat, tally)
