"""The calculator's per-user limits through the emulators: callables → Firestore → Cloud Tasks → worker.

``tests/run`` writes ``tests/limits.env`` into ``functions/.env.local`` (guests: 10 posts and 3000
tokens a day; signed-in users: 200 posts and a million tokens). Each test uses fresh users.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore
from support import ChatWatcher, at_once, count

from firebase_ai_chat.testing import CallableError, EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]
SETTINGS = dict(
    line.split("=", 1) for line in (Path(__file__).parent / "limits.env").read_text().splitlines() if "=" in line
)
GUEST_POSTS = int(SETTINGS["GUEST_DAILY_POSTS"])
TOKENS_SPENT = "You have used your daily allowance of tokens. It resets at 00:00 UTC, in "


def usage_of(client: EmulatorClient, user: User) -> dict[str, Any]:
    """The user's usage document, read as the user (the rules let the owner read it)."""
    response = client.rest_get(f"chatUsage/{user.uid}", user=user)
    assert response.status_code == 200, response.text
    fields = response.json()["fields"]
    return _plain({"mapValue": {"fields": fields}})


def _plain(value: dict[str, Any]) -> Any:
    """A Firestore REST value as plain Python."""
    if "mapValue" in value:
        return {k: _plain(v) for k, v in value["mapValue"].get("fields", {}).items()}
    if "integerValue" in value:
        return int(value["integerValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    return next(iter(value.values()))


def today(usage: dict[str, Any]) -> dict[str, Any]:
    (tally,) = usage["days"].values()
    return tally


def configured(client: EmulatorClient, guest: User) -> int:
    """The guest post limit the functions run with (fails clearly if it is not the one tests/run sets)."""
    limits = usage_of(client, guest)["limits"]
    assert limits["day"]["posts"] == GUEST_POSTS, "run under tests/run (it writes tests/limits.env)"
    return GUEST_POSTS


def test_a_guests_posts_at_once_are_accepted_exactly_up_to_the_limit(
    client: EmulatorClient, db: firestore.Client
) -> None:
    guest = client.sign_in_anonymously()
    first = client.call("calculate", {"message": "add 1"}, user=guest)["chatDocument"]
    limit = configured(client, guest)
    calls = [
        lambda i=i: client.call("postToCalculate", {"chatDocument": first, "message": f"add {i}"}, user=guest)
        for i in range(2, 2 + limit)
    ] + [lambda i=i: client.call("calculate", {"message": f"add {i}"}, user=guest) for i in range(limit)]
    results, errors = at_once(calls, CallableError)
    assert len(results) == limit - 1 and len(errors) == limit + 1
    for error in errors:
        assert error.status == "RESOURCE_EXHAUSTED" and error.http_status == 429
        assert error.message.startswith(f"You have reached your daily limit of {limit} messages. It resets at 00:00")
    mine = db.collection("chats").where(filter=firestore.FieldFilter("userId", "==", guest.uid)).stream()
    chats = [snapshot.reference for snapshot in mine]
    users = firestore.FieldFilter("author", "==", "user")
    stored = sum(len(list(chat.collection("messages").where(filter=users).stream())) for chat in chats)
    assert stored == limit, "a refused post was stored"
    tally = today(usage_of(client, guest))
    assert tally["posts"] == limit and tally["chats"] == len(chats)
    count("posts over a limit refused (nothing stored)", len(errors))


def test_tiers_guest_user_and_plan_claim_and_users_count_apart(client: EmulatorClient) -> None:
    guest, other_guest = client.sign_in_anonymously(), client.sign_in_anonymously()
    for index in range(GUEST_POSTS):
        client.call("calculate", {"message": f"add {index}"}, user=guest)
    with pytest.raises(CallableError) as refused:
        client.call("calculate", {"message": "one more"}, user=guest)
    assert refused.value.status == "RESOURCE_EXHAUSTED"
    client.call("calculate", {"message": "add 1"}, user=other_guest)  # another guest is not refused
    member = client.sign_up()
    for index in range(GUEST_POSTS + 1):
        client.call("calculate", {"message": f"add {index}"}, user=member)
    pro = client.with_claims(client.sign_up(), {"plan": "pro"})
    client.call("calculate", {"message": "add 1"}, user=pro)
    tiers = {name: usage_of(client, who)["limits"] for name, who in (("guest", guest), ("user", member), ("pro", pro))}
    assert {name: limits["tier"] for name, limits in tiers.items()} == {"guest": "guest", "user": "user", "pro": "pro"}
    assert tiers["user"]["day"]["posts"] == int(SETTINGS["USER_DAILY_POSTS"]) > GUEST_POSTS
    assert "posts" not in tiers["pro"]["day"] and tiers["pro"]["day"]["tokens"] == 10 * int(
        SETTINGS["USER_DAILY_TOKENS"]
    )
    assert today(usage_of(client, member))["posts"] == GUEST_POSTS + 1
    assert today(usage_of(client, other_guest))["posts"] == 1


@pytest.mark.engine
def test_a_run_crossing_the_token_limit_ends_its_turn_and_keeps_the_users_words(
    client: EmulatorClient, watch: Watch
) -> None:
    guest = client.sign_in_anonymously()

    def long(post: int) -> str:  # about 1000 tokens: the guests' 3000 run out within a few posts
        return f"add 1, {'x' * 3900} {post}"

    chat = client.call("calculate", {"message": long(1)}, user=guest)["chatDocument"]
    watcher = watch(chat, guest.uid)
    posts, state = 1, watcher.wait_answered(long(1))
    while not watcher.ai_texts()[-1].startswith(TOKENS_SPENT) and posts < 5:
        posts += 1
        client.call("postToCalculate", {"chatDocument": chat, "message": long(posts)}, user=guest)
        state = watcher.wait_answered(long(posts))
    assert watcher.ai_texts()[-1].startswith(TOKENS_SPENT), watcher.ai_texts()
    count("turns ended by a token limit (the user's words kept)")
    assert state["status"] == "userInput"
    assert state["data"] == {"sum": posts}, "the tool of the model call that crossed the limit ran"
    assert [m["text"] for m in watcher.messages if m["author"] == "user"] == [long(n) for n in range(1, posts + 1)]
    usage = today(usage_of(client, guest))
    assert usage["tokens"] >= int(SETTINGS["GUEST_DAILY_TOKENS"])
    with pytest.raises(CallableError) as refused:
        client.call("postToCalculate", {"chatDocument": chat, "message": "add 2"}, user=guest)
    assert refused.value.status == "RESOURCE_EXHAUSTED" and refused.value.message.startswith(TOKENS_SPENT)
