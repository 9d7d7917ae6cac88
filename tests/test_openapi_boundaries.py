"""The server against its own OpenAPI document, at the edges of every rule the document states: for
each constrained field of each callable and each parameter of ``chatEvents``, values at and past its
lengths and values that bend its pattern, judged by the document (``openapi_rules``), then sent
through the emulators. A value the document allows is never refused as invalid for a reason it could
state; a value it forbids is refused with 400 ``INVALID_ARGUMENT`` and writes nothing."""

from __future__ import annotations

import os
import re
from typing import Any

import httpx
import pytest
from google.cloud import firestore
from openapi_rules import allows, allows_request, callables, constrained_strings, parameters, resolved, unstatable
from support import count, database_fingerprint, wait_until

from firebase_ai_chat.testing import EmulatorClient, User

BASELINE = {"message": "add 1", "clientMessageId": "key-1"}
"""A value each constrained field takes (``chatDocument``: a chat of the user)."""


def stretched(value: str, length: int) -> str:
    """``value`` cut or padded with its own last character to ``length`` characters."""
    return value[:length] if length <= len(value) else value + value[-1] * (length - len(value))


def bent(value: str) -> set[str]:
    """Values next to ``value`` that a pattern may refuse: another character at either end or inside,
    a final newline, its last path segment reserved (``__…__``) or at 128 and 129 characters."""
    head, _, tail = value.rpartition("/")
    head = f"{head}/" if head else ""
    return {
        *(value + probe for probe in (" ", "\n", ".", "/x", "é", "*", "\u200b")),
        *(probe + value for probe in (" ", "x/")),
        f"x{value[1:]}",
        f"{head}__{tail}__",
        f"{head}_{tail}_",
        f"{head}{stretched(tail, 128)}",
        f"{head}{stretched(tail, 129)}",
    }


def edges(value: str, rule: dict[str, Any]) -> set[str]:
    """``value`` and its neighbours at every edge ``rule`` states."""
    found = {value}
    for bound, offsets in (("minLength", (-1, 0)), ("maxLength", (0, 1))):
        if bound in rule:
            found |= {stretched(value, rule[bound] + o) for o in offsets if rule[bound] + o >= 0}
    if "pattern" in rule:
        found |= bent(value)
    return found


def answer(response: httpx.Response) -> tuple[int, str, str]:
    """HTTP status, error status (or ``""``) and error message of a response."""
    is_json = response.headers.get("content-type", "").startswith("application/json")
    error = (response.json().get("error") or {}) if is_json and response.content else {}
    return response.status_code, error.get("status", ""), error.get("message", "")


def judged(allowed: bool, got: tuple[int, str, str], before: Any, after: Any, what: Any) -> None:
    http, status, message = got
    if allowed:
        assert status != "INVALID_ARGUMENT" or unstatable(message), f"the document allows {what}: {got}"
    else:
        assert (http, status) == (400, "INVALID_ARGUMENT"), f"the document forbids {what}: {got}"
        assert after == before, f"a refused {what} wrote something"
    count("documented edges checked against the server")


@pytest.fixture
def owner(client: EmulatorClient) -> User:
    return client.sign_up()  # a signed-in user: 200 posts a day under tests/limits.env


def test_the_callables_take_what_the_document_allows_and_refuse_what_it_forbids(
    client: EmulatorClient, owner: User, db: firestore.Client
) -> None:
    for path, schema in callables().items():
        for field, rule in constrained_strings(schema).items():
            chat = client.call("calculate", {"message": "add 1"}, user=owner)["chatDocument"]
            baseline = {"message": "add 1", "chatDocument": chat}
            required = {name: baseline[name] for name in resolved(schema).get("required", [])}
            assert field in {*BASELINE, "chatDocument"}, f"give {field} a value in BASELINE"
            for value in sorted(edges(BASELINE.get(field, chat), rule)):
                data = {**required, field: value}
                wait_until(lambda: idle(db, owner.uid), what="the runs of the calls before to end")
                before = database_fingerprint(db, owner.uid)
                response = httpx.post(
                    f"{os.environ['FUNCTIONS_EMULATOR_URL']}{path}",
                    json={"data": data},
                    headers={"Authorization": f"Bearer {owner.id_token}", "Connection": "close"},
                    timeout=60,
                )
                after = database_fingerprint(db, owner.uid)
                judged(allows(schema, data), answer(response), before, after, (path, field, value))


def test_chat_events_takes_what_the_document_allows_and_refuses_what_it_forbids(
    client: EmulatorClient, owner: User, db: firestore.Client
) -> None:
    chat = client.call("calculate", {"message": "add 1"}, user=owner)["chatDocument"]
    last_id = _last_event_id(owner, chat)
    declared = parameters("/chatEvents")
    cases: list[tuple[dict[str, str], dict[str, str]]] = []
    for value in edges(chat, declared["chat"]["schema"]):
        cases.append(({"chat": value}, {}))
    for value in ("0", "1", "-1", "1.5", "x", " 1"):
        cases.append(({"chat": chat, "maxSeconds": value}, {}))
    for value in ("true", "false", "yes", "1"):
        cases.append(({"chat": chat, "follow": value, "maxSeconds": "1"}, {}))
    for value in edges(last_id, declared["Last-Event-ID"]["schema"]):
        if re.fullmatch("[!-~]([ -~]*[!-~])?", value):  # what a header can carry (printable ASCII, trimmed)
            cases.append(({"chat": chat, "maxSeconds": "1"}, {"Last-Event-ID": value}))
    cases.append(({"chat": chat, "other": "1"}, {}))
    for query, headers in cases:
        before = database_fingerprint(db, owner.uid)
        got = _get(owner, query, headers)
        judged(allows_request("/chatEvents", query, headers), got, before, database_fingerprint(db, owner.uid), query)


def idle(db: firestore.Client, uid: str) -> bool:
    """Whether no chat of the user is running (nothing writes its chats and messages meanwhile)."""
    chats = db.collection("chats").where(filter=firestore.FieldFilter("userId", "==", uid)).stream()
    return all(chat.get("status") != "processing" for chat in chats)


def _last_event_id(owner: User, chat: str) -> str:
    def done() -> str | None:
        lines = _lines(owner, {"chat": chat}, {})
        return next((line[4:] for line in reversed(lines) if line.startswith("id: ")), None) if lines else None

    return str(wait_until(done, what="an event id of the chat"))


def _lines(owner: User, query: dict[str, str], headers: dict[str, str]) -> list[str]:
    url = f"{os.environ['FUNCTIONS_EMULATOR_URL']}/chatEvents"
    sent = {"Authorization": f"Bearer {owner.id_token}", **headers}
    with httpx.stream("GET", url, params=query, headers=sent, timeout=60) as response:
        return list(response.iter_lines()) if response.status_code == 200 else []


def _get(owner: User, query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, str]:
    """One request; a stream is read to its end (``maxSeconds`` keeps it short)."""
    url = f"{os.environ['FUNCTIONS_EMULATOR_URL']}/chatEvents"
    sent = {"Authorization": f"Bearer {owner.id_token}", **headers}
    with httpx.stream("GET", url, params=query, headers=sent, timeout=60) as response:
        response.read()
        return answer(response)
