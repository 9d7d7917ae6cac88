"""The package's layers hold (``docs/ARCHITECTURE.md``, "Layers"): read from the source, and shown to
fail on a package that breaks each rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from import_contract import ADAPTERS, violations

from firebase_ai_chat._moved import MOVED

PACKAGE = Path(__file__).resolve().parents[1] / "functions" / "firebase_ai_chat"


def test_the_package_keeps_its_import_contract() -> None:
    assert violations(PACKAGE) == []


def test_every_adapter_named_by_the_contract_exists() -> None:
    for adapter in ADAPTERS:
        path = PACKAGE.joinpath(*adapter.split("."))
        assert path.is_dir() or path.with_suffix(".py").is_file(), adapter


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "broken"),
    [
        ({"models.py": "import flask\n"}, "models imports flask: only an adapter may"),
        ({"runtime/turn.py": "from google.cloud import firestore\n"}, "runtime.turn imports google"),
        ({"tools/context.py": "import openai\n"}, "tools.context imports openai"),
        ({"store/port.py": "from ..testing.faults import CrashOnMarker\n", "testing/faults.py": ""},
         "store.port imports testing.faults: nothing outside testing/ may"),
        ({"front/chat.py": "from ..runtime import worker\n", "runtime/worker.py": ""},
         "front.chat imports runtime.worker: front/ never imports runtime/"),
        ({"a.py": "from .b import x\n", "b.py": "from .c import y\n", "c.py": "from . import a\n"},
         "import cycle: a -> b -> c -> a"),
    ],
    ids=["sdk-in-core", "google-in-runtime", "openai-in-tools", "testing-in-production", "front-on-runtime", "cycle"],
)  # fmt: skip
def test_a_package_breaking_a_rule_is_caught(tmp_path: Path, files: dict[str, str], broken: str) -> None:
    found = violations(_package(tmp_path, {"__init__.py": "", **files}))
    assert any(broken in line for line in found), found


def test_what_adapters_and_type_checking_import_is_allowed(tmp_path: Path) -> None:
    allowed = {
        "firebase/functions.py": "import flask\nfrom firebase_functions import https_fn\n",
        "store/firestore.py": "from google.cloud import firestore\n",
        "engines/openai/chat.py": "import openai\n",
        "testing/faults.py": "from ..runtime import worker\n",
        "runtime/worker.py": "from ..front import stop\n",
        "front/stop.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..runtime import worker\n",
    }
    assert violations(_package(tmp_path, {"__init__.py": "", **allowed})) == []


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_a_module_path_of_0_2_still_imports_with_a_warning_naming_its_new_home(old: str, new: str) -> None:
    code = (
        "import importlib, warnings\n"
        "warnings.simplefilter('error')\n"
        f"try:\n    importlib.import_module('firebase_ai_chat.{old}')\n"
        "except DeprecationWarning as warning:\n    print(warning)\n"
        f"warnings.simplefilter('ignore')\n"
        f"old = importlib.import_module('firebase_ai_chat.{old}')\n"
        f"print(old is importlib.import_module('firebase_ai_chat.{new}'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    warned, same = done.stdout.strip().splitlines()
    assert warned == f"firebase_ai_chat.{old} moved to firebase_ai_chat.{new}; the old path goes in the next release"
    assert same == "True"
