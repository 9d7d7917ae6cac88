"""Benchmark: what importing the functions' ``main.py`` costs, against importing the SDKs it needs.

Every cold instance of every function imports ``main.py`` before it serves anything (and
``firebase deploy`` imports it to discover the functions). Measured here, each in a fresh process
with the environment of a deployed function (no emulator variables), interleaved
(baseline, app, baseline, app, ...) so that other load on the machine falls on both alike:

- **baseline**: a process importing exactly the SDK modules the app needs at import
  (``SDKS``: firebase-functions' decorators, options and params, firebase-admin, pydantic) and
  defining one pydantic model (``BASELINE``: pydantic's once-per-process first-model cost);
  **strict**, the same without the model, is printed too;
- **app**: a process importing ``main`` from the functions directory (``functions/`` by default;
  ``--before DIR`` adds another, e.g. another checkout's ``functions/``, to compare a change);
- **first call** and **first task**: the import, then what a callable's first request and the
  worker's first task build before their first read (``FIRST_CALL``, ``FIRST_TASK``): what is no
  longer imported with ``main`` is paid there, by the functions that need it.

Each run reports the wall time and the CPU time of the case itself (measured inside the process,
so the interpreter's own start-up, the same for all, is left out: the stricter ratio) and the wall
time of the whole process. The ratios are of the medians; the target is at most ``TARGET`` for the
import (wall and CPU time; CPU time is the steadier figure when other processes share the cores).

Each is measured twice (``MODES``): the app's sources compiled at import (as uploaded) and compiled
to bytecode beforehand; the sources are staged in a scratch directory, the repository is untouched.

Run: ``functions/venv/bin/python bench/cold_start.py [--runs N] [--before DIR] [--mode M]`` (the functions' venv:
it holds the SDKs; ``--python`` names another interpreter). Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.15

SDKS = """
import firebase_functions.https_fn, firebase_functions.tasks_fn, firebase_functions.scheduler_fn
import firebase_functions.options, firebase_functions.params, firebase_admin
from pydantic import BaseModel, Field
"""
"""The SDK modules ``main.py`` needs at import: the decorators that declare its functions, their
options and params, the Admin SDK (callables verify ID tokens with its default app) and pydantic.
Firestore, Cloud Tasks and the OpenAI SDK are imported when first used."""

BASELINE = (
    SDKS
    + """
class Model(BaseModel):
    value: int = Field(0)
"""
)
"""The SDKs and pydantic ready to use: pydantic loads its schema machinery and scans the installed
packages for its plugins once per process, at the first model it completes (about 10 ms here); any
app with a model pays it, so it is counted here, and the app's cost is what its own modules do."""

STRICT = SDKS
"""The SDKs and pydantic's ``BaseModel`` imported, no model defined: also printed (stricter)."""

FIRST_CALL = """
import os
os.environ["FIRESTORE_EMULATOR_HOST"] = "127.0.0.1:9"  # anonymous credentials: nothing is sent
import main
from firebase_ai_chat.models import MessageInput
main.app.chat, MessageInput.model_validate({"message": "add 1"})
"""
"""After the import, what a callable's first request builds before its first read: the Firestore
client and store, the Cloud Tasks queue, the front API, the validation of its input."""

FIRST_TASK = """
import os
os.environ["FIRESTORE_EMULATOR_HOST"] = "127.0.0.1:9"
import main
import firebase_ai_chat.engines.openai.responses
main.app.worker
"""
"""After the import, what the worker's first task builds before its first read: the worker, the
store, the queue and the OpenAI engine's module."""

MODES = {
    "source": "the app's sources as uploaded (firebase.json leaves __pycache__ out), compiled at import",
    "bytecode": "the app's sources compiled to bytecode beforehand (compileall)",
}
"""Whether the app's own modules are compiled at import: measured both ways, since what a cold
instance finds depends on the build, not on the app."""

EMULATOR_VARIABLES = (
    "FUNCTIONS_EMULATOR",
    "FIRESTORE_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "FIREBASE_EMULATOR_HUB",
    "CHAT_FAULTS_DIR",
)

PROBE = """
import json, sys, time
wall, cpu = time.perf_counter(), time.process_time()
exec(compile(sys.argv[1], "<case>", "exec"), {})
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "modules": len(sys.modules)}))
"""


def _environment() -> dict[str, str]:
    """This process's environment as a deployed function has it: no emulator variables; no bytecode
    written (each case's sources are staged compiled or not: ``stage``)."""
    env = {key: value for key, value in os.environ.items() if key not in EMULATOR_VARIABLES}
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def stage(functions: Path, target: Path, *, compiled: bool, python: str) -> Path:
    """A copy of the functions' sources (``main.py`` and the packages beside it; no venv, no bytecode),
    compiled to bytecode or not: the SDKs in the venv are compiled (pip does it) either way."""
    ignored = shutil.ignore_patterns("venv", "__pycache__", "*.pyc", ".*")
    shutil.copytree(functions, target, ignore=ignored)
    if compiled:
        subprocess.run([python, "-m", "compileall", "-q", str(target)], check=True)
    return target


