"""What a tool receives: the chat's data and ids (``ToolContext``), its continuation, and the
hand-over and hand-back it may ask for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel

from ..models import AssistantConfig
from .results import Suspended

DataT = TypeVar("DataT", bound=BaseModel)


@dataclass(frozen=True)
class HandOver:
    """A request, made by a tool, to switch the chat to ``assistant`` (a config, or the name of one the
    worker knows), with messages for it."""

    assistant: AssistantConfig | str
    messages: tuple[str, ...] = ()
    by_user: bool = False
    """The messages are the user's own (the request that made the chat change hands), not the app's."""


@dataclass(frozen=True)
class HandBack:
    """A request, made by a tool, to return the chat to the previous assistant."""

    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChatContext:
    """What a tool may know about the chat it runs in."""

    chat_id: str
    user_id: str
    dispatch_id: str
    assistant: AssistantConfig


@dataclass(frozen=True)
class Continuation:
    """The continuation of one tool call.

    ``id`` is stable for the call (give it to whatever finishes the work later);
    ``suspend()`` is what a tool returns to finish later.
    """

    id: str

    @staticmethod
    def suspend() -> Suspended:
        """The result that suspends the tool call."""
        return Suspended()


@dataclass
class ToolContext(Generic[DataT]):
    """Passed to a tool function: the chat data, the chat, the continuation and hand-over actions."""

    data: DataT
    chat: ChatContext
    continuation: Continuation
    actions: list[HandOver | HandBack] = field(default_factory=list)

    def hand_over(self, assistant: AssistantConfig | str, *, messages: Sequence[str] = ()) -> None:
        """After this turn's tools, switch the chat to ``assistant`` (the current one is stacked): a
        config, or the name of an assistant of the ``ChatApp``.

        ``messages`` are the new assistant's input; without them it gets the user's messages of
        the command being run (the request that made the chat change hands).
        """
        self.actions.append(HandOver(assistant=assistant, messages=tuple(messages)))

    def hand_back(self, *, messages: Sequence[str] = ()) -> None:
        """After this turn's tools, return the chat to the assistant it was handed over from."""
        self.actions.append(HandBack(messages=tuple(messages)))
