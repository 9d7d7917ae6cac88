"""The modules that moved in 0.3 (the layout by question): their old paths keep working for one
release, with a ``DeprecationWarning`` naming the new one, then go."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED = {
    "app": "firebase.app",
    "app_check": "firebase.app_check",
    "callables": "firebase.callables",
    "firebase_app": "firebase.admin",
    "chat": "front.chat",
    "worker": "runtime.worker",
    "hooks": "runtime.hooks",
    "continuations": "runtime.continuations",
    "firestore": "store.firestore",
    "task_queue": "tasks.port",
    "tasks.queue": "tasks.cloud_tasks",
    "routed_queue": "tasks.routed",
    "http_client": "client",
    "chat_events": "events.log",
    "testing.memory_store": "store.memory",
    "engines.openai_chat": "engines.openai.chat",
    "engines.openai_responses": "engines.openai.responses",
    "storable": "tools.storable",
}
"""Old module (under ``firebase_ai_chat.``) → its home now."""


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old path as its new module (the same module object), warning once per path."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, rest = fullname.partition(".")
        if package != __package__ or rest not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = f"{__package__}.{MOVED[spec.name.partition('.')[2]]}"
        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the next release", DeprecationWarning, 2)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """The new module ran when it was imported."""


def warn_on_moved_modules() -> None:
    """Install the finder of the old paths (once)."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MovedModules())
