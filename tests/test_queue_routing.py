"""Several worker queues (``Capacity.queues``): every command of a chat goes to the same queue, in
every process, from everywhere a run is enqueued (posts, the worker's follow-ups, resumed
continuations, the watchdog); any worker function answers any chat's task (in memory, no servers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from crew import CALC, PHRASES, Total

import firebase_ai_chat
from firebase_ai_chat import AssistantChat, ChatWorker
from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.engines.offline import OfflineEngine
from firebase_ai_chat.runtime.continuations import ContinuationScheduler
from firebase_ai_chat.tasks.routed import RoutedQueue, queue_index
from firebase_ai_chat.testing import InMemoryChatStore, InMemoryTaskQueue
from firebase_ai_chat.tools import ToolContext, Toolset

QUEUES = 3
IDS = [f"chat{n}" for n in range(200)]


def test_a_chat_picks_the_same_queue_in_every_process() -> None:
    here = [queue_index(chat_id, QUEUES) for chat_id in IDS]
    library = os.path.dirname(os.path.dirname(firebase_ai_chat.__file__))
    code = f"from firebase_ai_chat.tasks.routed import queue_index; print([queue_index(i, {QUEUES}) for i in {IDS!r}])"
    for seed in ("1", "2"):  # Python's own str hash differs with the seed: the route must not
        there = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": library},
        )
        assert json.loads(there.stdout) == here
    assert min(Counter(here).values()) > len(IDS) // QUEUES // 2  # spread over every queue


def _suspending_tools() -> tuple[Toolset[Total], list[str]]:
    tools: Toolset[Total] = Toolset(Total)
    parked: list[str] = []

    @tools.tool(description="Add")
    def add(ctx: ToolContext[Total], value: float) -> Total:
        return Total(sum=ctx.data.sum + value)

    @tools.tool(description="Multiply, later")
    def multiply(ctx: ToolContext[Total], value: float) -> object:
        parked.append(ctx.continuation.id)
        return ctx.continuation.suspend()

    return tools, parked


def test_every_command_of_a_chat_goes_to_its_queue_and_any_worker_answers_it() -> None:
    store = InMemoryChatStore()
    queues = [InMemoryTaskQueue() for _ in range(QUEUES)]
    routed = RoutedQueue(queues)
    tools, parked = _suspending_tools()
    worker = ChatWorker(
        store=store, queue=routed, engines={"offline": OfflineEngine(PHRASES)}, dispatchers={"calc": tools}
    )
    front = AssistantChat(store=store, queue=routed)
    chats = [
        front.create(user_id="u", assistant=CALC, data=Total(), messages=[f"add {n}"]).chat_document.split("/")[1]
        for n in range(12)
    ]
    for chat_id in chats:  # a post while the run waits: its follow-up run is enqueued by the worker
        front.post_message(user_id="u", chat_id=chat_id, messages=["multiply by 2"])
    for queue in reversed(queues):
        queue.drain(worker)
    scheduler = ContinuationScheduler(store=store, queue=routed, wait_seconds=0.2)
    assert len(parked) == len(chats)
    for continuation in parked:
        assert scheduler.resume(continuation, tools.resumer("multiply", lambda data: Total(sum=data.sum * 2)))
    mixed = [command for queue in queues for command in queue.pending]
    for queue in queues:
        queue.pending.clear()
    for command in reversed(mixed):  # any worker function answers any chat's task: one worker for all
        worker.handle(command)
    for chat_id in chats:
        state = store.load(chat_id).state
        assert state is not None and state.status == "userInput" and state.data == {"sum": (chats.index(chat_id)) * 2}
    for index, queue in enumerate(queues):
        for command in queue.enqueued:
            assert queue_index(command.chat_id, QUEUES) == index, command
    assert all(routed.queue_for(chat_id) is queues[queue_index(chat_id, QUEUES)] for chat_id in chats)
    assert sum(len(queue.enqueued) for queue in queues) >= 3 * len(chats)  # start, follow-up, resume


def test_a_single_queue_is_used_as_is() -> None:
    only = InMemoryTaskQueue()
    routed = RoutedQueue([only])
    command = ChatCommand(chat_id="c1", dispatch_id="d1")
    routed.enqueue(command)
    assert only.enqueued == [command]
