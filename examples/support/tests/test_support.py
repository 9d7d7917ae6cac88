"""The support example on the installed wheel: in-memory store and queue, offline engine (no servers)."""

from __future__ import annotations

from typing import Any

import pytest
from support_app import PHRASES, Ticket, build

from firebase_ai_chat import OfflineEngine
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue


class MemoryOrders:
    """The app's orders and refund requests, in a dict."""

    def __init__(self, orders: dict[str, dict[str, Any]]) -> None:
        self.orders = orders
        self.requests: dict[str, dict[str, Any]] = {}

    def get(self, order_id: str) -> dict[str, Any] | None:
        return self.orders.get(order_id)

    def file_refund(self, request_id: str, order_id: str, reason: str) -> None:
        self.requests[request_id] = {"orderId": order_id, "reason": reason}

    def decide_refund(self, request_id: str, approved: bool) -> bool:
        request = self.requests[request_id]
        if "approved" in request:
            return False
        request["approved"] = approved
        if approved:
            self.orders[request["orderId"]]["status"] = "refunded"
        return True


class Support:
    """A customer talking to the support app."""

    def __init__(self, orders: MemoryOrders) -> None:
        self.store, self.queue = InMemoryChatStore(), InMemoryTaskQueue()
        self.desk = build(orders=orders, store=self.store, queue=self.queue, engine=OfflineEngine(PHRASES))
        self.app = self.desk.app
        self.chat_id = ""

    def say(self, text: str) -> list[str]:
        if not self.chat_id:
            started = self.app.chat.create(
                user_id="customer", assistant=self.app.config("support"), data=Ticket(), messages=[text]
            )
            self.chat_id = started.chat_document.removeprefix("chats/")
        else:
            self.app.chat.post_message(user_id="customer", chat_id=self.chat_id, messages=[text])
        self.queue.drain(self.app.worker)
        return self.answers()

    def answers(self) -> list[str]:
        return [m.text for m in self.store.all_messages(self.chat_id) if m.author == "ai"]

    def data(self) -> dict[str, Any]:
        state = self.store.chat_now(self.chat_id)
        assert state is not None
        return state.data


@pytest.mark.parametrize(
    ("approved", "decision", "status"), [(True, "approved", "refunded"), (False, "declined", "shipped")]
)
def test_a_refund_waits_for_a_person_and_the_chat_goes_on(approved: bool, decision: str, status: str) -> None:
    orders = MemoryOrders({"42": {"status": "shipped"}})
    support = Support(orders)
    assert support.say("where is order 42")[-1] == 'look_up_order: data is now {"order_id": "42", "refund": null}'
    support.say("refund please: it arrived broken")
    assert support.store.chat_now(support.chat_id).status == "processing"  # waiting for a person
    [request_id] = orders.requests
    assert orders.requests[request_id]["reason"] == "it arrived broken"
    assert support.desk.decide_refund(request_id, approved) is True
    assert support.desk.decide_refund(request_id, not approved) is False  # a second decision changes nothing
    support.queue.drain(support.app.worker)
    assert support.data() == {"order_id": "42", "refund": decision}
    assert orders.orders["42"]["status"] == status
    assert support.answers()[-1] == f'request_refund: data is now {{"order_id": "42", "refund": "{decision}"}}'


def test_an_unknown_order_is_a_tool_error_the_customer_reads() -> None:
    support = Support(MemoryOrders({}))
    assert support.say("order 7") == ["look_up_order failed: There is no order 7."]
    assert support.say("refund please: never came")[-1] == "request_refund failed: Look the order up first."
