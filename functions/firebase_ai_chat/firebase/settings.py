"""``AppSettings``: what a ``ChatApp`` is declared with, checked when ``main.py`` loads, and the names
it derives (its worker functions, their task queues)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel

from ..capacity import Capacity
from ..models import AssistantConfig, ChatMeta
from .app_check import AppCheck


@dataclass(frozen=True)
class AppSettings:
    """The app's declaration (see ``ChatApp``); the first of ``configs`` answers new chats."""

    data: type[BaseModel]
    configs: Mapping[str, AssistantConfig]
    worker_name: str
    capacity: Capacity
    collection: str
    region: str | None = None
    meta: ChatMeta | None = None
    max_attempts: int = 3
    app_check: AppCheck | None = None
    user_documents: tuple[str, ...] = ()
    retention: timedelta | None = None
    secrets: tuple[str, ...] = ("OPENAI_API_KEY",)
    """The secrets the worker binds (Secret Manager names): its model keys, and any its tools need."""

    @property
    def first(self) -> AssistantConfig:
        """The assistant that answers a new chat."""
        return next(iter(self.configs.values()))

    @property
    def worker_names(self) -> list[str]:
        """The worker's functions, one per queue (``capacity.queues``): ``worker``, then ``{worker}2`` …"""
        return [self.worker_name, *(f"{self.worker_name}{n}" for n in range(2, self.capacity.queues + 1))]

    def queue_name(self, function: str) -> str:
        """The task queue of the function ``function`` (in the app's region)."""
        return f"locations/{self.region}/functions/{function}" if self.region else function
