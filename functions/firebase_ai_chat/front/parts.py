"""What every call of the front API works with (``FrontParts``), and the small pieces they share."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..commands import ChatCommand
from ..limits import UsageDocument
from ..models import ChatResult, ChatState
from ..store.port import ChatStore
from ..tasks.port import TaskQueue
from ..tasks.watchdog_timer import WatchdogTimer
from ..usage import Gate
from .stop import CommittedStop


def new_dispatch_id() -> str:
    """A fresh dispatch id (also the Cloud Task name suffix, so letters, digits and dashes only)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class FrontParts:
    """The store, the queue and the settings of one ``AssistantChat`` (see its ``__init__``)."""

    store: ChatStore
    queue: TaskQueue
    dispatch_ids: Callable[[], str]
    stop_wait: float
    gate: Gate | None
    paused: Callable[[], bool]
    claim_patience: float
    watchdog: WatchdogTimer
    committed_stop: CommittedStop

    def result(self, chat_id: str, state: ChatState) -> ChatResult:
        """What a call returns: the chat's document path, status and data."""
        return ChatResult(chat_document=f"{self.store.collection}/{chat_id}", status=state.status, data=state.data)


def data_dict(data: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    return data.model_dump(mode="json") if isinstance(data, BaseModel) else dict(data)


def copied_meta(meta: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(meta) if meta is not None else None


def metered(command: ChatCommand, usage: list[UsageDocument]) -> ChatCommand:
    """``command`` carrying the usage its post wrote (the last attempt's: the one committed), so the
    worker meters the run without reading it again."""
    return command.model_copy(update={"usage": usage[-1]}) if usage else command
