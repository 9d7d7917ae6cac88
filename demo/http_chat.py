"""A chat over plain HTTP: callables, and the chat's events as Server-Sent Events (``chatEvents``).

For clients without the Firestore SDK. ``./emulator/exec -- python demo/http_chat.py "add 5" "multiply by 3"``
signs a new user in on the Auth emulator, sends each message and prints the chat's events as they
arrive, until each turn's ``done`` (``firebase_ai_chat.client``: httpx + httpx-sse; a dropped
connection is resumed with ``Last-Event-ID``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
from firebase_ai_chat.client import CallError, ChatClient
from firebase_ai_chat.events.log import EventKind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("messages", nargs="+", help="the messages to send, in order")
    args = parser.parse_args()
    client = ChatClient(functions_url=os.environ["FUNCTIONS_EMULATOR_URL"])
    uid = client.sign_in_anonymously(auth_url=f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}")
    print(f"signed in as {uid}", flush=True)
    chat: str | None = None
    last: str | None = None
    try:
        for message in args.messages:
            print(f"> {message}", flush=True)
            if chat is None:
                chat = client.call("calculate", {"message": message})["chatDocument"]
            else:
                client.call("postToCalculate", {"chatDocument": chat, "message": message})
            for event in client.events(chat, last_event_id=last):
                last = event.id
                print(f"event: {event.kind.value} {event.data.to_document()}", flush=True)
                if event.kind is EventKind.DONE and event.data.status == "failed":
                    return 1
    except CallError as error:
        print(f"refused: {error.status}: {error.message}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
