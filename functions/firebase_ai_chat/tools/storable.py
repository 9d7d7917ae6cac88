"""What a tool may hand back: JSON that Firestore can store, of a bounded size.

A tool's value or data is written into Firestore (the run record, the chat's
``data``) and sent to the model as JSON. So it must be plain JSON (no
``Infinity`` or ``NaN``), its integers must fit Firestore's 64 bits, arrays
may not hold arrays directly, maps nest at most 20 deep, keys are non-empty
strings, and the whole stays small. ``storable_problem`` says, in words a
model can act on, why a value is none of these (``None`` when it is fine).
"""

from __future__ import annotations

import json
import math
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 20
"""Firestore nests maps and arrays at most 20 levels deep."""
MAX_RESULT_CHARS = 32_000
"""The largest tool result (as JSON text) a run stores and sends to the model."""


def _problem(value: Any, depth: int, in_array: bool) -> str | None:
    if depth > MAX_DEPTH:
        return f"it nests deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, bool | str):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else f"the integer {value} is out of range (64 bits)"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, list | tuple):
        if in_array:
            return "an array may not directly hold another array"
        return next((p for item in value if (p := _problem(item, depth + 1, True))), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                return f"the key {key!r} is not a non-empty string"
            if problem := _problem(item, depth + 1, False):
                return problem
        return None
    return f"a value of type {type(value).__name__} is not JSON"


def storable_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored and sent as a tool result, or ``None`` when it can."""
    problem = _problem(value, 0, False)
    if problem is not None:
        return problem
    size = len(json.dumps(value, allow_nan=False))
    return None if size <= MAX_RESULT_CHARS else f"it is too large ({size} characters; at most {MAX_RESULT_CHARS})"
