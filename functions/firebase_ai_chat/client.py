"""A Python client of an app's HTTP endpoints: callables, and a chat's events over Server-Sent Events.

For callers that do not embed the Firestore SDK (servers, command-line tools).
Built on ``httpx`` and ``httpx-sse`` (the ``client`` extra:
``pip install 'firebase-ai-chat[client]'``)::

    client = ChatClient(functions_url="http://127.0.0.1:5001/demo-ai-chat/us-central1")
    client.sign_in_anonymously(auth_url="http://127.0.0.1:9099")   # the Auth emulator
    chat = client.call("calculate", {"message": "add 5"})["chatDocument"]
    for event in client.events(chat):          # status, message ..., done; resumes if cut
        print(event.kind, event.data)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, connect_sse

from .errors import CallError
from .events.kinds import EVENT_MODELS, EventData, EventKind

__all__ = ["CallError", "ChatClient", "ChatEvent", "EventData"]
_LAST = frozenset({EventKind.DONE, EventKind.DELETED})


@dataclass(frozen=True)
class ChatEvent:
    """One event of a chat: its kind, its id (for ``Last-Event-ID``) and its data."""

    kind: EventKind
    id: str
    data: EventData


class ChatClient:
    """Signs in, calls callables and follows chats, as one user."""

    def __init__(self, *, functions_url: str, api_key: str = "demo-api-key", timeout: float = 60) -> None:
        self.functions_url = functions_url.rstrip("/")
        self.api_key = api_key
        self.id_token: str | None = None
        self.uid: str | None = None
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, read=None))

    def close(self) -> None:
        self._http.close()

    def sign_in_anonymously(self, *, auth_url: str) -> str:
        """Signs in as a new anonymous user (the Auth emulator's or Identity Toolkit's REST API)."""
        return self._sign_in(f"{auth_url.rstrip('/')}/identitytoolkit.googleapis.com/v1/accounts:signUp", {})

    def sign_up(self, *, auth_url: str, email: str, password: str) -> str:
        """Creates an email/password account and signs in with it."""
        url = f"{auth_url.rstrip('/')}/identitytoolkit.googleapis.com/v1/accounts:signUp"
        return self._sign_in(url, {"email": email, "password": password})

    def _sign_in(self, url: str, body: dict[str, Any]) -> str:
        response = self._http.post(url, params={"key": self.api_key}, json={**body, "returnSecureToken": True})
        response.raise_for_status()
        self.id_token, self.uid = response.json()["idToken"], response.json()["localId"]
        return str(self.uid)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"} if self.id_token else {}

    def call(self, name: str, data: Any) -> Any:
        """Calls the callable ``name`` (``{"data": …}`` → its ``result``); ``CallError`` on an error."""
        response = self._http.post(f"{self.functions_url}/{name}", json={"data": data}, headers=self._headers())
        body = response.json()
        if "error" in body:
            raise CallError(body["error"].get("status", ""), body["error"].get("message", ""), response.status_code)
        return body["result"]

    def events(
        self, chat: str, *, follow: bool = False, last_event_id: str | None = None, reconnects: int = 5
    ) -> Iterator[ChatEvent]:
        """The chat's events until ``done`` (or ``deleted``); a dropped or time-limited connection is
        resumed with ``Last-Event-ID`` (after the server's ``retry:`` delay), up to ``reconnects`` times
        in a row. ``ChatView`` applies them (``removed`` and ``reset`` included)."""
        failures, delay = 0, 1.0
        while True:
            try:
                for sse in self._connect(chat, follow=follow, last_event_id=last_event_id):
                    if sse is None:
                        return  # 204: the client had everything up to its done event
                    failures = 0
                    if sse.retry is not None:
                        delay = sse.retry / 1000
                    if sse.event not in EVENT_MODELS or not sse.data:
                        continue  # a retry: hint alone (no data: not an event, as browsers see it)
                    kind = EventKind(sse.event)
                    event = ChatEvent(kind, sse.id, EVENT_MODELS[kind].model_validate_json(sse.data))
                    last_event_id = event.id
                    yield event
                    if event.kind in _LAST:
                        return
            except httpx.TransportError:
                failures += 1
                if failures > reconnects:
                    raise
            time.sleep(delay)

    def _connect(self, chat: str, *, follow: bool, last_event_id: str | None) -> Iterator[ServerSentEvent | None]:
        headers = self._headers() | ({"Last-Event-ID": last_event_id} if last_event_id else {})
        params = {"chat": chat, "follow": "true" if follow else "false"}
        url = f"{self.functions_url}/chatEvents"
        with connect_sse(self._http, "GET", url, params=params, headers=headers) as source:
            response = source.response
            if response.status_code == 204:
                yield None
                return
            if response.status_code != 200:
                response.read()
                error = response.json().get("error", {})
                raise CallError(error.get("status", ""), error.get("message", ""), response.status_code)
            yield from source.iter_sse()
