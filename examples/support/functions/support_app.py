"""A second example: order support, on the public API of firebase-ai-chat only.

The assistant reads the app's own ``orders`` collection through its tools and
asks a person before any refund: ``request_refund`` suspends the call and files
a request; a staff member's ``decideRefund`` call resumes it, and the chat goes
on with the decision. ``build(orders=...)`` wires it to Firestore (deployed)
or to anything with the ``Orders`` shape (tests: ``MemoryOrders``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from google.cloud import firestore
from pydantic import BaseModel, Field

from firebase_ai_chat import ChatError, ErrorCode, ToolContext, ToolFailure, Toolset, ToolValue
from firebase_ai_chat.engines.offline import Phrase
from firebase_ai_chat.firebase.app import Assistant, ChatApp

OrderId = Annotated[str, Field(description="The order number", min_length=1, max_length=64)]


class Ticket(BaseModel):
    """What the support chat keeps: the order it is about and the refund decision."""

    order_id: str | None = None
    refund: str | None = None


class Orders(Protocol):
    """The app's orders and refund requests (its own Firestore collections when deployed)."""

    def get(self, order_id: str) -> dict[str, Any] | None: ...

    def file_refund(self, request_id: str, order_id: str, reason: str) -> None: ...

    def decide_refund(self, request_id: str, approved: bool) -> bool:
        """Record the decision (refund the order if approved); ``False`` if it was already decided,
        ``KeyError`` if there is no such request."""
        ...


class FirestoreOrders:
    """``orders/{id}`` and ``refundRequests/{id}`` of the app's Firestore (``client()``: the Admin SDK's)."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client

    def get(self, order_id: str) -> dict[str, Any] | None:
        return self._client().document(f"orders/{order_id}").get().to_dict()

    def file_refund(self, request_id: str, order_id: str, reason: str) -> None:
        self._client().document(f"refundRequests/{request_id}").set({"orderId": order_id, "reason": reason})

    def decide_refund(self, request_id: str, approved: bool) -> bool:
        client = self._client()

        @firestore.transactional
        def decide(transaction: Any) -> bool:
            request = client.document(f"refundRequests/{request_id}")
            filed = request.get(transaction=transaction).to_dict()
            if filed is None:
                raise KeyError(request_id)
            if "approved" in filed:
                return False
            transaction.update(request, {"approved": approved})
            if approved:
                transaction.update(client.document(f"orders/{filed['orderId']}"), {"status": "refunded"})
            return True

        return bool(decide(client.transaction()))


PHRASES = [
    Phrase(r"(?:where is )?order (\w+)", "look_up_order", lambda m: {"order_id": m[1]}),
    Phrase(r"refund(?: please)?: (.+)", "request_refund", lambda m: {"reason": m[1]}),
]


@dataclass(frozen=True)
class SupportDesk:
    """The chat app, and the staff's way to answer a refund request (resumes the waiting chat;
    ``False`` when the request was already decided)."""

    app: ChatApp[Ticket]
    decide_refund: Callable[[str, bool], bool]


def build(*, orders: Orders, **options: Any) -> SupportDesk:
    """The support app on ``orders`` (``options`` go to ``ChatApp``: region, collection, store, queue...)."""
    tools = Toolset(Ticket)

    @tools.tool
    def look_up_order(ctx: ToolContext[Ticket], order_id: OrderId) -> Ticket | ToolFailure:
        """Find an order by its number and remember it for this chat."""
        order = orders.get(order_id)
        if order is None:
            return ToolFailure(message=f"There is no order {order_id}.")
        return Ticket(order_id=order_id, refund=ctx.data.refund)

    @tools.tool
    def order_status(ctx: ToolContext[Ticket]) -> ToolValue | ToolFailure:
        """The status of the chat's order."""
        order = orders.get(ctx.data.order_id) if ctx.data.order_id else None
        return ToolValue(value=order["status"]) if order else ToolFailure(message="Look the order up first.")

    @tools.tool
    def request_refund(ctx: ToolContext[Ticket], reason: str) -> Any:
        """Ask a person to refund the chat's order; the answer comes later."""
        if ctx.data.order_id is None:
            return ToolFailure(message="Look the order up first.")
        orders.file_refund(ctx.continuation.id, ctx.data.order_id, reason)
        return ctx.continuation.suspend()

    app = ChatApp(
        data=Ticket,
        assistants=[Assistant(name="support", instructions="Help with orders; refunds need a person.", tools=tools)],
        worker="supportWorker",
        offline=PHRASES,
        **options,
    )

    def decide_refund(request_id: str, approved: bool) -> bool:
        try:
            if not orders.decide_refund(request_id, approved):
                return False
        except KeyError:
            raise ChatError(ErrorCode.NOT_FOUND, "There is no such refund request.") from None
        decision = "approved" if approved else "declined"
        resumer = tools.resumer("request_refund", lambda ticket: Ticket(order_id=ticket.order_id, refund=decision))
        return app.resume(request_id, resumer)

    return SupportDesk(app=app, decide_refund=decide_refund)
