"""The worker's side of limits: the global switch, token and cost limits, billing a run's tokens.

Before each model call a delivery asks its ``Meter`` whether it may call the model: not while the
app is paused (the switch), nor once the user's tokens or cost for the day or month reach the limits
of the user's tier (stored in the usage document by their last post). The meter sees the usage as
the post that started the run wrote it (its command carries it), or reads it once, plus what this
run has not billed yet. Refused, the run ends its turn with an AI message saying why
(``limit_reached``); the user's input waits in the assistant's context for the next run, so
nothing the user wrote is lost. A model call in progress always finishes.

Billing: the commit that ends or suspends a delivery adds the run's tokens and cost not billed yet to
the usage document (blind increments) and records them in the run (``billedTokens``,
``billedCost``) in the same commit, so a redelivery never bills twice. One write per delivery, and
no read when the run's command carries the usage its post wrote (a run started by a post); a
resumed or follow-up run reads it once. None without limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..limits import PAUSED, Price, cost_of, reached
from ..models import ChatState
from ..records import EngineContextRecord, ModelStep, RunState, RunStatus
from ..store.port import ChatStore
from ..usage import UsageDocument, read_usage, spent, usage_path, used_up
from .ai_messages import ai_message, ai_message_id
from .turn import Progress, defer_input


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Spending:
    """How the worker meters runs: the usage collection, prices per model, the switch, the clock.
    Without ``limited`` (an app with no limits) only the switch applies: no read, no billing."""

    collection: str
    limited: bool = True
    prices: Mapping[str, Price] = field(default_factory=dict)
    paused: Callable[[], bool] = lambda: False
    clock: Callable[[], datetime] = _now

    def meter(self, store: ChatStore, user_id: str, *, known: UsageDocument | None = None) -> Meter:
        """A meter for one delivery of one user's run (``known``: the usage its command carries, as
        the post that started the run wrote it; else it is read once, when first needed)."""
        return Meter(self, store, user_id, known)

    def unbilled(self, run: RunState) -> tuple[int, float]:
        """The run's tokens and cost not billed yet."""
        tokens = run.input_tokens + run.output_tokens - run.billed_tokens
        return tokens, max(0.0, run_cost(run, self.prices) - run.billed_cost)

    def billed(self, run: RunState, user_id: str) -> tuple[RunState, dict[str, dict[str, float]]]:
        """``run`` marked billed, and the ``ChatWrite.increments`` that bill what it had not billed yet
        to ``user_id``'s usage document; nothing without limits."""
        tokens, cost = self.unbilled(run)
        if not self.limited or (not tokens and not cost):
            return run, {}
        billed = {"billed_tokens": run.billed_tokens + tokens, "billed_cost": run.billed_cost + cost}
        amounts = spent(now=self.clock(), tokens=tokens, cost=cost)
        return run.model_copy(update=billed), {usage_path(self.collection, user_id): amounts}


def run_cost(run: RunState, prices: Mapping[str, Price]) -> float:
    """What the run's model calls cost so far."""
    return sum(
        cost_of(prices, step.detail.model, step.detail.usage.input_tokens, step.detail.usage.output_tokens)
        for step in run.steps
        if isinstance(step, ModelStep)
    )


class Meter:
    """One delivery's view of the user's usage (read at most once) and what the run has not billed."""

    def __init__(self, spending: Spending, store: ChatStore, user_id: str, known: UsageDocument | None) -> None:
        self._spending = spending
        self._store = store
        self._user_id = user_id
        self._usage: UsageDocument | None = known

    def _read(self) -> UsageDocument:
        if self._usage is None:
            found = self._store.read_outside(usage_path(self._spending.collection, self._user_id))
            self._usage = read_usage(found.data, self._user_id)
        return self._usage

    def refusal(self, run: RunState) -> str | None:
        """Why the run may not call the model now (the switch, a used-up allowance), or ``None``."""
        if self._spending.paused():
            return PAUSED
        if not self._spending.limited:
            return None
        usage = self._read()
        limits = usage.limits
        if limits is None:
            return None
        now = self._spending.clock()
        tokens, cost = self._spending.unbilled(run)
        found = used_up(usage, limits, now=now, tokens=tokens, cost=cost)
        return reached(*found, limits, now) if found else None

    def billed(self, run: RunState) -> tuple[RunState, dict[str, dict[str, float]]]:
        """The run marked billed, and the usage increments that bill what it had not billed yet."""
        return self._spending.billed(run, self._user_id)


def limit_reached(progress: Progress, chat: ChatState, context: EngineContextRecord, text: str) -> None:
    """End the run's turn without a model call: ``text`` as an AI message, the run's input kept in
    the assistant's context (``pending``) for its next run."""
    defer_input(progress, context)
    run = progress.run
    index = run.ai_messages
    message = ai_message(chat, progress.config, run.dispatch_id, index, text)
    progress.messages[ai_message_id(run.dispatch_id, index)] = message
    progress.run = run.model_copy(update={"ai_messages": index + 1, "status": RunStatus.DONE})
