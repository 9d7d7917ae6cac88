"""The owner's stop as the front API makes it: ``stopRequested`` for the worker that runs the answer,
or, for a run no worker runs (a suspended call), the runtime's stop from what is committed, given as
a ``CommittedStop`` (the front never imports ``runtime/``). How a run hears a stop and what it
becomes: ``runtime/stop.py``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..commands import ChatCommand
from ..errors import ChatError, ErrorCode
from ..models import Author, ChatMessage, ChatState
from ..records import Next, RunState, next_step, run_path
from ..status import ChatStatus
from ..store.documents import ChatSnapshot, ChatWrite, read_record
from .client_keys import owned

Messages = Callable[[str, Author], Sequence[ChatMessage]]
"""The messages of one dispatch by one author, in order (``ChatStore.messages`` of the chat)."""


@dataclass(frozen=True)
class StopOutcome:
    """The chat after a stop change, whether the run is stopped, and the queued posts' run to enqueue."""

    state: ChatState
    done: bool
    follow: ChatCommand | None = None


class CommittedStop(Protocol):
    """Stops the run of ``dispatch_id`` from what is committed, when no worker stops it: the
    runtime's ``stop_committed`` (``runtime/stop.py``), which ``ChatApp`` gives the front API."""

    def __call__(
        self, snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, messages: Messages
    ) -> tuple[ChatWrite, StopOutcome]: ...


def request_stop(
    snapshot: ChatSnapshot, *, chat_id: str, user_id: str, messages: Messages, committed: CommittedStop
) -> tuple[ChatWrite, StopOutcome]:
    """The owner's stop: nothing to do unless the chat is ``processing``; a run that waits for a
    continuation (no worker runs it) is stopped at once; else ``stopRequested`` tells its worker."""
    chat = owned(snapshot.state, user_id)
    if chat.status is not ChatStatus.PROCESSING:
        return ChatWrite(), StopOutcome(chat, True)
    run = read_record(snapshot, run_path(chat.latest_dispatch_id), RunState)
    if run is not None and next_step(run) is Next.SUSPEND:
        return committed(snapshot, chat_id=chat_id, dispatch_id=chat.latest_dispatch_id, messages=messages)
    if chat.stop_requested == chat.latest_dispatch_id:
        return ChatWrite(), StopOutcome(chat, False)
    requested = chat.model_copy(update={"stop_requested": chat.latest_dispatch_id})
    return ChatWrite(state=requested), StopOutcome(requested, False)


def cannot_stop(
    snapshot: ChatSnapshot, *, chat_id: str, dispatch_id: str, messages: Messages
) -> tuple[ChatWrite, StopOutcome]:
    """The committed stop of a front API built without one: refused, saying how to give it."""
    raise ChatError(
        ErrorCode.FAILED_PRECONDITION,
        "No worker stopped this answer, and this AssistantChat cannot stop it itself: "
        "build it with committed_stop=firebase_ai_chat.runtime.stop_committed (ChatApp does).",
    )
