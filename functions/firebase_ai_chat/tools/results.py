"""What a tool hands back: a value, the chat's new data, an error the model reads, or a suspension;
how each is checked (storable, bounded) and what the model is sent for it."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .._lazy_model import LazyModel
from .storable import storable_problem

logger = logging.getLogger(__name__)


class ToolValue(LazyModel):
    """A JSON result for the model."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["value"] = "value"
    value: Any = None


class DataReduction(LazyModel):
    """The chat's new ``data``: persisted with the result and sent to the model."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["data"] = "data"
    data: dict[str, Any]


class ToolFailure(LazyModel):
    """A tool error: sent to the model as the call's output, flagged as an error."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["error"] = "error"
    message: str


class Suspended(LazyModel):
    """The call will be completed later through the continuation scheduler."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["suspend"] = "suspend"


ToolResult = ToolValue | DataReduction | ToolFailure | Suspended
"""What a dispatcher answers."""

CompletedResult = ToolValue | DataReduction | ToolFailure
"""What a continuation is resumed with."""


MAX_FAILURE_CHARS = 2000
"""A ``ToolFailure`` message longer than this is cut (it is stored and sent to the model)."""

Resumer = Callable[[dict[str, Any]], ToolResult]
"""Computes a suspended call's result from the chat data as it is when the call resumes (what it
raises, a suspension or an unstorable result becomes a tool error there: ``runtime/continuations.py``)."""


def _non_finite(value: Any) -> float | None:
    """The first ``inf`` or ``nan`` inside ``value``, if any."""
    if isinstance(value, float):
        return None if math.isfinite(value) else value
    items = value.values() if isinstance(value, Mapping) else value if isinstance(value, list | tuple) else ()
    return next((found for item in items if (found := _non_finite(item)) is not None), None)


def reduce(data: BaseModel | Mapping[str, Any]) -> DataReduction:
    """``DataReduction`` of a data model or mapping.

    Raises ``ValueError`` for a model holding ``inf`` or ``nan`` (JSON would silently turn them into ``null``).
    """
    if isinstance(data, BaseModel):
        if (found := _non_finite(data.model_dump())) is not None:
            raise ValueError(f"{found} is not a finite number")
        return DataReduction(data=data.model_dump(mode="json"))
    return DataReduction(data=dict(data))


def checked(result: ToolResult, tool: str) -> ToolResult:
    """``result`` if it can be stored and sent to the model; else a ``ToolFailure`` saying why."""
    if isinstance(result, ToolFailure):
        if len(result.message) <= MAX_FAILURE_CHARS:
            return result
        return ToolFailure(message=result.message[: MAX_FAILURE_CHARS - 1] + "…")
    payload = (
        result.data if isinstance(result, DataReduction) else result.value if isinstance(result, ToolValue) else None
    )
    problem = storable_problem(payload)
    if problem is None:
        return result
    what = "data" if isinstance(result, DataReduction) else "a result"
    logger.warning("tool %s returned %s that cannot be stored: %s", tool, what, problem)
    return ToolFailure(message=f"{tool} returned {what} that cannot be stored: {problem}.")


def unexpected_failure(tool: str) -> ToolFailure:
    """What the model (and the user) see of an exception a tool raised: no details (they are logged)."""
    return ToolFailure(message=f"{tool} failed unexpectedly. Details are in the server log.")


def result_output(result: ToolResult) -> tuple[str, bool]:
    """The text sent to the model for a completed result, and whether it is an error."""
    if isinstance(result, ToolFailure):
        return json.dumps({"error": result.message}), True
    if isinstance(result, DataReduction):
        return json.dumps({"data": result.data}, sort_keys=True), False
    if isinstance(result, ToolValue):
        return json.dumps({"result": result.value}, sort_keys=True), False
    raise ValueError("a suspended call has no output yet")
