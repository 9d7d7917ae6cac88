"""The test crew: a calculator-like set of assistants and tools on any ``ChatStore``, delivered by hand.

Tasks wait in an ``InMemoryTaskQueue`` until a test delivers them, so each scenario plays one exact
interleaving of deliveries, redeliveries and continuation resumes. ``tests/conftest.py`` gives a
``crew`` on the in-memory store (fast) and on the Firestore emulator (the adapter).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from firebase_ai_chat import (
    AssistantChat,
    AssistantConfig,
    ChatError,
    ChatWorker,
    ContinuationScheduler,
    ErrorCode,
    RunHooks,
)
from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.engines.base import Engine, ToolSpec
from firebase_ai_chat.engines.offline import OfflineEngine, Phrase
from firebase_ai_chat.models import ChatMessage
from firebase_ai_chat.runtime import stop_committed
from firebase_ai_chat.runtime.streaming import STREAM_INTERVAL
from firebase_ai_chat.runtime.watchdog import Watchdog
from firebase_ai_chat.store.documents import ChatWrite, Loaded
from firebase_ai_chat.store.port import ChatStore
from firebase_ai_chat.testing import InMemoryTaskQueue
from firebase_ai_chat.tools import Continuation, Dispatch, ToolContext, Toolset, ToolValue

SECRET = "<html><body>Traceback: /srv/app/secret_module.py line 12</body></html>"


class Total(BaseModel):
    """The test chat's data."""

    sum: int | float = 0


class Number(BaseModel):
    """A finite number."""

    value: float = Field(allow_inf_nan=False)


def whole(value: float) -> int | float:
    """Whole numbers as ints, as the example app shows them."""
    return int(value) if float(value).is_integer() else value


NUMBER = r"(-?\d+(?:\.\d+)?)"
PHRASES = [
    Phrase(rf"add {NUMBER}", "add", lambda m: {"value": float(m[1])}),
    Phrase(rf"multiply by {NUMBER}", "multiply", lambda m: {"value": float(m[1])}),
    Phrase(r"halve", "halve"),
    Phrase(r"switch", "switch"),
    Phrase(r"explode", "explode"),
    Phrase(r"huge", "huge"),
    Phrase(r"crash", "crash"),
]
CALC = AssistantConfig(engine="offline", assistant_id="calc", dispatcher_id="calc")
HALF = AssistantConfig(engine="offline", assistant_id="half", dispatcher_id="half")


class RaisingDispatcher:
    """A hand-written dispatcher (no ``Toolset``) whose tool raises with a leaky message."""

    def specs(self) -> list[ToolSpec]:
        return [ToolSpec(name="crash", description="Crash", parameters={"type": "object", "properties": {}})]

    def dispatch(
        self, data: Mapping[str, Any], name: str, args: str, continuation: Continuation, chat: Any
    ) -> Dispatch:
        raise RuntimeError(SECRET)


