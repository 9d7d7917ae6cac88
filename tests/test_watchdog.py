"""The watchdog of each run (``watchdog.py``): what the scheduled sweeper guaranteed, per chat.

Each scenario runs on both stores (``crew``). Delayed tasks wait on the in-memory queue's clock and
arrive only when the test advances it; the watchdog's own clock is set relative to the chat's
``updatedAt``, so "ten minutes without a commit" is exact on either store.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crew import Crew
from support import count

from firebase_ai_chat.commands import ChatCommand
from firebase_ai_chat.runtime.watchdog import MAX_REQUEUES, STUCK_MESSAGE, Verdict
from firebase_ai_chat.tasks.watchdog_timer import WATCHDOG_DEADLINE

LATER = WATCHDOG_DEADLINE + timedelta(seconds=1)


def _updated_at(crew: Crew, chat_id: str) -> datetime:
    state = crew.store.load(chat_id).state
    assert state is not None and state.updated_at is not None
    return state.updated_at


def _quiet_for(crew: Crew, chat_id: str, quiet: timedelta) -> None:
    """From now on the watchdog sees the chat as not updated for ``quiet``."""
    updated = _updated_at(crew, chat_id)
    crew.watch_clock = lambda: updated + quiet


def _watchdogs_due(crew: Crew, by: timedelta = LATER) -> list[ChatCommand]:
    """Advance the queue's clock by ``by``; the watchdogs then due, taken out of the queue."""
    crew.queue.advance(by)
    due = [command for command in crew.queue.pending if command.action == "watchdog"]
    crew.queue.pending = [command for command in crew.queue.pending if command.action != "watchdog"]
    return due


def _lose_run_tasks(crew: Crew) -> int:
    """Drop the run tasks waiting (a worker that died after its last retry, a lost enqueue)."""
    lost = len(crew.queue.pending)
    crew.queue.pending.clear()
    return lost


