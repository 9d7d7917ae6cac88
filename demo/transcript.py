"""What the terminal chat prints: answers as they stream (text grows on its line), status, data,
hand-overs and errors. Fed by Firestore listener callbacks (any thread); one lock orders the output.
The two listeners deliver independently, so the chat's changes can arrive while an answer streams:
their lines wait until the answer's line ends, and a streamed answer always reads as one line."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO

IDLE = ("userInput", "complete", "failed")


class Transcript:
    """Prints a chat as it changes and tells when the answer to a posted message is complete."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.state: dict[str, Any] = {}
        self.user_dispatches: list[str] = []  # dispatch id of each user message, in order
        self.printed: dict[str, int] = {}  # message id -> characters printed
        self.open_line: str | None = None  # the message whose line is still growing
        self.held: list[str] = []  # status lines that came while an answer streamed: printed after its line
        self.chat_read_time: Any = None
        self.messages_read_time: Any = None
        self.changed = threading.Condition()

    def on_chat(self, snapshots: list[Any], _changes: Any, read_time: Any) -> None:
        for snapshot in snapshots:
            with self.changed:
                before, self.state = self.state, snapshot.to_dict() or {}
                self.chat_read_time = read_time
                self._print_changes(before, self.state)
                self.changed.notify_all()

    def on_messages(self, _snapshots: list[Any], changes: list[Any], read_time: Any) -> None:
        with self.changed:
            for change in changes:
                if change.type.name != "REMOVED":
                    self._message(change.document.id, change.document.to_dict() or {})
                elif change.document.id == self.open_line:  # a partial answer abandoned: its line ends
                    self._write("\n")
                    self.open_line = None
                    self._release()
            self.messages_read_time = read_time
            self.changed.notify_all()

    def say(self, text: str) -> None:
        """A line of the terminal's own (the user's message, notes)."""
        with self.changed:
            self._write(f"{text}\n", new_line=True)

    def wait_answered(self, users_before: int, timeout: float = 120) -> dict[str, Any]:
        """Waits until the message posted after ``users_before`` user messages is answered."""
        with self.changed:
            done = self.changed.wait_for(lambda: self._answered(users_before), timeout=timeout)
            if not done:
                raise TimeoutError(f"no answer within {timeout:.0f} s (the chat is {self.state.get('status')})")
            return self.state

    def _answered(self, users_before: int) -> bool:
        return (
            len(self.user_dispatches) > users_before
            and self.user_dispatches[-1] == self.state.get("latestDispatchId")
            and self.state.get("status") in IDLE
            and self.messages_read_time is not None
            and self.messages_read_time >= self.chat_read_time  # the messages listener caught up
        )

    def _print_changes(self, before: dict[str, Any], now: dict[str, Any]) -> None:
        was, assistant = before.get("config", {}).get("assistantId"), now.get("config", {}).get("assistantId")
        if was and assistant != was:
            self._note(f"  [hand-over] {was} -> {assistant}\n")
        if before and now.get("data") != before.get("data"):
            self._note(f"  [data] {json.dumps(now.get('data'))}\n")
        status = now.get("status")
        if status != before.get("status") and status in ("processing", "complete", "failed"):
            self._note(f"  [{status}]\n")  # waiting for the user shows as the prompt
        stopped = now.get("stoppedDispatchId")
        if before and stopped and stopped != before.get("stoppedDispatchId"):
            self._note("  [stopped] the answer was stopped; what it said so far stays\n")
        error = now.get("error") if status == "failed" else None
        if error and error != before.get("error"):
            self._note(f"  [error] {error.get('message')}\n")

    def _message(self, message_id: str, message: dict[str, Any]) -> None:
        if message.get("author") == "user":
            if message_id not in self.printed:
                self.printed[message_id] = 0
                self.user_dispatches.append(message.get("dispatchId", ""))
            return
        text, streaming = str(message.get("text", "")), bool(message.get("streaming"))
        shown = self.printed.get(message_id)
        name = (message.get("meta") or {}).get("name", "ai")
        if shown is None:
            self._write(f"  [{name}] {text}", new_line=True)
        elif len(text) > shown:
            continuing = self.open_line == message_id
            self._write(text[shown:] if continuing else f"  [{name}] ...{text[shown:]}", new_line=not continuing)
        self.printed[message_id] = max(len(text), shown or 0)
        self.open_line = message_id
        if not streaming:
            self._write("\n")
            self.open_line = None
            self._release()

    def _note(self, line: str) -> None:
        """A line about the chat: now, or after the line of the answer that is streaming."""
        if self.open_line is None:
            self._write(line)
        else:
            self.held.append(line)

    def _release(self) -> None:
        held, self.held = self.held, []
        for line in held:
            self._write(line)

    def _write(self, text: str, *, new_line: bool = False) -> None:
        if new_line and self.open_line is not None:
            self.out.write("\n")
            self.open_line = None
            self._release()
        self.out.write(text)
        self.out.flush()
