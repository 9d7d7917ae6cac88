"""Order support, deployed: the app of ``support_app`` on Firestore and Cloud Tasks in europe-west1.

Functions (``firebase deploy --only functions``): ``startSupport {message}``, ``postToSupport
{chatDocument, message}``, ``closeSupport {chatDocument}`` (chats live in ``supportChats``),
``supportWorker`` (the task queue that runs the assistant; it also runs the watchdogs of stuck runs), and
``decideRefund {requestId, approved}`` for staff (users whose ID token has the custom claim
``staff: true``). The model key is the ``OPENAI_API_KEY`` secret; on the emulators, with none, the
offline engine answers the phrases of ``support_app.PHRASES``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from support_app import FirestoreOrders, build

from firebase_ai_chat import ChatError, ErrorCode
from firebase_ai_chat.firebase.app import Caller

REGION = "europe-west1"


def _firestore() -> Any:
    return app.firestore  # the Admin SDK's client, made on first use


desk = build(orders=FirestoreOrders(_firestore), region=REGION, collection="supportChats")
app = desk.app

startSupport = app.start_function("startSupport")  # noqa: N816 - function names are the clients' contract
postToSupport = app.post_function("postToSupport")  # noqa: N816
closeSupport = app.close_function("closeSupport")  # noqa: N816
supportWorker = app.worker_function()  # noqa: N816


class RefundDecision(BaseModel):
    """A staff member's decision on a refund request."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    request_id: str = Field(alias="requestId", min_length=1, max_length=200)
    approved: bool


class Decided(BaseModel):
    """``changed`` is false when the request had already been decided."""

    changed: bool


@app.callable("decideRefund", RefundDecision)
def decideRefund(caller: Caller, decision: RefundDecision) -> Decided:  # noqa: N802
    """Approve or decline a refund request; the customer's chat goes on with the decision."""
    if caller.claims.get("staff") is not True:
        raise ChatError(ErrorCode.PERMISSION_DENIED, "Only staff can decide refunds.")
    return Decided(changed=desk.decide_refund(decision.request_id, decision.approved))