class Crew:
    """The calculator-like crew of these tests, on the emulator's Firestore, delivered by hand."""

    def __init__(
        self,
        store: ChatStore,
        user_id: str,
        messages: Callable[[str], Sequence[ChatMessage]],
        *,
        engine: Engine | None = None,
        engines: Mapping[str, Engine] | None = None,
        hooks: Sequence[RunHooks] = (),
        stream_interval: float = STREAM_INTERVAL,
    ) -> None:
        self.user_id = user_id
        self.store = store
        self._messages = messages
        self.queue = InMemoryTaskQueue()
        self.parked: list[tuple[str, float]] = []
        self.on_multiply: Callable[[str], None] | None = None
        self.on_add: Callable[[], None] | None = None
        self.scheduler = ContinuationScheduler(store=self.store, queue=self.queue, wait_seconds=0.2)
        self.watch_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """What the watchdog takes for now (a test sets it relative to the chat's ``updatedAt``)."""
        self.watchdog = Watchdog(store=self.store, queue=self.queue, clock=lambda: self.watch_clock())
        self.chat = AssistantChat(
            store=self.store, queue=self.queue, watchdog=self.watchdog, committed_stop=stop_committed
        )
        self.tools = self._calculator()
        self.worker = ChatWorker(
            store=self.store,
            queue=self.queue,
            engines={"offline": engine or OfflineEngine(PHRASES), **(engines or {})},
            dispatchers={"calc": self.tools, "half": self._halver(), "raising": RaisingDispatcher()},
            hooks=hooks,
            stream_interval=stream_interval,
            watchdog=self.watchdog,
        )

    def _calculator(self) -> Toolset[Total]:
        tools = Toolset(Total)

        @tools.tool(description="Add")
        def add(ctx: ToolContext[Total], args: Number) -> Total:
            if self.on_add is not None:
                self.on_add()
            return Total(sum=whole(ctx.data.sum + args.value))

        @tools.tool(description="Multiply, later")
        def multiply(ctx: ToolContext[Total], args: Number) -> Any:
            self.parked.append((ctx.continuation.id, args.value))
            if self.on_multiply is not None:
                self.on_multiply(ctx.continuation.id)
            return ctx.continuation.suspend()

        @tools.tool(description="Hand over to the halver")
        def switch(ctx: ToolContext[Total]) -> ToolValue:
            ctx.hand_over(HALF, messages=["halve"])
            return ToolValue(value="the halver takes over")

        @tools.tool(description="Raise")
        def explode(ctx: ToolContext[Total]) -> Total:
            raise RuntimeError(SECRET)

        @tools.tool(description="Return a number Firestore cannot store")
        def huge(ctx: ToolContext[Total]) -> Total:
            return Total(sum=2**70)

        return tools

    @staticmethod
    def _halver() -> Toolset[Total]:
        tools = Toolset(Total)

        @tools.tool(description="Halve the sum")
        def halve(ctx: ToolContext[Total]) -> Total:
            return Total(sum=whole(ctx.data.sum / 2))

        return tools

    def start(self, text: str, *, total: float = 0, assistant: AssistantConfig = CALC) -> str:
        """Create a chat with ``text`` (its run waits in the queue); returns the chat id."""
        result = self.chat.create(user_id=self.user_id, assistant=assistant, data=Total(sum=total), messages=[text])
        return result.chat_document.split("/", 1)[1]

    def stop(self, chat_id: str, *, wait: float = 30.0) -> dict[str, Any]:
        """The owner stops the chat's answer, giving the worker ``wait`` s before stopping it from what is
        committed; returns the call's result (``{chatDocument, status, data}``)."""
        front = AssistantChat(store=self.store, queue=self.queue, stop_wait=wait, committed_stop=stop_committed)
        return front.stop(user_id=self.user_id, chat_id=chat_id).to_document()

    def post(self, chat_id: str, text: str) -> None:
        """The owner posts ``text`` (answered now, or after the run in progress)."""
        self.chat.post_message(user_id=self.user_id, chat_id=chat_id, messages=[text])

    def drain(self) -> int:
        return self.queue.drain(self.worker)

    def multiplied(self, index: int) -> Callable[[dict[str, Any]], Any]:
        factor = self.parked[index][1]
        return self.tools.resumer("multiply", lambda data: Total(sum=whole(data.sum * factor)))

    def resume(self, index: int) -> bool:
        """Resume the ``index``-th parked multiplication with the product of the sum as it is now."""
        return self.scheduler.resume(self.parked[index][0], self.multiplied(index))

    def state(self, chat_id: str) -> dict[str, Any]:
        found = self.store.load(chat_id).state
        assert found is not None
        return found.to_document()

    def record(self, chat_id: str, path: str) -> dict[str, Any] | None:
        return self.store.load(chat_id, [path]).record(path)

    def messages(self, chat_id: str) -> list[ChatMessage]:
        """Every message, as a client lists them."""
        return sorted(self._messages(chat_id), key=lambda m: (m.created_at, m.in_batch_sort_index))

    def ai_texts(self, chat_id: str) -> list[str]:
        return [p for m in self.messages(chat_id) if m.author == "ai" for p in m.text.split("\n\n")]

    def command(self, chat_id: str) -> ChatCommand:
        return ChatCommand(chat_id=chat_id, dispatch_id=self.state(chat_id)["latestDispatchId"])


class FlakyStore:
    """A store that fails one chosen commit with a transient error (as a busy database does)."""

    def __init__(self, store: ChatStore) -> None:
        self._store = store
        self.fail_in: threading.Thread | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def commit(self, base: Loaded, write: ChatWrite) -> Loaded:
        if self.fail_in is threading.current_thread():
            self.fail_in = None
            raise ChatError(ErrorCode.UNAVAILABLE, "The chat is busy. Please try again.")
        return self._store.commit(base, write)
