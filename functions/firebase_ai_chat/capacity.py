"""``Capacity``: how many runs the worker answers at once, as one setting of the app.

A run waits on the model for seconds and uses little CPU, so one worker instance serves many runs
at once, each in a thread (function concurrency, 2nd gen; it needs at least one CPU). From one
``Capacity`` the worker's functions get everything Firebase deploys:

- ``concurrency`` = ``runs_per_instance`` (and ``cpu=1``: Cloud Run refuses concurrency > 1 below
  one CPU);
- ``max_instances`` and ``min_instances`` as given;
- the task queue's ``max_concurrent_dispatches`` = ``runs_per_instance * max_instances``: the queue
  never holds back a run that an instance could serve, nor dispatches more than the instances can
  take (without ``max_instances``, Cloud Tasks' own default, 1000);
- ``queues`` worker functions, each with its own task queue and the settings above (Cloud Tasks
  dispatches at most 500 tasks per second per queue): a chat always goes to the same one
  (``tasks/routed.py``).

So the app answers at most ``queues * runs_per_instance * max_instances`` runs at once; at 5-15 s
a run that is ``runs / 15`` to ``runs / 5`` turns per second. The default (16 * 50 = 800 runs at
once, about 50-160 turns per second) suits a launch; README "Sizing the worker" says how to size it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

RUNS_PER_INSTANCE = 16
"""Default runs one worker instance serves at once (threads; each mostly waits on the model)."""
MAX_INSTANCES = 50
"""Default cap on the worker's instances (per queue): with ``RUNS_PER_INSTANCE``, 800 runs at once."""
MEMORY_MB = 512
"""Default memory of a worker instance: ``RUNS_PER_INSTANCE`` runs with their SDK clients and buffers."""
DISPATCHES_PER_SECOND = 500
"""Cloud Tasks' ceiling (and default) of dispatches per second of one queue."""


class Capacity(BaseModel):
    """How many runs the worker answers at once; see the module."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    runs_per_instance: int = Field(default=RUNS_PER_INSTANCE, ge=1, le=1000)
    """Runs one instance serves at once (the function's ``concurrency``; Cloud Run allows 1000)."""
    max_instances: int | None = Field(default=MAX_INSTANCES, ge=1)
    """Instances of each worker function at most (``None``: the platform's default, no dispatch cap)."""
    min_instances: int = Field(default=0, ge=0)
    """Instances kept warm (billed while idle)."""
    memory_mb: int | None = Field(default=MEMORY_MB, ge=128)
    """Memory of an instance, MB (``None``: Firebase's default, 256)."""
    queues: int = Field(default=1, ge=1, le=100)
    """Worker functions, each with its own queue: raises the 500 dispatches per second of one queue."""

    @property
    def max_concurrent_dispatches(self) -> int | None:
        """What each worker queue dispatches at once: every run its instances can serve, no more."""
        return None if self.max_instances is None else self.runs_per_instance * self.max_instances

    @property
    def runs_at_once(self) -> int | None:
        """Runs the whole app answers at once (``None``: bounded only by the platform)."""
        dispatches = self.max_concurrent_dispatches
        return None if dispatches is None else dispatches * self.queues


def from_concurrency(concurrency: int) -> Capacity:
    """What the deprecated ``ChatApp(concurrency=N)`` meant: N runs at once in the whole app (the
    queue's concurrent dispatches), now served by one instance of N threads."""
    return Capacity(runs_per_instance=concurrency, max_instances=1)
