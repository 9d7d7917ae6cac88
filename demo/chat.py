"""The main job: a terminal chat with the calculator crew on the local stack, beside the web chat.

Run it with ``./emulator/exec -- python demo/chat.py`` (the README's first command). It prints the
web chat's address, plays a scripted conversation (a tool call, a suspended tool resumed by another
function, a hand-over to the divider and back), then, in a terminal, stays a live chat: type a
message, Enter sends, the answer streams in; Ctrl-C while an answer comes stops the answer (what it
said so far stays); Ctrl-D or Ctrl-C at the prompt quits and stops the stack. Without a
terminal (CI, piped input) it plays the script, closes the chat and exits.

It behaves like a client app: it signs a user in on the Auth emulator, calls the callables with the
user's ID token and follows the chat with Firestore listeners.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from google.cloud import firestore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
from transcript import Transcript

from firebase_ai_chat.testing import CallableError, EmulatorClient, User

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = [
    "add 5",  # a tool call that changes the data
    "what is the sum?",  # a tool value sent to the model
    "multiply by 3",  # a tool that suspends; the `multiplier` function resumes it
    "divide by 2",  # the calculator hands the chat over to the divider
    "hand back",  # the divider hands it back
    "subtract 1.5",
]


class TerminalChat:
    """One chat of one user, followed by listeners and printed by a ``Transcript``."""

    def __init__(self, client: EmulatorClient, user: User, transcript: Transcript) -> None:
        self.client, self.user, self.transcript = client, user, transcript
        self.chat: str | None = None
        self._watches: list[firestore.Watch] = []

    def send(self, text: str) -> None:
        """Posts ``text`` (starting the chat on the first message) and waits for the whole answer."""
        self.transcript.say(f"> {text}")
        before = len(self.transcript.user_dispatches)
        if self.chat is None:
            self.chat = self.client.call("calculate", {"message": text}, user=self.user)["chatDocument"]
            self.transcript.say(f"  (chat {self.chat})")
            self._follow(self.chat)
        else:
            self.client.call("postToCalculate", {"chatDocument": self.chat, "message": text}, user=self.user)
        try:
            self.transcript.wait_answered(before)
        except KeyboardInterrupt:  # Ctrl-C while the answer comes: stop the answer, not the chat
            self.transcript.say("  (stopping the answer; Ctrl-C again quits)")
            self.client.call("stopCalculate", {"chatDocument": self.chat}, user=self.user)
            self.transcript.wait_answered(before)

    def close(self) -> None:
        if self.chat is not None:
            closed = self.client.call("closeCalculate", {"chatDocument": self.chat}, user=self.user)
            self.transcript.say(f"Closed {self.chat}: {closed['status']}, final data {closed['data']}")

    def stop(self) -> None:
        for watch in self._watches:
            watch.unsubscribe()

    def _follow(self, chat: str) -> None:
        document = firestore.Client(project=self.client.project).document(chat)
        messages = (
            document.collection("messages")
            .where(filter=firestore.FieldFilter("userId", "==", self.user.uid))
            .order_by("createdAt")
            .order_by("inBatchSortIndex")
        )
        self._watches = [
            document.on_snapshot(self.transcript.on_chat),
            messages.on_snapshot(self.transcript.on_messages),
        ]


def live(chat: TerminalChat) -> None:
    print(
        "\nYour turn: type a message and press Enter. Ctrl-C stops an answer as it comes;"
        " at the prompt, Ctrl-D or Ctrl-C quits.",
        flush=True,
    )
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            print()
            return
        if not text:
            continue
        try:
            chat.send(text)
        except CallableError as error:
            print(f"  [refused] {error.message}", flush=True)


def engine_label() -> str:
    """The engine the functions will pick, from the settings they read (``functions/.secret.local``,
    ``functions/.env.local``, the environment): ``CHAT_ENGINE``, else the model key that is set."""
    settings: dict[str, str] = {}
    for name in (".env.local", ".secret.local"):
        path = ROOT / "functions" / name
        lines = path.read_text().splitlines() if path.exists() else []
        settings.update(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    settings.update(os.environ)
    chosen = settings.get("CHAT_ENGINE", "auto").strip().lower()
    vertex = settings.get("GOOGLE_GENAI_USE_VERTEXAI", "").lower() in ("true", "1")
    keyed = [
        n for n, on in (("OpenAI", settings.get("OPENAI_API_KEY")), ("Gemini", settings.get("GEMINI_API_KEY"))) if on
    ]
    if chosen not in ("", "auto"):
        return chosen
    if vertex and not keyed:
        return "Gemini on Vertex AI"
    return " and ".join(keyed) + " (set CHAT_ENGINE to choose)" if len(keyed) > 1 else (keyed or ["offline"])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-script", action="store_true", help="skip the scripted conversation")
    args = parser.parse_args()
    interactive = sys.stdin.isatty()
    web = os.environ.get("WEB_CHAT_URL")
    if web:
        print(f"Web chat: {web}  (open it in a browser; sign in as a guest or with any email)")
    engine = engine_label()
    client = EmulatorClient()
    user = client.sign_up()
    print(f"Terminal chat: signed in as {user.email} on the Auth emulator; engine: {engine}", flush=True)
    chat = TerminalChat(client, user, Transcript())
    try:
        for text in [] if args.no_script else SCRIPT:
            chat.send(text)
        if interactive:
            live(chat)
        else:
            chat.close()
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
    finally:
        chat.stop()
    return 0 if chat.transcript.state.get("status") != "failed" else 1


if __name__ == "__main__":
    sys.exit(main())
