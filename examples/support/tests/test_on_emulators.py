"""The deployable support app on the Firebase emulators (run under ``emulator/exec`` with
``EMULATOR_PROJECT_DIR=examples/support EMULATOR_REGION=europe-west1``; ``tests/wheel`` does).

Its functions run from ``functions/`` with the installed wheel, in europe-west1, with chats in
``supportChats``: a customer asks about an order, asks for a refund, a staff member decides it, and
the chat goes on with the decision.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from firebase_ai_chat.testing.client import CallableError, EmulatorClient, User


def wait_until(what: str, predicate: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def client() -> EmulatorClient:
    assert os.environ.get("FUNCTIONS_EMULATOR_URL", "").endswith("/europe-west1"), (
        "run under emulator/exec with EMULATOR_REGION=europe-west1"
    )
    return EmulatorClient()


@pytest.fixture(scope="module")
def db() -> Iterator[firestore.Client]:
    database = firestore.Client(project=os.environ["GCLOUD_PROJECT"], credentials=AnonymousCredentials())
    yield database
    database.close()


class Customer:
    """A signed-in customer chatting with support through the callables."""

    def __init__(self, client: EmulatorClient, db: firestore.Client) -> None:
        self.client, self.db = client, db
        self.user: User = client.sign_up()
        self.chat = ""

    def say(self, message: str) -> dict[str, Any]:
        if not self.chat:
            result = self.client.call("startSupport", {"message": message}, user=self.user)
            self.chat = result["chatDocument"]
            return result
        return self.client.call("postToSupport", {"chatDocument": self.chat, "message": message}, user=self.user)

    def settled(self) -> dict[str, Any]:
        """The chat once it waits for the user again."""
        return wait_until(f"{self.chat} to wait for the user", lambda: self._status("userInput"))

    def _status(self, status: str) -> dict[str, Any] | None:
        chat = self.db.document(self.chat).get().to_dict() or {}
        return chat if chat.get("status") == status else None

    def answers(self) -> list[str]:
        messages = self.db.document(self.chat).collection("messages").order_by("createdAt").stream()
        return [m.get("text") for m in messages if m.get("author") == "ai"]


def test_a_customer_gets_a_refund_a_staff_member_approved(client: EmulatorClient, db: firestore.Client) -> None:
    customer = Customer(client, db)
    db.document("orders/42").set({"userId": customer.user.uid, "status": "shipped"})

    assert customer.say("where is order 42")["chatDocument"].startswith("supportChats/")
    assert customer.settled()["data"] == {"order_id": "42", "refund": None}
    assert client.rest_get(customer.chat, user=customer.user).status_code == 200  # the rules let the owner read

    customer.say("refund please: it arrived broken")
    [request] = wait_until("the refund request", lambda: list(db.collection("refundRequests").stream()))
    assert request.to_dict() == {"orderId": "42", "reason": "it arrived broken"}
    assert (db.document(customer.chat).get().to_dict() or {})["status"] == "processing"  # waits for a person

    decision = {"requestId": request.id, "approved": True}
    with pytest.raises(CallableError) as refused:
        client.call("decideRefund", decision, user=customer.user)
    assert (refused.value.status, refused.value.message) == ("PERMISSION_DENIED", "Only staff can decide refunds.")
    staff = client.with_claims(client.sign_up(), {"staff": True})
    assert client.call("decideRefund", decision, user=staff) == {"changed": True}
    assert client.call("decideRefund", {**decision, "approved": False}, user=staff) == {"changed": False}

    assert customer.settled()["data"] == {"order_id": "42", "refund": "approved"}
    assert db.document("orders/42").get().get("status") == "refunded"
    assert customer.answers()[-1] == 'request_refund: data is now {"order_id": "42", "refund": "approved"}'
    assert client.call("closeSupport", {"chatDocument": customer.chat}, user=customer.user)["status"] == "complete"


def test_staff_calls_with_bad_input_get_readable_errors(client: EmulatorClient) -> None:
    staff = client.with_claims(client.sign_up(), {"staff": True})
    cases = [
        ({"requestId": "nope", "approved": True}, "NOT_FOUND", "There is no such refund request."),
        ({"requestId": "x"}, "INVALID_ARGUMENT", "approved is required."),
        ({"requestId": "x", "approved": True, "note": 1}, "INVALID_ARGUMENT", "note is not a field this call takes."),
    ]
    for data, status, message in cases:
        with pytest.raises(CallableError) as error:
            client.call("decideRefund", data, user=staff)
        assert (error.value.status, error.value.message) == (status, message)


def test_another_user_cannot_read_the_chat(client: EmulatorClient, db: firestore.Client) -> None:
    customer = Customer(client, db)
    customer.say("where is order 9")
    customer.settled()
    assert customer.answers() == ["look_up_order failed: There is no order 9."]
    stranger = client.sign_up()
    assert client.rest_get(customer.chat, user=stranger).status_code == 403
    listed = client.rest_list_messages(
        customer.chat.split("/")[1], user=stranger, where_user_id=customer.user.uid, collection="supportChats"
    )
    assert listed.status_code == 403
