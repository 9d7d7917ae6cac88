"""The package's import contract (``docs/ARCHITECTURE.md``, "Layers"), read from the source with ``ast``.

``violations(package_dir)`` lists every broken rule as a sentence:

- only the adapters import a Google, Firebase, Flask, OpenAI or HTTP SDK (``ADAPTERS``);
- nothing outside ``testing/`` imports ``testing/``;
- ``front/`` never imports ``runtime/`` (the runtime may use the front's stop and key helpers);
- no import cycle between the package's modules.

Imports under ``if TYPE_CHECKING:`` are annotations, not dependencies: they are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SDKS = (
    "google", "grpc", "firebase_admin", "firebase_functions", "functions_framework", "flask", "werkzeug",
    "gunicorn", "openai", "httpx", "httpx_sse", "requests",
)  # fmt: skip
"""Top-level packages that only an adapter may import."""

ADAPTERS = (
    "firebase",  # the Firebase adapter: functions, Admin SDK, flask
    "store.firestore",
    "tasks.cloud_tasks",
    "engines.openai",
    "engines.gemini",
    "client",  # the HTTP client of the callables and chatEvents (httpx)
    "testing",
)
"""Modules (relative to the package, with their submodules) that may import ``SDKS``."""

FORBIDDEN = (("front", "runtime"),)
"""(a, b): nothing in ``a`` imports ``b``."""


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, except those under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            yield node


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> Iterator[str]:
    """What one import statement imports: package modules as names relative to the package
    (prefixed ``.``), anything else as its top-level name."""
    if isinstance(node, ast.Import):
        yield from (alias.name.split(".")[0] for alias in node.names)
        return
    if node.level == 0:
        yield (node.module or "").split(".")[0]
        return
    base = module.split(".") if module else []
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    target = ".".join([*base, *([node.module] if node.module else [])])
    for alias in node.names:  # ``from .x import y``: y may be a submodule
        sub = f"{target}.{alias.name}" if target else alias.name
        yield "." + (sub if sub in known else target)


def graph(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(the package's modules → the package modules each imports, → the outside packages each imports)."""
    paths = {_module_name(root, path): path for path in root.rglob("*.py")}
    known = set(paths)
    inside: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text())
        targets = {
            t for node in _runtime_imports(tree) for t in _targets(module, path.name == "__init__.py", node, known)
        }
        inside[module] = {t[1:] for t in targets if t.startswith(".") and t[1:] != module}
        outside[module] = {t for t in targets if not t.startswith(".")}
    return inside, outside


def _cycle(inside: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is one (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(inside.get(module, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(inside):
        if module not in state and (found := visit(module)):
            return found
    return None


def violations(root: Path) -> list[str]:
    """Every rule ``root`` (a package directory) breaks, one sentence each."""
    inside, outside = graph(root)
    found: list[str] = []
    for module in sorted(inside):
        shown = module or "__init__"
        sdks = sorted(outside[module] & set(SDKS))
        if sdks and not any(_within(module, adapter) for adapter in ADAPTERS):
            found.append(f"{shown} imports {', '.join(sdks)}: only an adapter may ({', '.join(ADAPTERS)})")
        for target in sorted(inside[module]):
            if _within(target, "testing") and not _within(module, "testing"):
                found.append(f"{shown} imports {target}: nothing outside testing/ may")
            for a, b in FORBIDDEN:
                if _within(module, a) and _within(target, b):
                    found.append(f"{shown} imports {target}: {a}/ never imports {b}/")
    cycle = _cycle(inside)
    if cycle:
        found.append("import cycle: " + " -> ".join(m or "__init__" for m in cycle))
    return found
