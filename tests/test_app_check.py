"""App Check on a ``ChatApp``'s callables and ``chatEvents``.

Through the emulators: the calculator's App Check functions (``calculateAppCheck``,
``postToCalculateAppCheck``, ``chatEventsAppCheck``) refuse a missing or forged token as
``unauthenticated`` and change nothing, while the calculator's own functions keep working without
one. The emulators cannot verify a real token offline (the Admin SDK fetches App Check's keys), so
the acceptance path runs in the test process with a test double of App Check's backend only
(``app_check_double.py``: the key fetch and the replay check): a token it signs passes
firebase-functions' own ``on_call`` flow and the Admin SDK's own verification.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import flask
import httpx
import pytest
from app_check_double import AppCheckBackend, AppCheckKeys
from crew import Total
from firebase_admin import app_check as admin_app_check
from google.cloud import firestore
from support import ChatWatcher, count, database_fingerprint

from firebase_ai_chat.firebase.admin import firebase_app
from firebase_ai_chat.firebase.app import Assistant, ChatApp
from firebase_ai_chat.firebase.app_check import APP_CHECK_HEADER, AppCheck, verified_app
from firebase_ai_chat.testing import CallableError, EmulatorClient, InMemoryChatStore, InMemoryTaskQueue, User

Watch = Callable[[str, str], ChatWatcher]
FORGED = AppCheckKeys()  # a key App Check never published


def refused(client: EmulatorClient, name: str, data: dict[str, Any], user: User, token: str | None) -> CallableError:
    headers = {APP_CHECK_HEADER: token} if token else {}
    with pytest.raises(CallableError) as raised:
        client.call(name, data, user=user, headers=headers)
    return raised.value


@pytest.mark.parametrize(
    "token", [None, "not-a-token", FORGED.token("demo-ai-chat")], ids=["missing", "junk", "forged"]
)
def test_callables_refuse_a_call_without_a_valid_token_and_change_nothing(
    client: EmulatorClient, user: User, watch: Watch, db: firestore.Client, token: str | None
) -> None:
    chat = client.call("calculate", {"message": "add 2"}, user=user)["chatDocument"]  # no App Check needed here
    watch(chat, user.uid).wait_for_status("userInput")
    before = database_fingerprint(db, user.uid)
    calls = [
        ("calculateAppCheck", {"message": "add 1"}),
        ("postToCalculateAppCheck", {"chatDocument": chat, "message": "add 1"}),
    ]
    for name, data in calls:
        error = refused(client, name, data, user, token)
        assert (error.status, error.http_status) == ("UNAUTHENTICATED", 401), error
    assert database_fingerprint(db, user.uid) == before, "a refused call wrote something"
    count("calls refused without App Check", 2)


@pytest.mark.parametrize("token", [None, FORGED.token("demo-ai-chat")], ids=["missing", "forged"])
def test_chat_events_refuse_before_any_read(client: EmulatorClient, user: User, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {user.id_token}", **({APP_CHECK_HEADER: token} if token else {})}
    for chat in ("chats/no-such-chat", "chats/someone-elses"):  # a read would answer 404 or 403
        response = httpx.get(
            f"{client.functions_url}/chatEventsAppCheck", params={"chat": chat}, headers=headers, timeout=30
        )
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    url = f"{client.functions_url}/chatEvents"
    plain = httpx.get(url, params={"chat": "chats/no-such-chat"}, headers=headers, timeout=30)
    assert plain.status_code == 404, "the calculator's own stream needs no App Check"
    count("streams refused without App Check")


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppCheckBackend]:
    """The Admin SDK's App Check pointed at the local double (keys and replay check)."""
    double = AppCheckBackend(AppCheckKeys())
    service = admin_app_check._AppCheckService
    monkeypatch.setattr(service, "_JWKS_URL", f"{double.url}/v1/jwks")
    verify = f"{double.url}/v1beta/projects/{{project_id}}:verifyAppCheckToken"
    monkeypatch.setattr(service, "_VERIFY_URL_FORMAT", verify)
    services = firebase_app()._services
    services.pop(admin_app_check._APP_CHECK_ATTRIBUTE, None)  # built again, on the double's address
    yield double
    services.pop(admin_app_check._APP_CHECK_ATTRIBUTE, None)
    double.close()