def test_a_new_chat_arms_its_watchdog_before_anything_runs(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    dispatch_id = crew.state(chat_id)["latestDispatchId"]
    assert [(s.command.action, s.command.dispatch_id, s.due) for s in crew.queue.scheduled] == [
        ("watchdog", dispatch_id, WATCHDOG_DEADLINE)
    ]
    assert [c.action for c in crew.queue.pending] == ["run"]  # the watchdog is not due yet: drain leaves it
    crew.drain()
    assert crew.state(chat_id)["status"] == "userInput"
    assert len(crew.queue.scheduled) == 1


def test_a_run_that_ended_ends_its_watchdog(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    crew.drain()
    _quiet_for(crew, chat_id, LATER)
    [watchdog] = _watchdogs_due(crew)
    assert crew.watchdog.check(watchdog).verdict is Verdict.ENDED
    assert not crew.queue.scheduled and not crew.queue.pending  # no next watchdog, nothing re-enqueued


def test_a_lost_run_task_is_re_enqueued_and_answered(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    assert _lose_run_tasks(crew) == 1  # as a crash between the commit and the run's enqueue
    _quiet_for(crew, chat_id, LATER)
    [watchdog] = _watchdogs_due(crew)
    found = crew.watchdog.check(watchdog)
    assert found.verdict is Verdict.REQUEUED and found.requeued is not None and found.requeued.sweep == 1
    assert [c.sweep for c in crew.queue.pending] == [1]
    crew.drain()
    assert crew.state(chat_id)["status"] == "userInput"
    assert crew.state(chat_id)["data"] == {"sum": 2}
    assert crew.record(chat_id, f"sweeps/{watchdog.dispatch_id}") == {"count": 1}
    [following] = _watchdogs_due(crew)  # re-armed by the re-enqueue, it finds the run over
    assert following.watch == 1
    assert crew.watchdog.check(following).verdict is Verdict.ENDED
    count("stuck chats recovered")


def test_a_run_stuck_for_good_fails_after_the_last_re_enqueue(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    verdicts = []
    for _ in range(MAX_REQUEUES + 1):
        _lose_run_tasks(crew)
        _quiet_for(crew, chat_id, LATER)
        [watchdog] = _watchdogs_due(crew)
        verdicts.append(crew.watchdog.check(watchdog).verdict)
    assert verdicts == [Verdict.REQUEUED] * MAX_REQUEUES + [Verdict.FAILED]
    state = crew.state(chat_id)
    assert state["status"] == "failed"
    assert state["error"] == {"code": "deadline-exceeded", "message": STUCK_MESSAGE}
    assert not crew.queue.scheduled and not crew.queue.pending
    count("stuck chats failed")


def test_a_chat_updated_within_the_deadline_re_arms_for_the_rest_of_it(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    _lose_run_tasks(crew)
    _quiet_for(crew, chat_id, timedelta(minutes=4))
    [watchdog] = _watchdogs_due(crew)
    found = crew.watchdog.check(watchdog)
    assert found.verdict is Verdict.WAITING and found.next_in == timedelta(minutes=6)
    assert [(s.command.watch, s.due - crew.queue.elapsed) for s in crew.queue.scheduled] == [(1, timedelta(minutes=6))]
    assert crew.state(chat_id)["status"] == "processing" and not crew.queue.pending


def test_a_post_queued_behind_a_run_is_watched_until_its_own_run_ends(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    crew.post(chat_id, "add 3")  # queued under nextDispatchId: its watchdog is armed too
    queued = crew.state(chat_id)["nextDispatchId"]
    assert sorted(s.command.dispatch_id == queued for s in crew.queue.scheduled) == [False, True]
    _quiet_for(crew, chat_id, LATER)
    by_dispatch = {w.dispatch_id: w for w in _watchdogs_due(crew)}
    assert crew.watchdog.check(by_dispatch[queued]).verdict is Verdict.WAITING  # the live run is another
    crew.drain()  # the first run, then the follow-up
    assert crew.state(chat_id)["data"] == {"sum": 5}
    assert crew.state(chat_id)["status"] == "userInput"
    _quiet_for(crew, chat_id, LATER)
    left = _watchdogs_due(crew) + _watchdogs_due(crew, WATCHDOG_DEADLINE)
    assert left and {crew.watchdog.check(w).verdict for w in left} == {Verdict.ENDED}


def test_a_watchdog_of_a_deleted_chat_ends(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    _lose_run_tasks(crew)
    crew.store.delete_chat(chat_id)
    [watchdog] = _watchdogs_due(crew)
    assert crew.watchdog.check(watchdog).verdict is Verdict.ENDED
    assert not crew.queue.scheduled and not crew.queue.pending


def test_the_worker_handles_a_watchdog_task_and_never_fails_the_chat_for_it(crew: Crew) -> None:
    chat_id = crew.start("add 2")
    _lose_run_tasks(crew)
    _quiet_for(crew, chat_id, LATER)
    crew.queue.advance(LATER)
    assert [c.action for c in crew.queue.pending] == ["watchdog"]
    crew.drain()  # the worker checks the watchdog, which re-enqueues the run, which the worker answers
    assert crew.state(chat_id)["status"] == "userInput"
    assert crew.state(chat_id)["data"] == {"sum": 2}


def test_a_suspended_call_is_treated_as_the_sweeper_treated_it(crew: Crew) -> None:
    chat_id = crew.start("multiply by 2", total=3)
    crew.drain()  # the call waits for its continuation: the chat stays processing
    assert crew.state(chat_id)["status"] == "processing"
    _quiet_for(crew, chat_id, LATER)
    [watchdog] = _watchdogs_due(crew)
    assert crew.watchdog.check(watchdog).verdict is Verdict.REQUEUED
    crew.drain()  # the re-enqueued run finds the call still waiting and changes nothing
    assert crew.state(chat_id)["status"] == "processing"
    assert crew.resume(0) is True
    crew.drain()
    assert crew.state(chat_id)["data"] == {"sum": 6}
