"""``CloudTasksQueue`` schedules a delayed command (Cloud Tasks' ``scheduleTime``), except against the
Cloud Tasks emulator, which ignores it (``docs/EMULATORS.md``): there a delayed command is not sent.

The Admin SDK's ``task_queue`` is replaced by a recorder: nothing leaves the process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from firebase_admin import functions

from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.tasks import CloudTasksQueue, cloud_tasks

WATCHDOG = ChatCommand(chat_id="c", dispatch_id="d", action="watchdog", watch=2)


class Recorded:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], functions.TaskOptions]] = []

    def enqueue(self, body: dict[str, Any], options: functions.TaskOptions) -> str:
        self.sent.append((body, options))
        return "task"


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    found = Recorded()
    monkeypatch.setattr(cloud_tasks.functions, "task_queue", lambda name, app=None: found)
    return found


def test_a_delayed_command_is_scheduled_in_whole_seconds_rounded_up(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUD_TASKS_EMULATOR_HOST", raising=False)
    CloudTasksQueue("worker").enqueue(WATCHDOG, delay=timedelta(minutes=10, milliseconds=1))
    [(body, options)] = recorded.sent
    assert body == {"data": WATCHDOG.to_document()}
    assert options.task_id == "c-d-watchdog2" and options.schedule_delay_seconds == 601


def test_a_command_without_delay_is_sent_at_once(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:1")
    CloudTasksQueue("worker").enqueue(ChatCommand(chat_id="c", dispatch_id="d"))
    [(_, options)] = recorded.sent
    assert options.task_id == "c-d" and options.schedule_delay_seconds is None


def test_against_the_emulator_a_delayed_command_is_not_sent(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:1")
    CloudTasksQueue("worker").enqueue(WATCHDOG, delay=timedelta(minutes=10))
    assert recorded.sent == []
