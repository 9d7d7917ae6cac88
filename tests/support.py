"""What the tests share besides fixtures: running calls at once, waiting for a condition, a listener
on a chat and its messages (``ChatWatcher``), a fingerprint of what is stored, and the counters the
reliability suite writes to ``docs/RELIABILITY.md``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pytest
from fake_gemini import FakeGemini
from fake_openai import FakeOpenAI
from google.cloud import firestore

E = TypeVar("E", bound=Exception)
FakeModel = FakeOpenAI | FakeGemini
"""A local fake model server: both take the same ``Fault``s and have ``requests``, ``stream_delay``,
``hold_after``/``release``."""


def at_once(calls: Sequence[Callable[[], Any]], refused: type[E]) -> tuple[list[Any], list[E]]:
    """Run ``calls`` in threads released together: the results of those that returned, and the
    ``refused`` errors of the others (any other exception fails the test)."""
    results: list[Any] = []
    errors: list[E] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results.append(call())
        except refused as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def wait_until(predicate: Callable[[], Any], *, timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


class ChatWatcher:
    """Listens to a chat document and its messages (``where userId == uid`` ordered by ``createdAt``)."""

    def __init__(self, db: firestore.Client, chat_document: str, uid: str) -> None:
        self._lock = threading.Lock()
        self.chat_document = chat_document
        self.statuses: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {}
        self.rereads = 0
        self._heard = time.monotonic()
        self._chat = db.document(chat_document)
        self._messages = (
            self._chat.collection("messages")
            .where(filter=firestore.FieldFilter("userId", "==", uid))
            .order_by("createdAt")
            .order_by("inBatchSortIndex")
        )
        self._watches = [self._chat.on_snapshot(self._on_chat), self._messages.on_snapshot(self._on_messages)]

    def reread_if_quiet(self, quiet: float = 3.0) -> None:
        """Read the chat and its messages directly when the listeners have said nothing for ``quiet`` s.

        Under load the Firestore emulator has sent a listener a corrupt frame ("Wire format was
        corrupt", docs/EMULATORS.md); the Python client's watch then stops for good and a test waited
        out its timeout although the chat had long moved on."""
        if time.monotonic() - self._heard < quiet:
            return
        state = self._chat.get().to_dict() or {}
        messages = [snapshot.to_dict() for snapshot in self._messages.get()]
        with self._lock:
            self.rereads += 1
            self._heard = time.monotonic()
            if state:
                self._on_chat_state(state)
            self.messages = messages

    def _on_chat_state(self, state: dict[str, Any]) -> None:
        self.state = state
        if not self.statuses or self.statuses[-1] != state["status"]:
            self.statuses.append(state["status"])

    def _on_chat(self, snapshots: list[Any], *_: Any) -> None:
        with self._lock:
            self._heard = time.monotonic()
            for snapshot in snapshots:
                if snapshot.exists:
                    self._on_chat_state(snapshot.to_dict())

    def _on_messages(self, snapshots: list[Any], *_: Any) -> None:
        with self._lock:
            self._heard = time.monotonic()
            self.messages = [snapshot.to_dict() for snapshot in snapshots]
            self.versions.extend(self.messages)

    def wait_for_status(self, status: str, *, timeout: float = 60) -> dict[str, Any]:
        """Wait until the chat has ``status``; return its document."""

        def reached() -> dict[str, Any] | None:
            self.reread_if_quiet()
            return self.state if self.state.get("status") == status else None

        return wait_until(
            reached,
            timeout=timeout,
            what=f"status {status} (seen {self.statuses})",
        )

    def wait_for_messages(self, count: int, *, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until at least ``count`` messages are listed and none is still streaming; return them."""

        def settled() -> list[dict[str, Any]] | None:
            self.reread_if_quiet()
            with self._lock:
                messages = list(self.messages)
            done = len(messages) >= count and not any(m.get("streaming") for m in messages)
            return messages if done else None

        return wait_until(settled, timeout=timeout, what=f"{count} settled messages (have {len(self.messages)})")

    def wait_answered(self, text: str, *, timeout: float = 60) -> dict[str, Any]:
        """Wait until the run that answers the user message ``text`` is over; return the chat document."""

        def answered() -> dict[str, Any] | None:
            self.reread_if_quiet()
            with self._lock:
                dispatches = [m["dispatchId"] for m in self.messages if m["author"] == "user" and m["text"] == text]
                state = dict(self.state)
                if any(m.get("streaming") for m in self.messages):
                    return None
                answered = any(
                    m["author"] == "ai" and m["dispatchId"] == state.get("latestDispatchId") for m in self.messages
                )
            if not dispatches or state.get("latestDispatchId") != dispatches[-1]:
                return None
            if state.get("status") == "failed":
                return state
            return state if answered and state.get("status") in ("userInput", "complete") else None

        return wait_until(answered, timeout=timeout, what=f"the answer to {text!r} (statuses {self.statuses})")

    def ai_texts(self) -> list[str]:
        """The paragraphs of the AI messages so far, in order.

        Paragraphs, not messages: the Responses API may answer with several messages where Chat
        Completions answers one message of several paragraphs; the user reads the same text.
        """
        with self._lock:
            return [p for m in self.messages if m["author"] == "ai" for p in m["text"].split("\n\n")]

    def wait_for_ai_texts(self, count: int, *, timeout: float = 60) -> list[str]:
        """Wait until at least ``count`` AI paragraphs are there and nothing is streaming; return them."""

        def settled() -> list[str] | None:
            self.reread_if_quiet()
            with self._lock:
                streaming = any(m.get("streaming") for m in self.messages)
            texts = self.ai_texts()
            return texts if len(texts) >= count and not streaming else None

        return wait_until(settled, timeout=timeout, what=f"{count} AI paragraphs (have {self.ai_texts()})")

    def close(self) -> None:
        """Stop listening."""
        for watch in self._watches:
            watch.unsubscribe()


def database_fingerprint(db: firestore.Client, *uids: str) -> list[tuple[str, Any]]:
    """Every chat and message of these users with its update time: equal fingerprints mean nothing was written."""
    documents: list[Any] = []
    for uid in uids:
        by_user = firestore.FieldFilter("userId", "==", uid)
        documents += db.collection("chats").where(filter=by_user).stream()
        documents += db.collection_group("messages").where(filter=by_user).stream()
    return sorted((snapshot.reference.path, snapshot.update_time) for snapshot in documents)


RELIABILITY: dict[str, int] = {}
"""Counters the reliability suite adds to; written to docs/RELIABILITY.md at the end of a passing run."""


def count(key: str, amount: int = 1) -> None:
    """Add ``amount`` to the reliability counter ``key``."""
    RELIABILITY[key] = RELIABILITY.get(key, 0) + amount
