"""``chatEvents``: a chat as Server-Sent Events through the Functions emulator, followed with the
library's HTTP client (httpx + httpx-sse) or raw httpx: a turn event by event ending with ``done``,
resume with ``Last-Event-ID`` (the rest exactly once), errors as JSON and no stream, follow mode,
the connection's time limit, heartbeats, and a listener freed when the client goes away."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_openai import FakeOpenAI
from google.cloud import firestore
from support import wait_until

from firebase_ai_chat.client import ChatClient, ChatEvent
from firebase_ai_chat.events.log import EventKind


@pytest.fixture
def alice() -> Iterator[ChatClient]:
    client = ChatClient(functions_url=os.environ["FUNCTIONS_EMULATOR_URL"])
    client.sign_in_anonymously(auth_url=f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}")
    yield client
    client.close()


def events_url() -> str:
    return f"{os.environ['FUNCTIONS_EMULATOR_URL']}/chatEvents"


def finished_turn(client: ChatClient, message: str, chat: str | None = None) -> tuple[str, list[ChatEvent]]:
    """Starts (or posts to) a chat and follows the turn to its ``done``."""
    if chat is None:
        chat = client.call("calculate", {"message": message})["chatDocument"]
    else:
        client.call("postToCalculate", {"chatDocument": chat, "message": message})
    return chat, list(client.events(chat))


def texts(events: list[ChatEvent]) -> dict[str, str]:
    """The newest text of each message the events carried."""
    return {e.data.id: e.data.text for e in events if e.kind is EventKind.MESSAGE}  # type: ignore[union-attr]


def stored_texts(db: firestore.Client, chat: str) -> dict[str, str]:
    return {m.id: m.get("text") for m in db.document(chat).collection("messages").stream()}


def test_a_turn_streams_event_by_event_and_ends_with_done(alice: ChatClient, db: firestore.Client) -> None:
    chat, events = finished_turn(alice, "add 5")
    kinds = [event.kind for event in events]
    assert kinds[0] is EventKind.STATUS and kinds[-1] is EventKind.DONE and kinds.count(EventKind.DONE) == 1
    assert events[-1].data.status == "userInput"
    last_status = [e.data for e in events if e.kind is EventKind.STATUS][-1]
    assert (last_status.status, last_status.data, last_status.assistant_id) == ("userInput", {"sum": 5}, "calculator")
    assert sorted(texts(events).values()) == sorted(["add 5", 'add: data is now {"sum": 5}'])
    assert texts(events) == stored_texts(db, chat)
    assert len({event.id for event in events}) == len(events), "every event has its own id"


def test_a_client_cut_off_mid_turn_resumes_and_gets_the_rest_exactly_once(
    alice: ChatClient, db: firestore.Client
) -> None:
    chat, turn = finished_turn(alice, "add 5")
    alice.call("postToCalculate", {"chatDocument": chat, "message": "multiply by 3"})  # suspends, resumed later
    before: list[ChatEvent] = []
    for event in alice.events(chat, last_event_id=turn[-1].id):
        before.append(event)
        if event.kind is EventKind.MESSAGE:
            break  # the connection is dropped here, before the answer
    assert texts(before) == {next(iter(texts(before))): "multiply by 3"}
    wait_until(lambda: db.document(chat).get().get("status") == "userInput", what="the turn to end while away")

    rest = list(alice.events(chat, last_event_id=before[-1].id))
    assert rest[-1].kind is EventKind.DONE
    assert not {e.id for e in rest} & {e.id for e in before + turn}, "nothing sent before is sent again"
    assert texts(rest) == {k: v for k, v in stored_texts(db, chat).items() if k not in texts(turn + before)}
    assert list(texts(rest).values()) == ['multiply: data is now {"sum": 15}']
    assert list(alice.events(chat, last_event_id=rest[-1].id)) == [], "after done, nothing new: 204"


@pytest.mark.openai
def test_a_stream_cut_mid_answer_resumes_with_the_rest_of_the_text(alice: ChatClient, fake: FakeOpenAI) -> None:
    fake.stream_delay = 0.1
    message = " ".join(["count slowly to ten"] * 6)
    chat = alice.call("calculate", {"message": message})["chatDocument"]
    before: list[ChatEvent] = []
    for event in alice.events(chat):
        before.append(event)
        if event.kind is EventKind.MESSAGE and event.data.streaming:  # type: ignore[union-attr]
            break
    partial = before[-1].data.text  # type: ignore[union-attr]
    rest = list(alice.events(chat, last_event_id=before[-1].id))
    final = texts(rest)[before[-1].data.id]  # type: ignore[union-attr]
    assert final == f'You said "{message}".' and final.startswith(partial) and len(final) > len(partial)
    assert not {e.id for e in rest} & {e.id for e in before}


def test_errors_are_json_and_open_no_stream(alice: ChatClient) -> None:
    chat, _ = finished_turn(alice, "add 1")
    bob = ChatClient(functions_url=os.environ["FUNCTIONS_EMULATOR_URL"])
    bob.sign_in_anonymously(auth_url=f"http://{os.environ['FIREBASE_AUTH_EMULATOR_HOST']}")
    cases = [
        ({}, {"chat": chat}, 401, "UNAUTHENTICATED"),
        ({"Authorization": "Bearer not-a-token"}, {"chat": chat}, 401, "UNAUTHENTICATED"),
        ({"Authorization": f"Bearer {bob.id_token}"}, {"chat": chat}, 403, "PERMISSION_DENIED"),
        ({"Authorization": f"Bearer {alice.id_token}"}, {"chat": "chats/nope"}, 404, "NOT_FOUND"),
        ({"Authorization": f"Bearer {alice.id_token}"}, {"chat": "users/x/y"}, 400, "INVALID_ARGUMENT"),
        ({"Authorization": f"Bearer {alice.id_token}"}, {}, 400, "INVALID_ARGUMENT"),
        (
            {"Authorization": f"Bearer {alice.id_token}", "Last-Event-ID": "1.2"},
            {"chat": chat},
            400,
            "INVALID_ARGUMENT",
        ),
    ]
    for headers, params, http_status, status in cases:
        response = httpx.get(events_url(), headers=headers, params=params, timeout=30)
        assert response.status_code == http_status, (params, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["status"] == status and response.json()["error"]["message"]
    bob.close()


def test_follow_streams_across_turns_until_the_chat_ends(alice: ChatClient) -> None:
    chat, _ = finished_turn(alice, "add 1")
    seen: list[ChatEvent] = []
    follower = threading.Thread(target=lambda: seen.extend(alice.events(chat, follow=True)), daemon=True)
    follower.start()
    for message, total in (("add 2", 3), ("add 3", 6)):
        alice.call("postToCalculate", {"chatDocument": chat, "message": message})
        wait_until(lambda t=total: any(e.kind is EventKind.STATUS and e.data.data == {"sum": t} for e in seen))
    alice.call("closeCalculate", {"chatDocument": chat})
    follower.join(timeout=60)
    assert not follower.is_alive(), "the stream did not end when the chat ended"
    assert [e.data.status for e in seen if e.kind is EventKind.DONE] == ["complete"]
    assert [e.kind for e in seen].count(EventKind.DONE) == 1 and seen[-1].kind is EventKind.DONE


def raw_stream(alice: ChatClient, chat: str, **params: str) -> list[str]:
    """The raw lines of one connection, until the server ends it."""
    headers = {"Authorization": f"Bearer {alice.id_token}"}
    with httpx.stream("GET", events_url(), params={"chat": chat, **params}, headers=headers, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(response.iter_lines())


def test_a_connection_ends_after_its_time_limit_with_a_retry_hint(alice: ChatClient) -> None:
    chat, _ = finished_turn(alice, "add 1")
    started = time.monotonic()
    lines = raw_stream(alice, chat, follow="true", maxSeconds="2")
    assert 2 <= time.monotonic() - started < 10
    assert lines[-2:] == ["retry: 1000", ""], lines
    assert not any(line == "event: done" for line in lines)


def test_an_idle_stream_sends_heartbeats(alice: ChatClient) -> None:
    chat, _ = finished_turn(alice, "add 1")
    lines = raw_stream(alice, chat, follow="true", maxSeconds="17")
    assert ": heartbeat" in lines


@pytest.fixture
def direct_server() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``chatEvents`` served by functions-framework itself (gunicorn, as deployed), not through the
    Functions emulator: the emulator's proxy keeps the function's connection open when its client
    leaves (docs/EMULATORS.md), so only a direct server shows what a deployed function sees."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "functions-framework"), "--target", "chatEvents", "--port", str(port)],
        cwd=root / "functions",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: _listening(port) or server.poll() is not None, timeout=30, what="functions-framework")
        assert server.poll() is None, f"functions-framework exited: {server.stdout.read() if server.stdout else ''}"
        yield f"http://127.0.0.1:{port}/", server
    finally:
        server.terminate()
        server.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_the_listener_is_freed_as_soon_as_the_client_goes_away(
    alice: ChatClient, direct_server: tuple[str, subprocess.Popen[str]]
) -> None:
    url, server = direct_server
    chat, _ = finished_turn(alice, "add 1")
    headers = {"Authorization": f"Bearer {alice.id_token}"}
    with httpx.stream("GET", url, params={"chat": chat, "follow": "true"}, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        next(response.iter_lines())  # connected and streaming; then the client leaves
    left = time.monotonic()
    lines: list[str] = []
    assert server.stdout is not None
    os.set_blocking(server.stdout.fileno(), False)

    def closed() -> bool:
        lines.extend(server.stdout.readlines())  # type: ignore[union-attr]
        return any("chatEvents: stream closed" in line and chat.split("/")[1] in line for line in lines)

    wait_until(closed, timeout=5, what="the server to close the stream of the client that left")
    assert time.monotonic() - left < 2, "the listener must be freed at once, not at the next heartbeat"


def test_the_http_cli_prints_a_turn_event_by_event() -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "demo" / "http_chat.py"), "add 5", "multiply by 3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("event: done")] == [
        "event: done {'status': 'userInput'}",
        "event: done {'status': 'userInput'}",
    ]
    assert "event: message" in "\n".join(lines) and 'multiply: data is now {"sum": 15}' in done.stdout
