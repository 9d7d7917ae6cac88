"""A package's curated face: its public names, each imported from its home module on first use.

``__getattr__, __dir__ = face(__name__, globals(), {"module": ("Name", ...)})`` in a package's
``__init__`` re-exports the names (PEP 562) without importing their modules until one is used, so
importing a light name never loads an SDK (the functions' cold start, ``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def face(
    package: str, namespace: MutableMapping[str, Any], homes: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the names ``homes`` lists by module."""
    home = {name: module for module, names in homes.items() for name in names}

    def attribute(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value  # found directly next time
        return value

    def names() -> list[str]:
        return sorted({*namespace, *home})

    return attribute, names
