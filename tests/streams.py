"""Helpers of the ``chatEvents`` tests: signed-in HTTP clients, raw streams held open, applied events."""

from __future__ import annotations

import os
from collections.abc import Iterable

import httpx

from firebase_ai_chat.client import ChatClient, ChatEvent
from firebase_ai_chat.events.log import EventKind
from firebase_ai_chat.events.view import ChatView


def signed_in() -> ChatClient:
    """A new anonymous user's client of the emulators' functions."""
    client = ChatClient(functions_url=os.environ["FUNCTIONS_EMULATOR_URL"])
    client.sign_in_anonymously(auth_url=f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}")
    return client


def events_url(name: str = "chatEvents") -> str:
    return f"{os.environ['FUNCTIONS_EMULATOR_URL']}/{name}"


def applied(events: Iterable[ChatEvent], into: ChatView | None = None) -> ChatView:
    """The state a client holds after ``events``."""
    view = into or ChatView()
    for event in events:
        view.apply(event.kind, event.data)
    return view


def kinds(events: Iterable[ChatEvent]) -> list[EventKind]:
    return [event.kind for event in events]


class OpenStream:
    """One ``chatEvents`` connection held open (its own HTTP client, so closing it closes the socket)."""

    def __init__(self, client: ChatClient, chat: str, **params: str) -> None:
        self._http = httpx.Client(timeout=httpx.Timeout(60, read=None))
        headers = {"Authorization": f"Bearer {client.id_token}"}
        request = self._http.build_request("GET", events_url(), params={"chat": chat, **params}, headers=headers)
        self.response = self._http.send(request, stream=True)
        self._lines = self.response.iter_lines()

    @property
    def status(self) -> int:
        return self.response.status_code

    def first_event(self) -> str:
        """The ``event:`` line of the first event (the stream is open and answering)."""
        return next(line for line in self._lines if line.startswith("event:"))

    def close(self) -> None:
        """The client goes away."""
        self.response.close()
        self._http.close()
