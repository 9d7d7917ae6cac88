"""A live demo conversation, run as a client app would run it.

Signs a user in on the Auth emulator, calls the callables, listens to the chat
document and its messages with Firestore listeners and prints status changes
and messages as they arrive. It shows a tool call, a data reduction, a
suspended tool resumed by another function, a hand-over to the divider and a
hand-back. Run it with ``./emulator/exec -- python demo/chat.py``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from google.cloud import firestore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
from firebase_ai_chat.testing import EmulatorClient

SCRIPT = [
    "add 5",  # a tool call that reduces the data
    "what is the sum?",  # a tool value sent to the model
    "multiply by 3",  # a tool that suspends; the `multiplier` function resumes it
    "divide by 2",  # the calculator hands the chat over to the divider
    "hand back",  # the divider hands it back
    "subtract 1.5",
]
IDLE = ("userInput", "complete", "failed")


class Printer:
    """Prints chat status changes and new messages from listener callbacks."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.seen: set[str] = set()
        self.dispatch_of: dict[str, str] = {}
        self.chat_read_time: Any = None
        self.messages_read_time: Any = None
        self.changed = threading.Condition()

    def on_chat(self, snapshots: list[Any], _changes: Any, read_time: Any) -> None:
        for snapshot in snapshots:
            state = snapshot.to_dict() or {}
            with self.changed:
                self.chat_read_time = read_time
                before = self.state
                self.state = state
                assistant = state.get("config", {}).get("assistantId")
                if (state.get("status"), assistant) != (
                    before.get("status"),
                    before.get("config", {}).get("assistantId"),
                ):
                    print(f"  [status] {state.get('status'):<10} assistant={assistant} data={state.get('data')}")
                self.changed.notify_all()

    def on_messages(self, snapshots: list[Any], _changes: Any, read_time: Any) -> None:
        with self.changed:
            self.messages_read_time = read_time
            for snapshot in snapshots:
                if snapshot.id in self.seen:
                    continue
                self.seen.add(snapshot.id)
                message = snapshot.to_dict()
                if message["author"] == "user":
                    self.dispatch_of[message["text"]] = message["dispatchId"]
                else:
                    name = (message.get("meta") or {}).get("name", "ai")
                    print(f"  [{name}] {message['text']}", flush=True)
            self.changed.notify_all()

    def wait_answered(self, text: str, timeout: float = 60) -> None:
        """Wait until the run answering ``text`` is over."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not (
                self.dispatch_of.get(text) == self.state.get("latestDispatchId")
                and self.state.get("status") in IDLE
                and self.messages_read_time >= self.chat_read_time  # the messages listener caught up
            ):
                if not self.changed.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"no answer to {text!r} (chat is {self.state.get('status')})")


def main() -> int:
    client = EmulatorClient()
    user = client.sign_up()
    engine = "OpenAI Responses" if os.environ.get("OPENAI_API_KEY") else "offline"
    print(f"Signed in as {user.uid} on the Auth emulator; engine: {engine}")

    print(f"> {SCRIPT[0]}")
    started = client.call("calculate", {"message": SCRIPT[0]}, user=user)
    chat = started["chatDocument"]
    print(f"  created {chat}: {started['status']}")

    printer = Printer()
    document = firestore.Client(project=client.project).document(chat)
    watches = [
        document.on_snapshot(printer.on_chat),
        document.collection("messages")
        .where(filter=firestore.FieldFilter("userId", "==", user.uid))
        .order_by("createdAt")
        .order_by("inBatchSortIndex")
        .on_snapshot(printer.on_messages),
    ]
    try:
        printer.wait_answered(SCRIPT[0])
        for text in SCRIPT[1:]:
            print(f"> {text}")
            client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user)
            printer.wait_answered(text)
        closed = client.call("closeCalculate", {"chatDocument": chat}, user=user)
        print(f"Closed: {closed['status']}, final data {closed['data']}")
    finally:
        for watch in watches:
            watch.unsubscribe()
    return 0 if printer.state.get("status") != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
