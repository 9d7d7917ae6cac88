"""Per-user limits: what a user may post, start and spend per UTC day and month, and readable refusals.

An app sets ``ChatApp(limits=...)`` to a ``Limits`` or to a function of the caller (a guest, a
signed-in user, a ``plan`` claim) returning one. A post or a new chat over a limit is refused with
``resource-exhausted`` and a message that names the limit and when it resets; nothing is stored or
enqueued. Tokens (input + output, as the engines report them) and cost (from ``Price`` per model, in
the app's currency) are counted by the worker: a run that crosses a limit finishes the model call in
progress and ends its turn with an AI message saying so (``usage.py`` keeps the counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from ._lazy_model import LazyModel
from .errors import ChatError, ErrorCode

Period = Literal["day", "month"]
Kind = Literal["posts", "chats", "tokens", "cost"]
Limit = tuple[Kind, Period]
"""A limit: what it counts, per what period."""

PAUSED = "The assistant is paused. Please try again later."
"""What a post is answered (``unavailable``) and what a run says while the global switch is on."""


class _Frozen(LazyModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class Allowance(_Frozen):
    """What a user may do in one period; ``None``: no limit."""

    posts: int | None = Field(default=None, ge=0)
    chats: int | None = Field(default=None, ge=0)
    tokens: int | None = Field(default=None, ge=0)
    cost: float | None = Field(default=None, ge=0)


class Limits(_Frozen):
    """A tier's limits per UTC day and per UTC month (``tier`` names it, e.g. in the usage document)."""

    tier: str = ""
    day: Allowance = Field(default_factory=Allowance)
    month: Allowance = Field(default_factory=Allowance)
    currency: str = "USD"

    def allowance(self, period: Period) -> Allowance:
        """The allowance of a period."""
        return self.day if period == "day" else self.month


class Price(_Frozen):
    """A model's price in the app's currency per million input and output tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)

    def of(self, input_tokens: int, output_tokens: int) -> float:
        """The cost of a call."""
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


def cost_of(prices: Mapping[str, Price], model: str, input_tokens: int, output_tokens: int) -> float:
    """The cost of a call to ``model`` (its price, else the ``*`` price, else free)."""
    price = prices.get(model) or prices.get("*")
    return price.of(input_tokens, output_tokens) if price else 0.0


_NOUNS: dict[Kind, str] = {"posts": "messages", "chats": "new chats", "tokens": "tokens", "cost": "spending"}


def resets_at(period: Period, now: datetime) -> datetime:
    """When ``now``'s UTC day or month ends."""
    now = now.astimezone(UTC)
    if period == "day":
        return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)


def _wait(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() + 59) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def reset_text(period: Period, now: datetime) -> str:
    """``It resets at 00:00 UTC, in 3 h 12 min.`` (a month: ``on 1 December at 00:00 UTC``)."""
    at = resets_at(period, now)
    when = "at 00:00 UTC" if period == "day" else f"on {at.day} {at:%B} at 00:00 UTC"
    return f"It resets {when}, in {_wait(at - now)}."


def _amount(kind: Kind, value: float, currency: str) -> str:
    return f"{value:.2f} {currency}" if kind == "cost" else f"{int(value)} {_NOUNS[kind]}"


def reached(kind: Kind, period: Period, limits: Limits, now: datetime) -> str:
    """The readable message of a reached limit."""
    allowance = getattr(limits, period)
    adjective = "daily" if period == "day" else "monthly"
    if kind in ("tokens", "cost"):
        what = "tokens" if kind == "tokens" else f"spending ({_amount(kind, allowance.cost, limits.currency)})"
        return f"You have used your {adjective} allowance of {what}. {reset_text(period, now)}"
    return (
        f"You have reached your {adjective} limit of {_amount(kind, getattr(allowance, kind), limits.currency)}. "
        f"{reset_text(period, now)}"
    )


def exhausted(kind: Kind, period: Period, limits: Limits, now: datetime) -> ChatError:
    """The ``resource-exhausted`` refusal of a reached limit."""
    return ChatError(ErrorCode.RESOURCE_EXHAUSTED, reached(kind, period, limits, now))


def day_key(now: datetime) -> str:
    """The UTC day of ``now``: ``2026-11-30``."""
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def month_key(now: datetime) -> str:
    """The UTC month of ``now``: ``2026-11``."""
    return now.astimezone(UTC).strftime("%Y-%m")


class _Doc(LazyModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Tally(_Doc):
    """What a user used in one period."""

    posts: int = 0
    chats: int = 0
    tokens: int = 0
    cost: float = 0.0


class UsageDocument(_Doc):
    """``chatUsage/{uid}``: tallies by period key and the limits of the user's tier."""

    user_id: str
    days: dict[str, Tally] = Field(default_factory=dict)
    months: dict[str, Tally] = Field(default_factory=dict)
    limits: Limits | None = None

    def day(self, now: datetime) -> Tally:
        """The tally of ``now``'s UTC day."""
        return self.days.get(day_key(now), Tally())

    def month(self, now: datetime) -> Tally:
        """The tally of ``now``'s UTC month."""
        return self.months.get(month_key(now), Tally())

    def period(self, period: Period, now: datetime) -> Tally:
        """The tally of ``now``'s UTC day or month."""
        return self.day(now) if period == "day" else self.month(now)

    def to_document(self) -> dict[str, Any]:
        """The Firestore fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def usage_collection(chats: str) -> str:
    """The usage collection of a chat collection: ``chats`` → ``chatUsage``, ``shopChats`` → ``shopChatUsage``
    (``usage`` keeps the counts there)."""
    return f"{chats.removesuffix('s')}Usage"
