"""A user's usage: the per-user document that counts posts, new chats, tokens and cost per UTC day and month.

``{usage collection}/{uid}`` (``chatUsage/{uid}`` for the ``chats`` collection) holds one tally per
period, keyed by the period (``days.2026-11-30``, ``months.2026-11``), and the ``Limits`` that applied
at the user's last accepted post (so the worker, which has no caller, knows the user's tier). Posts
and new chats are counted by the callables in the commit that stores the post, preconditioned on the
document's version (exact under concurrency); tokens and cost are added by the worker with blind
increments in the commit that ends (or suspends) a delivery. The owner may read it (rules); nobody
writes it from a client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from .errors import ChatError, ErrorCode
from .limits import PAUSED, Limit, Limits, Period, UsageDocument, day_key, exhausted, month_key
from .limits import usage_collection as usage_collection
from .store.documents import ChatSnapshot, ChatWrite
from .store.port import Change

T = TypeVar("T")


def usage_path(collection: str, user_id: str) -> str:
    """Where ``user_id``'s usage document is, from the database root."""
    return f"{collection}/{user_id}"


def read_usage(data: dict[str, Any] | None, user_id: str) -> UsageDocument:
    """The usage document's fields as a model (an empty one when there is none; a document only the
    worker's increments made, e.g. for a run in flight when limits were turned on, has no ``userId``)."""
    return UsageDocument.model_validate({"userId": user_id, **(data or {})})


def counted(usage: UsageDocument, *, now: datetime, posts: int, chats: int, limits: Limits) -> UsageDocument:
    """``usage`` with ``posts`` and ``chats`` added to ``now``'s day and month, older periods dropped,
    and ``limits`` as the user's tier."""
    day, month = usage.day(now), usage.month(now)
    add = {"posts": posts, "chats": chats}
    return usage.model_copy(
        update={
            "days": {day_key(now): day.model_copy(update={k: getattr(day, k) + v for k, v in add.items()})},
            "months": {month_key(now): month.model_copy(update={k: getattr(month, k) + v for k, v in add.items()})},
            "limits": limits,
        }
    )


def spent(*, now: datetime, tokens: int, cost: float) -> dict[str, float]:
    """The increments that bill ``tokens`` and ``cost`` to ``now``'s day and month."""
    amounts: dict[str, float] = {}
    for period, key in (("days", day_key(now)), ("months", month_key(now))):
        if tokens:
            amounts[f"{period}.{key}.tokens"] = tokens
        if cost:
            amounts[f"{period}.{key}.cost"] = cost
    return amounts


PERIODS: tuple[Period, ...] = ("month", "day")
"""The order limits are checked in: a month's first (it waits longer)."""


def used_up(usage: UsageDocument, limits: Limits, *, now: datetime, tokens: int = 0, cost: float = 0.0) -> Limit | None:
    """The first token or cost allowance used up, counting ``tokens`` and ``cost`` not billed yet."""
    for period in PERIODS:
        tally, allowance = usage.period(period, now), limits.allowance(period)
        if allowance.tokens is not None and tally.tokens + tokens >= allowance.tokens:
            return "tokens", period
        if allowance.cost is not None and tally.cost + cost >= allowance.cost:
            return "cost", period
    return None


def over(usage: UsageDocument, limits: Limits, *, now: datetime, posts: int = 0, chats: int = 0) -> ChatError | None:
    """The refusal when adding ``posts`` and ``chats`` would pass a limit, or tokens or cost are used
    up; ``None`` when it fits."""
    for period in PERIODS:
        tally, allowance = usage.period(period, now), limits.allowance(period)
        if posts and allowance.posts is not None and tally.posts + posts > allowance.posts:
            return exhausted("posts", period, limits, now)
        if chats and allowance.chats is not None and tally.chats + chats > allowance.chats:
            return exhausted("chats", period, limits, now)
    found = used_up(usage, limits, now=now)
    return exhausted(*found, limits, now) if found else None


@dataclass(frozen=True)
class Gate:
    """Charges posts and new chats to the user's usage document, in the commit that stores them."""

    collection: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def path(self, user_id: str) -> str:
        """The user's usage document."""
        return usage_path(self.collection, user_id)

    def charged(
        self,
        change: Change[T],
        *,
        user_id: str,
        limits: Limits,
        posts: int,
        chats: int,
        written: list[UsageDocument] | None = None,
    ) -> Change[T]:
        """``change``, refused (``resource-exhausted``) over a limit, else also counting the call in the
        user's usage (load the chat with ``outside=[path(user_id)]``). A change that writes nothing
        (a replayed call) counts nothing. ``written`` gets the usage each attempt writes (the last one
        is what the commit stored)."""
        path = self.path(user_id)

        def counting(snapshot: ChatSnapshot) -> tuple[ChatWrite, T]:
            write, result = change(snapshot)
            if write.is_empty:
                return write, result
            now = self.clock()
            usage = read_usage(snapshot.outside(path), user_id)
            refusal = over(usage, limits, now=now, posts=posts, chats=chats)
            if refusal is not None:
                raise refusal
            fresh = counted(usage, now=now, posts=posts, chats=chats, limits=limits)
            if written is not None:
                written.append(fresh)
            return replace(write, outside={**write.outside, path: fresh.to_document()}), result

        return counting


def guarded(
    change: Change[T],
    gate: Gate | None,
    paused: Callable[[], bool],
    *,
    user_id: str,
    limits: Limits | None,
    posts: int,
    chats: int,
    written: list[UsageDocument] | None = None,
) -> tuple[Change[T], list[str]]:
    """``change`` (a post of ``posts`` messages, a new chat when ``chats``) under the global switch
    (``unavailable`` while ``paused``) and the user's ``limits``, and the outside documents to load
    with the chat for it (``written``: see ``Gate.charged``)."""
    if posts and paused():
        raise ChatError(ErrorCode.UNAVAILABLE, PAUSED)
    if limits is None or gate is None:
        return change, []
    charged = gate.charged(change, user_id=user_id, limits=limits, posts=posts, chats=chats, written=written)
    return charged, [gate.path(user_id)]