def run_once(python: str, cwd: Path, code: str) -> dict[str, float]:
    """One fresh process running ``code`` (imports) in ``cwd``: its wall and CPU time, the process's."""
    started = time.perf_counter()
    out = subprocess.run(
        [python, "-c", PROBE, code], cwd=cwd, env=_environment(), capture_output=True, text=True, check=True
    )
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    measured["process"] = time.perf_counter() - started
    return measured


def measure(python: str, cases: dict[str, tuple[Path, str]], runs: int) -> dict[str, list[dict[str, float]]]:
    """``runs`` rounds, each running every case once in turn (after one unmeasured warm-up round: the
    files in the page cache)."""
    for cwd, code in cases.values():
        run_once(python, cwd, code)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    for round_ in range(runs):
        for name, (cwd, code) in cases.items():
            results[name].append(run_once(python, cwd, code))
        print(f"round {round_ + 1}/{runs} done", file=sys.stderr)
    return results


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def report(results: dict[str, list[dict[str, float]]]) -> float:
    """Prints the medians and the ratios to the baseline; returns the app's import wall-time ratio."""
    base = results["baseline"]
    print("| process | wall (s) | CPU (s) | whole process (s) | modules |")
    print("|---|---|---|---|---|")
    for name, samples in results.items():
        print(
            f"| {name} | {_median(samples, 'wall'):.3f} | {_median(samples, 'cpu'):.3f} "
            f"| {_median(samples, 'process'):.3f} | {int(_median(samples, 'modules'))} |"
        )
    print()
    for name, samples in results.items():
        if name in ("baseline", "strict") or "first" in name:
            continue
        ratios = {key: _median(samples, key) / _median(base, key) for key in ("wall", "cpu", "process")}
        print(
            f"{name} / baseline: import wall {ratios['wall']:.2f}x, import CPU {ratios['cpu']:.2f}x, "
            f"whole process {ratios['process']:.2f}x"
        )
    ratio = _median(results["app"], "wall") / _median(base, "wall")
    cpu = _median(results["app"], "cpu") / _median(base, "cpu")
    verdicts = ", ".join(
        f"{name} {value:.2f}x ({'within' if value <= TARGET else 'OVER'})"
        for name, value in (("wall", ratio), ("CPU", cpu))
    )
    print(f"target: the app's import at most {TARGET}x the baseline's: {verdicts}")
    if "before" in results:
        for first in ("first call", "first task"):
            change = _median(results[f"app, {first}"], "cpu") / _median(results[f"before, {first}"], "cpu")
            print(f"{first} (import + what the first request builds): app / before, CPU {change:.2f}x")
    strict = _median(results["app"], "cpu") / _median(results["strict"], "cpu")
    print(f"app / strict (no model defined in the baseline): import CPU {strict:.2f}x")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved rounds (at least 5; default 7)")
    parser.add_argument("--python", default=str(ROOT / "functions" / "venv" / "bin" / "python"))
    parser.add_argument("--functions", type=Path, default=ROOT / "functions", help="the app's functions directory")
    parser.add_argument("--before", type=Path, help="another functions directory to measure beside the app")
    parser.add_argument("--mode", choices=("source", "bytecode", "both"), default="both", help="see MODES")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs: at least 5")
    modes = {"source": False, "bytecode": True} if args.mode == "both" else {args.mode: args.mode == "bytecode"}
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        for mode, compiled in modes.items():
            checkouts = {"app": args.functions, **({"before": args.before} if args.before else {})}
            staged = {
                label: stage(path.resolve(), Path(scratch) / mode / label, compiled=compiled, python=args.python)
                for label, path in checkouts.items()
            }
            cases = _cases(staged)
            print(f"### {mode}: {MODES[mode]}\n")
            print(f"{args.runs} interleaved rounds of {', '.join(cases)}; medians (python: {args.python})\n")
            report(measure(args.python, cases, args.runs))
            print()


def _cases(staged: dict[str, Path]) -> dict[str, tuple[Path, str]]:
    cases = {"baseline": (staged["app"], BASELINE), "strict": (staged["app"], STRICT)}
    for label in ("before", "app"):
        if label in staged:
            cases[label] = (staged[label], "import main")
            cases[f"{label}, first call"] = (staged[label], FIRST_CALL)
            cases[f"{label}, first task"] = (staged[label], FIRST_TASK)
    return cases


if __name__ == "__main__":
    main()
