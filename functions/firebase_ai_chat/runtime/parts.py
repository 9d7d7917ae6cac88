"""What every delivery of the worker uses (``WorkerParts``), its signature on the run (``Mark``), and
the one check of whether it may advance a run (``live_run``, else ``Stale``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..engines.base import Engine
from ..records import RunState, run_path
from ..store.documents import Loaded, read_record
from ..store.port import ChatStore
from ..tasks.port import TaskQueue
from .assistants import Assistants
from .hooks import RunHooks
from .spending import Spending


class Stale(Exception):  # noqa: N818 - a state, not an error
    """The command is no longer current, or another delivery moved the run on."""


@dataclass
class Mark:
    """This delivery's signature on the run record, and the run version it first read."""

    writer: str
    first_seen: int | None = None


@dataclass(frozen=True)
class WorkerParts:
    """What every delivery uses: the store, the queue, the engines, the assistants and the hooks."""

    store: ChatStore
    queue: TaskQueue
    engines: Mapping[str, Engine]
    assistants: Assistants
    hooks: tuple[RunHooks, ...]
    max_tool_calls: int
    stream_interval: float
    spending: Spending | None = None
    """Limits and the switch (``spending``); ``None``: the run is never metered."""


def live_run(loaded: Loaded, dispatch_id: str) -> RunState | None:
    """The one check of whether a delivery may advance a run: the chat is ``processing`` this
    dispatch (``Stale`` otherwise); returns its run record, or ``None`` while it has none."""
    chat = loaded.state
    if chat is None or not chat.is_running(dispatch_id):
        raise Stale()
    return read_record(loaded, run_path(dispatch_id), RunState)
