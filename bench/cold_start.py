"""Benchmark: what importing the functions' ``main.py`` costs, against importing the SDKs it needs.

Every cold instance of every function imports ``main.py`` before it serves anything (and
``firebase deploy`` imports it to discover the functions). Measured here, each in a fresh process
with the environment of a deployed function (no emulator variables), interleaved
(baseline, app, baseline, app, ...) so that other load on the machine falls on both alike:

- **baseline**: a process importing exactly the SDK modules the app needs at import
  (``BASELINE``: firebase-functions' decorators, options and params, firebase-admin, pydantic);
- **app**: a process importing ``main`` from the functions directory (``functions/`` by default;
  ``--before DIR`` adds a third, e.g. another checkout's ``functions/``, to compare a change).

Each run reports the wall time and the CPU time of the import itself (measured inside the process,
so the interpreter's own start-up, the same for all, is left out: the stricter ratio) and the wall
time of the whole process. The ratios are of the medians; the target is at most ``TARGET`` for the
import's wall time. CPU time is the steadier figure when other processes share the cores.

Run: ``functions/venv/bin/python bench/cold_start.py [--runs N] [--before DIR]`` (the functions' venv:
it holds the SDKs; ``--python`` names another interpreter). Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.15

BASELINE = (
    "firebase_functions.https_fn",
    "firebase_functions.tasks_fn",
    "firebase_functions.scheduler_fn",
    "firebase_functions.options",
    "firebase_functions.params",
    "firebase_admin",
    "pydantic.main",
)
"""The SDK modules ``main.py`` needs at import: the decorators that declare its functions, their
options and params, the Admin SDK (callables verify ID tokens with its default app) and pydantic's
``BaseModel`` (``pydantic.main``: what ``from pydantic import BaseModel`` loads; a bare ``import
pydantic`` loads almost nothing, its names being imported on first use). Firestore, Cloud Tasks and
the OpenAI SDK are imported when first used."""

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
for name in sys.argv[1:]:
    __import__(name)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "modules": len(sys.modules)}))
"""


def _environment() -> dict[str, str]:
    """This process's environment as a deployed function has it: no emulator variables."""
    env = {key: value for key, value in os.environ.items() if key not in EMULATOR_VARIABLES}
    env.pop("PYTHONPATH", None)
    return env


def run_once(python: str, cwd: Path, modules: tuple[str, ...]) -> dict[str, float]:
    """One fresh process importing ``modules`` from ``cwd``: the import's wall and CPU time, the process's."""
    started = time.perf_counter()
    out = subprocess.run(
        [python, "-c", PROBE, *modules], cwd=cwd, env=_environment(), capture_output=True, text=True, check=True
    )
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    measured["process"] = time.perf_counter() - started
    return measured


def measure(
    python: str, cases: dict[str, tuple[Path, tuple[str, ...]]], runs: int
) -> dict[str, list[dict[str, float]]]:
    """``runs`` rounds, each running every case once in turn (after one unmeasured warm-up round that
    writes the bytecode caches)."""
    for cwd, modules in cases.values():
        run_once(python, cwd, modules)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
    for round_ in range(runs):
        for name, (cwd, modules) in cases.items():
            results[name].append(run_once(python, cwd, modules))
        print(f"round {round_ + 1}/{runs} done", file=sys.stderr)
    return results


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


def report(results: dict[str, list[dict[str, float]]]) -> float:
    """Prints the medians and the ratios to the baseline; returns the app's import wall-time ratio."""
    base = results["baseline"]
    print("| process | import wall (s) | import CPU (s) | whole process (s) | modules |")
    print("|---|---|---|---|---|")
    for name, samples in results.items():
        print(
            f"| {name} | {_median(samples, 'wall'):.3f} | {_median(samples, 'cpu'):.3f} "
            f"| {_median(samples, 'process'):.3f} | {int(_median(samples, 'modules'))} |"
        )
    print()
    for name, samples in results.items():
        if name == "baseline":
            continue
        ratios = {key: _median(samples, key) / _median(base, key) for key in ("wall", "cpu", "process")}
        print(
            f"{name} / baseline: import wall {ratios['wall']:.2f}x, import CPU {ratios['cpu']:.2f}x, "
            f"whole process {ratios['process']:.2f}x"
        )
    ratio = _median(results["app"], "wall") / _median(base, "wall")
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"target: app import at most {TARGET}x the baseline's (wall): {ratio:.2f}x, {verdict} the target")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved rounds (at least 5; default 7)")
    parser.add_argument("--python", default=str(ROOT / "functions" / "venv" / "bin" / "python"))
    parser.add_argument("--functions", type=Path, default=ROOT / "functions", help="the app's functions directory")
    parser.add_argument("--before", type=Path, help="another functions directory to measure beside the app")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs: at least 5")
    cases: dict[str, tuple[Path, tuple[str, ...]]] = {"baseline": (args.functions, BASELINE)}
    if args.before:
        cases["before"] = (args.before.resolve(), ("main",))
    cases["app"] = (args.functions.resolve(), ("main",))
    print(f"{args.runs} interleaved rounds of {', '.join(cases)}; medians (python: {args.python})\n")
    report(measure(args.python, cases, args.runs))


if __name__ == "__main__":
    main()
