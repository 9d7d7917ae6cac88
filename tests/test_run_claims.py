"""A run never loses to posts for good (``claims.py``), on every store.

``PostInEveryWindow`` lands a real post between every read and commit of the run, as a client
posting back to back does under load: the run's commits keep conflicting until it claims the chat;
posts then wait for its commit (a post that sees the claim is not injected, as a real one would
wait). The run finishes, and every post is answered by the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crew import Crew
from support import count

from firebase_ai_chat.front.chat import AssistantChat
from firebase_ai_chat.store.documents import ChatWrite, Loaded
from firebase_ai_chat.store.port import ChatStore
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue


class PostInEveryWindow:
    """A store on which a post commits just before each commit of a run (unless the run holds the chat)."""

    def __init__(self, store: ChatStore, user_id: Callable[[], str]) -> None:
        self._store = store
        self._user_id = user_id
        self._front = AssistantChat(store=store, queue=InMemoryTaskQueue())
        self.posted = 0
        self.budget = 40
        """Posts to make in all (more than a commit's attempts), then the chat settles."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        by_a_run = any(path.startswith("runs/") for path in write.records)
        chat = self._store.load(base.chat_id).state
        if by_a_run and chat is not None and chat.run_claim is None and self.posted < self.budget:
            self._front.post_message(user_id=self._user_id(), chat_id=base.chat_id, messages=["add 1"])
            self.posted += 1
        return self._store.commit(base, write)


def test_a_run_whose_every_commit_races_a_post_finishes_and_every_post_is_answered(
    make_crew: Callable[..., Crew],
) -> None:
    wrappers: list[PostInEveryWindow] = []

    def wrap(store: ChatStore) -> PostInEveryWindow:
        wrappers.append(PostInEveryWindow(store, lambda: crew.user_id))
        return wrappers[-1]

    crew = make_crew(wrap=wrap)
    (storm,) = wrappers
    chat_id = crew.start("add 1, add 1")
    crew.drain()
    state = crew.state(chat_id)
    assert state["status"] == "userInput"
    assert "runClaim" not in state, "the run's commit leaves the claim in place"
    assert storm.posted == storm.budget, "the posts did not race the runs"
    assert state["data"] == {"sum": 2 + storm.posted}
    users = [m for m in crew.messages(chat_id) if m.author == "user"]
    assert len(users) == 1 + storm.posted
    count("runs that claimed their chat from a stream of posts")


def test_a_post_waits_for_a_claim_only_so_long_then_clears_it() -> None:
    store = InMemoryChatStore()
    crew = Crew(store, "u1", store.all_messages)
    chat_id = crew.start("add 1")
    state = store.chat_now(chat_id)
    assert state is not None
    from firebase_ai_chat.store.claims import new_claim

    store.claim(chat_id, new_claim(state.latest_dispatch_id))  # its run died right after claiming
    front = AssistantChat(store=store, queue=crew.queue, claim_patience=0.2)
    front.post_message(user_id="u1", chat_id=chat_id, messages=["add 2"])
    after = store.chat_now(chat_id)
    assert after is not None and after.run_claim is None and after.next_dispatch_id is not None
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 3}