def project() -> str:
    return str(firebase_app().project_id)


def test_a_token_app_check_issued_is_accepted_and_no_other(backend: AppCheckBackend) -> None:
    good = backend.keys.token(project())
    claims = verified_app({APP_CHECK_HEADER: good}, AppCheck())
    assert claims is not None and claims["app_id"] == "1:123456789:web:abc"
    again = verified_app({APP_CHECK_HEADER: good}, AppCheck())
    assert again is not None, "without replay protection a token is reusable"
    forged, elsewhere = FORGED.token(project()), backend.keys.token("another-project")
    for bad in (forged, elsewhere, backend.keys.token(project(), expires_in=-60), "junk"):
        assert verified_app({APP_CHECK_HEADER: bad}, AppCheck()) is None
    assert verified_app({}, AppCheck()) is None


def test_replay_protection_accepts_a_limited_use_token_once(backend: AppCheckBackend) -> None:
    token = backend.keys.token(project())
    assert verified_app({APP_CHECK_HEADER: token}, AppCheck(consume_tokens=True)) is not None
    assert verified_app({APP_CHECK_HEADER: token}, AppCheck(consume_tokens=True)) is None
    assert token in backend.consumed


def call_in_process(function: Callable[..., Any], data: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    """A callable declared in this process, called through firebase-functions' own ``on_call`` flow."""
    with flask.Flask(__name__).test_request_context("/", method="POST", json={"data": data}, headers=headers):
        response = function(flask.request._get_current_object())  # type: ignore[attr-defined]
    return response.status_code, json.loads(response.get_data())


def test_a_guarded_callable_runs_with_a_valid_token_only(backend: AppCheckBackend, user: User) -> None:
    store, queue = InMemoryChatStore(), InMemoryTaskQueue()
    guarded = ChatApp(
        data=Total,
        assistants=[Assistant(name="only", instructions="Answer.")],
        worker="guardedWorker",
        store=store,
        queue=queue,
        app_check=AppCheck(consume_tokens=True),
    )
    start = guarded.start_function("startGuarded")
    signed_in = {"Authorization": f"Bearer {user.id_token}"}
    token = backend.keys.token(project())
    status, body = call_in_process(start, {"message": "hi"}, {**signed_in, APP_CHECK_HEADER: token})
    assert status == 200 and body["result"]["status"] == "processing", body
    forged = {**signed_in, APP_CHECK_HEADER: FORGED.token(project())}
    for headers in (signed_in, {**signed_in, APP_CHECK_HEADER: token}, forged):
        status, body = call_in_process(start, {"message": "again"}, headers)  # none, reused, forged
        assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED"), body
    assert len(queue.pending) == 1, "a refused call started a chat"
    count("App Check tokens accepted in process")


def test_a_guarded_event_stream_reads_only_with_a_valid_token(backend: AppCheckBackend, user: User) -> None:
    guarded = ChatApp(
        data=Total, assistants=[Assistant(name="only", instructions="Answer.")], worker="w", app_check=True
    )
    events = guarded.events_function("eventsGuarded")
    signed_in = {"Authorization": f"Bearer {user.id_token}"}
    query = "/?chat=chats/no-such-chat"
    with flask.Flask(__name__).test_request_context(query, headers=signed_in):
        assert events(flask.request._get_current_object()).status_code == 401  # type: ignore[attr-defined]
    token = {APP_CHECK_HEADER: backend.keys.token(project())}
    with flask.Flask(__name__).test_request_context(query, headers={**signed_in, **token}):
        answer = events(flask.request._get_current_object())  # type: ignore[attr-defined]
    assert answer.status_code == 404, "past App Check the stream reads the chat (there is none)"
    assert os.environ.get("FIRESTORE_EMULATOR_HOST"), "the read went to the emulator"
