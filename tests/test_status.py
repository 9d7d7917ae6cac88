"""The status machine, without servers."""

import pytest

from firebase_ai_chat import ChatError, ChatStatus, ErrorCode
from firebase_ai_chat.status import can_transition, check_transition

S = ChatStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CREATED, S.PROCESSING),
        (S.PROCESSING, S.USER_INPUT),
        (S.USER_INPUT, S.PROCESSING),
        (S.PROCESSING, S.COMPLETE),
        (S.USER_INPUT, S.COMPLETE),
        (S.CREATED, S.FAILED),
        (S.PROCESSING, S.FAILED),
        (S.USER_INPUT, S.FAILED),
    ],
)
def test_allowed_transitions(current: ChatStatus, target: ChatStatus) -> None:
    assert can_transition(current, target)
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CREATED, S.USER_INPUT),
        (S.USER_INPUT, S.USER_INPUT),
        (S.COMPLETE, S.PROCESSING),
        (S.COMPLETE, S.FAILED),
        (S.FAILED, S.PROCESSING),
        (S.FAILED, S.COMPLETE),
        (S.USER_INPUT, S.CREATED),
    ],
)
def test_forbidden_transitions_raise_failed_precondition(current: ChatStatus, target: ChatStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(ChatError) as raised:
        check_transition(current, target)
    assert raised.value.code is ErrorCode.FAILED_PRECONDITION
    assert current.value in raised.value.message


def test_final_statuses() -> None:
    assert {status for status in S if status.is_final} == {S.COMPLETE, S.FAILED}


def test_status_values_are_the_firestore_contract() -> None:
    assert [status.value for status in S] == ["created", "processing", "userInput", "complete", "failed"]
