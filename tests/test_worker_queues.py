"""The calculator's worker on two queues (``Capacity(queues=2)``: ``calculator``, ``calculator2``) through
the emulators: every task of a chat (its first run, a post's run, the run a resumed ``multiply`` enqueues)
is dispatched by the chat's own queue, and both queues serve chats."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from support import ChatWatcher, wait_until

from firebase_ai_chat.tasks.routed import queue_index
from firebase_ai_chat.testing import EmulatorClient, User

Watch = Callable[[str, str], ChatWatcher]
QUEUES = ("calculator", "calculator2")


def _queues_seen(chat_id: str) -> list[str]:
    """The queues the worker's log names for the deliveries of ``chat_id`` (``X-CloudTasks-QueueName``)."""
    log = Path(os.environ["EMULATOR_LOG"]).read_text(errors="replace")
    pattern = rf"\[chat={re.escape(chat_id)} dispatch=\w+\] run: attempt \d+ of \d+ \(queue [^)]*?-(\w+)\)"
    return re.findall(pattern, log)


def test_each_chat_is_served_by_its_own_queue_and_both_queues_serve(
    client: EmulatorClient, user: User, watch: Watch
) -> None:
    chats: dict[str, ChatWatcher] = {}
    while len({queue_index(c.split("/")[1], 2) for c in chats}) < 2:  # ids are random: until both are hit
        assert len(chats) < 12, "twelve chats on one queue: the route does not spread"
        chat = client.call("calculate", {"message": "add 2"}, user=user)["chatDocument"]
        chats[chat] = watch(chat, user.uid)
    for chat, watcher in chats.items():
        watcher.wait_for_status("userInput")
        client.call("postToCalculate", {"chatDocument": chat, "message": "multiply by 3"}, user=user)
    for chat, watcher in chats.items():
        wait_until(lambda watcher=watcher: _at(watcher, 6), what=f"{chat} at 6")
        chat_id = chat.split("/")[1]
        seen = wait_until(lambda chat_id=chat_id: _deliveries(chat_id, 3), what=f"the deliveries of {chat_id}")
        assert set(seen) == {QUEUES[queue_index(chat_id, 2)]}, (chat_id, seen)  # first, post's, resumed run


def _at(watcher: ChatWatcher, total: int) -> bool:
    return watcher.state.get("status") == "userInput" and watcher.state.get("data") == {"sum": total}


def _deliveries(chat_id: str, at_least: int) -> list[str] | None:
    seen = _queues_seen(chat_id)
    return seen if len(seen) >= at_least else None
