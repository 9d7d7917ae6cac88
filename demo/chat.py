"""A live demo conversation, run as a client app would run it.

Signs a user in on the Auth emulator, calls the callables, listens to the chat
document and its messages with Firestore listeners and prints status changes
and messages as they arrive. Run it with ``./emulator/exec -- python demo/chat.py``.
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

SCRIPT = ["Hello, calculator!", "What can you do?"]


class Printer:
    """Prints chat status changes and new messages from listener callbacks."""

    def __init__(self) -> None:
        self.status = ""
        self.seen: set[str] = set()
        self.answers = 0
        self.changed = threading.Condition()

    def on_chat(self, snapshots: list[Any], *_: Any) -> None:
        for snapshot in snapshots:
            state = snapshot.to_dict() or {}
            with self.changed:
                if state.get("status") != self.status:
                    self.status = state.get("status", "")
                    print(f"  [status] {self.status}  data={state.get('data')}", flush=True)
                self.changed.notify_all()

    def on_messages(self, snapshots: list[Any], *_: Any) -> None:
        for snapshot in snapshots:
            if snapshot.id not in self.seen:
                self.seen.add(snapshot.id)
                message = snapshot.to_dict()
                print(f"  [{message['author']:>4}] {message['text']}", flush=True)
                self.answers += message["author"] == "ai"
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, *statuses: str, answers: int = 0, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.status not in statuses or (self.status != "failed" and self.answers < answers):
                if not self.changed.wait(timeout=deadline - time.monotonic()):
                    raise TimeoutError(f"chat did not reach {statuses} (it is {self.status})")


def main() -> int:
    client = EmulatorClient()
    user = client.sign_up()
    engine = "OpenAI" if os.environ.get("OPENAI_API_KEY") else "offline"
    print(f"Signed in as {user.uid} on the Auth emulator; engine: {engine}")

    started = client.call("calculate", {"message": SCRIPT[0]}, user=user)
    chat = started["chatDocument"]
    print(f"> {SCRIPT[0]}\n  created {chat}: {started['status']}")

    printer = Printer()
    db = firestore.Client(project=client.project)
    document = db.document(chat)
    watches = [
        document.on_snapshot(printer.on_chat),
        document.collection("messages")
        .where(filter=firestore.FieldFilter("userId", "==", user.uid))
        .order_by("createdAt")
        .order_by("inBatchSortIndex")
        .on_snapshot(printer.on_messages),
    ]
    try:
        printer.wait_for("userInput", "failed", answers=1)
        for text in SCRIPT[1:]:
            print(f"> {text}")
            expected = printer.answers + 1
            client.call("postToCalculate", {"chatDocument": chat, "message": text}, user=user)
            printer.wait_for("userInput", "failed", answers=expected)
        closed = client.call("closeCalculate", {"chatDocument": chat}, user=user)
        printer.wait_for("complete")
        print(f"Closed: {closed['status']}, final data {closed['data']}")
    finally:
        for watch in watches:
            watch.unsubscribe()
    return 0 if printer.status == "complete" else 1


if __name__ == "__main__":
    sys.exit(main())
