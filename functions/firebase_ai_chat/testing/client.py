"""A client of the local stack that behaves like an app: for tests and the demo.

It signs users up on the Auth emulator, calls callables over HTTP with their ID
token (as the Firebase client SDKs do), reads Firestore over REST *as that
user* (so security rules apply), and opens Firestore listeners.
Addresses come from the variables ``emulator/exec`` exports.

It needs ``requests`` (the ``testing`` extra: ``pip install 'firebase-ai-chat[testing]'``), imported
when a client is made: the rest of ``firebase_ai_chat.testing`` works without it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CallError

if TYPE_CHECKING:
    import requests


CallableError = CallError
"""The name tests of the 0.2 line use for ``CallError``."""


@dataclass(frozen=True)
class User:
    """A signed-in Auth emulator user."""

    uid: str
    id_token: str
    email: str = ""


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run this under ./emulator/exec -- ...")
    return value


class EmulatorClient:
    """Talks to the emulators the way a mobile or web client would."""

    def __init__(self) -> None:
        self.project = _env("GCLOUD_PROJECT")
        self.functions_url = _env("FUNCTIONS_EMULATOR_URL").rstrip("/")
        self.auth_host = _env("FIREBASE_AUTH_EMULATOR_HOST")
        self.firestore_host = _env("FIRESTORE_EMULATOR_HOST")
        try:
            import requests
        except ImportError as error:
            raise ImportError("EmulatorClient needs requests: pip install 'firebase-ai-chat[testing]'") from error
        self._http = requests.Session()

    def sign_up(self, email: str | None = None) -> User:
        """Create and sign in a new user (email/password) on the Auth emulator."""
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        response = self._http.post(
            f"http://{self.auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo-api-key",
            json={"email": email, "password": "secret-password", "returnSecureToken": True},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        return User(uid=body["localId"], id_token=body["idToken"], email=email)

    def sign_in_anonymously(self) -> User:
        """Sign in a new guest (anonymous sign-in) on the Auth emulator."""
        response = self._http.post(
            f"http://{self.auth_host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo-api-key",
            json={"returnSecureToken": True},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        return User(uid=body["localId"], id_token=body["idToken"])

    def with_claims(self, user: User, claims: dict[str, Any]) -> User:
        """Give ``user`` custom claims (as the Admin SDK's ``set_custom_user_claims``) and sign in again:
        the returned user's ID token carries them."""
        base = f"http://{self.auth_host}/identitytoolkit.googleapis.com/v1"
        self._http.post(
            f"{base}/projects/{self.project}/accounts:update",
            json={"localId": user.uid, "customAttributes": json.dumps(claims)},
            headers={"Authorization": "Bearer owner"},
            timeout=30,
        ).raise_for_status()
        response = self._http.post(
            f"{base}/accounts:signInWithPassword?key=demo-api-key",
            json={"email": user.email, "password": "secret-password", "returnSecureToken": True},
            timeout=30,
        )
        response.raise_for_status()
        return User(uid=user.uid, id_token=response.json()["idToken"], email=user.email)

    def call(
        self, name: str, data: Any, *, user: User | None, headers: Mapping[str, str] | None = None, timeout: float = 60
    ) -> Any:
        """Call the callable ``name`` with ``data`` (and extra ``headers``, e.g. ``X-Firebase-AppCheck``);
        raise ``CallableError`` on an error answer."""
        # A fresh connection per call: a pooled one that the emulator's server closes just as it is
        # reused fails with "Connection reset by peer", and a call cannot be sent again blindly.
        sent = {"Content-Type": "application/json", "Connection": "close", **(headers or {})}
        if user is not None:
            sent["Authorization"] = f"Bearer {user.id_token}"
        url = f"{self.functions_url}/{name}"
        response = self._http.post(url, json={"data": data}, headers=sent, timeout=timeout)
        body = response.json()
        if "error" in body:
            error = body["error"]
            raise CallableError(error.get("status", ""), error.get("message", ""), response.status_code)
        return body["result"]

    def deliver_task(self, function: str, payload: dict[str, Any], *, attempt: int = 0) -> requests.Response:
        """Deliver a task to the task-queue function directly, as Cloud Tasks would (a duplicate delivery)."""
        headers = {
            "Content-Type": "application/json",
            "X-CloudTasks-TaskRetryCount": str(attempt),
            "X-CloudTasks-TaskName": f"manual-{uuid.uuid4().hex}",
            "Connection": "close",
        }
        return self._http.post(f"{self.functions_url}/{function}", json={"data": payload}, headers=headers, timeout=120)

    def _documents_url(self) -> str:
        return f"http://{self.firestore_host}/v1/projects/{self.project}/databases/(default)/documents"

    def rest_get(self, path: str, *, user: User | None) -> requests.Response:
        """GET a document over REST as ``user`` (rules apply); ``None`` sends no token."""
        headers = {"Authorization": f"Bearer {user.id_token}"} if user else {}
        return self._http.get(f"{self._documents_url()}/{path}", headers=headers, timeout=30)

    def rest_write(self, path: str, fields: dict[str, Any], *, user: User | None) -> requests.Response:
        """PATCH (create or update) a document over REST as ``user``; string fields only."""
        headers = {"Authorization": f"Bearer {user.id_token}"} if user else {}
        body = {"fields": {key: {"stringValue": str(value)} for key, value in fields.items()}}
        return self._http.patch(f"{self._documents_url()}/{path}", json=body, headers=headers, timeout=30)

    def rest_delete(self, path: str, *, user: User | None) -> requests.Response:
        """DELETE a document over REST as ``user``."""
        headers = {"Authorization": f"Bearer {user.id_token}"} if user else {}
        return self._http.delete(f"{self._documents_url()}/{path}", headers=headers, timeout=30)

    def rest_list_messages(
        self, chat_id: str, *, user: User, where_user_id: str | None, collection: str = "chats"
    ) -> requests.Response:
        """Query ``{collection}/{chat_id}/messages`` over REST as ``user``, filtered by ``userId ==
        where_user_id`` or not."""
        query: dict[str, Any] = {"from": [{"collectionId": "messages"}]}
        if where_user_id is not None:
            query["where"] = {
                "fieldFilter": {
                    "field": {"fieldPath": "userId"},
                    "op": "EQUAL",
                    "value": {"stringValue": where_user_id},
                }
            }
        return self._http.post(
            f"{self._documents_url()}/{collection}/{chat_id}:runQuery",
            json={"structuredQuery": query},
            headers={"Authorization": f"Bearer {user.id_token}"},
            timeout=30,
        )

    def clear_firestore(self) -> None:
        """Delete every document in the emulator."""
        self._http.delete(self._documents_url(), timeout=30).raise_for_status()
