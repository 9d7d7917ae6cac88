"""``LazyModel``: a pydantic model whose validator and serializer are built when first used, not when
its module is imported (``defer_build``), one model at a time across threads.

The functions' ``main.py`` is imported by every cold instance of every function, and most of the
library's models are not used by most functions: building them at import would cost every cold start
(``docs/ARCHITECTURE.md``, "Cold start"). pydantic builds a deferred model on its first use through
``model_rebuild``, which is not thread-safe in pydantic 2.13 (a concurrent first use may validate with
a half-built or a parent's validator): here the build holds a lock, and a thread that waited for it
finds the model built. Models of modules imported only on first use need none of this (their module's
import, under Python's import lock, builds them).
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import BaseModel, ConfigDict

_BUILDING = threading.RLock()


class LazyModel(BaseModel):
    """Base of the library's models imported with ``main.py``: built on first use, under a lock."""

    model_config = ConfigDict(defer_build=True)

    @classmethod
    def model_rebuild(
        cls,
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        """``BaseModel.model_rebuild``, one build at a time (a model built meanwhile is not built again)."""
        with _BUILDING:
            if cls.__pydantic_complete__ and not force:
                return None
            depth = _parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0  # this frame
            return super().model_rebuild(
                force=force, raise_errors=raise_errors, _parent_namespace_depth=depth, _types_namespace=_types_namespace
            )
