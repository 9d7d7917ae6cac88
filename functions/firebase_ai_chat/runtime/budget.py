"""How much one run may do: caps against a runaway model that never punish a user who posts fast.

Posts made while a run is in progress queue under ``nextDispatchId`` and the
next run answers them together. A run that answers ``n`` user messages gets
the budget of ``n`` runs: ``n`` times the tool calls per turn and ``n`` times
the model calls, so 20 posts of ``add N`` fired at once all apply, exactly as
if they had been posted one by one, while a single message that asks for
hundreds of calls is still capped. What a run stores stays bounded whatever
``n`` is: the arguments of one turn's calls share one budget of characters,
and the run history keeps at most ``MAX_STEPS`` entries (the rest are counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from ..records import RunState

MAX_TURN_ARGUMENTS = 256_000
"""Characters of tool-call arguments one turn may store in all; calls past it fail without running."""

MAX_STEPS = 300
"""Entries the run history (``steps``) keeps; later ones are only counted (``stepsOmitted``)."""

Step = TypeVar("Step")


def answered_messages(run: RunState) -> int:
    """The user messages the run answers (at least 1: a hand-over's run answers its instructions)."""
    return max(1, run.user_messages)


def scaled(base: int, run: RunState) -> int:
    """A per-run or per-turn cap for a run that answers ``answered_messages(run)`` messages."""
    return base * answered_messages(run)


def kept_steps(steps: Sequence[Step], new: Sequence[Step], omitted: int) -> tuple[list[Step], int]:
    """The history with ``new`` steps added while it has room, and the count of those left out."""
    room = max(0, MAX_STEPS - len(steps))
    return [*steps, *new[:room]], omitted + max(0, len(new) - room)
