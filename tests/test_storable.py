"""What a tool may hand back (``storable.py``, ``tools.checked``) and what a task may carry: no servers."""

from __future__ import annotations

import pytest

from firebase_ai_chat.tasks import enqueue_task
from firebase_ai_chat.tools.results import DataReduction, ToolFailure, ToolValue, checked, reduce
from firebase_ai_chat.tools.storable import MAX_RESULT_CHARS, storable_problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"sum": 2**63}, "the integer 9223372036854775808 is out of range (64 bits)"),
        ({"sum": -(2**63) - 1}, "is out of range (64 bits)"),
        ({"sum": float("inf")}, "inf is not a finite number"),
        ([float("nan")], "nan is not a finite number"),
        ([[1, 2]], "an array may not directly hold another array"),
        ({"": 1}, "is not a non-empty string"),
        ({1: 1}, "is not a non-empty string"),
        ({"when": object()}, "a value of type object is not JSON"),
        ("x" * (MAX_RESULT_CHARS + 1), "it is too large"),
    ],
)
def test_values_firestore_or_json_cannot_hold_are_named(value: object, problem: str) -> None:
    found = storable_problem(value)
    assert found is not None and problem in found


def test_plain_json_within_bounds_is_storable() -> None:
    assert storable_problem({"sum": 2**63 - 1, "list": [1, {"a": [2]}], "f": 1.5, "none": None, "b": True}) is None


def test_deep_nesting_is_refused() -> None:
    value: object = 1
    for _ in range(25):
        value = {"a": value}
    assert "nests deeper" in (storable_problem(value) or "")


def test_checked_turns_unstorable_results_into_tool_errors() -> None:
    assert checked(ToolValue(value=1), "t") == ToolValue(value=1)
    assert checked(DataReduction(data={"sum": 2**64}), "t") == ToolFailure(
        message="t returned data that cannot be stored: the integer 18446744073709551616 is out of range (64 bits)."
    )
    long = checked(ToolFailure(message="x" * 5000), "t")
    assert isinstance(long, ToolFailure) and len(long.message) == 2000


def test_reduce_refuses_a_model_holding_infinity() -> None:
    from pydantic import BaseModel

    class Data(BaseModel):
        sum: float

    with pytest.raises(ValueError, match="inf is not a finite number"):
        reduce(Data(sum=float("inf")))


def test_a_task_payload_must_be_plain_json() -> None:
    with pytest.raises(ValueError, match="not plain JSON"):
        enqueue_task("multiplier", {"factor": float("inf")}, task_id="t")
