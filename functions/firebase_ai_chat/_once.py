"""``once``: a property computed once per object, safe when many threads ask at the same time.

A worker instance answers many runs at once, each in a thread of the same process: the app's
store, queue, worker and engine are built on first use and shared by all of them.
``functools.cached_property`` no longer locks (Python 3.12), so two threads could each build one
(two Firestore clients, two SDK clients); ``once`` builds exactly one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")

_LOCK = threading.RLock()
"""One for all: a value built from another (the worker from the store) takes it again in the same thread."""


class once(Generic[T]):  # noqa: N801 - used as a decorator, like ``property``
    """Like ``functools.cached_property``, built under a lock: every thread gets the same value."""

    def __init__(self, build: Callable[[Any], T]) -> None:
        self._build = build
        self.__doc__ = build.__doc__
        self._name = build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | once[T]:
        if instance is None:
            return self
        values = instance.__dict__
        if self._name not in values:
            with _LOCK:
                if self._name not in values:
                    values[self._name] = self._build(instance)
        return values[self._name]
