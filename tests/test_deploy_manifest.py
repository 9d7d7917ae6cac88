"""What ``firebase deploy`` would create from ``functions/``: firebase-tools' own discovery of the
codebase (no deploy), so names, triggers, secrets and retry options are checked as Firebase reads them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def discovered(source: Path, project: str) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "discover_functions.cjs"), str(source), project],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"firebase-tools could not discover the functions:\n{done.stderr}"
    return json.loads(done.stdout)


def test_the_calculator_deploys_its_callables_and_task_queues_and_no_scheduled_sweeper() -> None:
    build = discovered(ROOT / "functions", "demo-ai-chat")
    endpoints = build["endpoints"]
    assert sorted(endpoints) == [
        "calculate", "calculateAppCheck", "calculator", "calculator2", "chatEvents", "chatEventsAppCheck",
        "closeCalculate", "deleteMyData", "multiplier", "openapi", "postToCalculate", "postToCalculateAppCheck",
        "stopCalculate",
    ]  # fmt: skip
    for name in ("calculate", "postToCalculate", "closeCalculate", "stopCalculate", "deleteMyData"):
        assert endpoints[name]["callableTrigger"] == {}
    assert endpoints["deleteMyData"]["timeoutSeconds"] == 540
    # App Check: firebase-tools' manifest has no field for it (checked in firebase-tools 15.34.2: its
    # discovery knows no App Check option); enforcement is in the functions' code (firebase-functions'
    # enforce_app_check), checked at run time by tests/test_app_check.py. The manifests are alike.
    for name in ("calculateAppCheck", "postToCalculateAppCheck"):
        assert endpoints[name]["callableTrigger"] == {}
        assert set(endpoints[name]) == set(endpoints["calculate"])
    assert "httpsTrigger" in endpoints["chatEventsAppCheck"]
    for name in ("calculator", "calculator2"):  # Capacity(queues=2): one worker function and queue each
        worker = endpoints[name]
        assert worker["taskQueueTrigger"]["retryConfig"]["maxAttempts"] == 3
        secrets = [s["secret"] for s in worker["secretEnvironmentVariables"]]
        assert secrets == ["OPENAI_API_KEY", "GEMINI_API_KEY"], "ChatApp(secrets=...): both model keys"
        # The capacity (the default, README "Sizing the worker"): 16 runs per instance on a whole CPU,
        # at most 50 instances, and the queue dispatches what they serve: 16 x 50 runs at once.
        assert (worker["concurrency"], worker["cpu"], worker["maxInstances"]) == (16, 1, 50)
        assert worker["availableMemoryMb"] == 512 and worker["timeoutSeconds"] == 300
        assert worker["taskQueueTrigger"]["rateLimits"] == {"maxConcurrentDispatches": 800}
    assert "taskQueueTrigger" in endpoints["multiplier"]
    assert not [name for name, endpoint in endpoints.items() if "scheduleTrigger" in endpoint]  # watchdogs instead
    assert "httpsTrigger" in endpoints["chatEvents"] and endpoints["chatEvents"]["timeoutSeconds"] == 360
    assert "httpsTrigger" in endpoints["openapi"]
    assert {(p["name"], p["type"]) for p in build["params"]} >= {
        ("OPENAI_API_KEY", "secret"),
        ("OPENAI_MODEL", "string"),
        ("GEMINI_API_KEY", "secret"),
        ("GEMINI_MODEL", "string"),
        ("GEMINI_BASE_URL", "string"),
        ("CHAT_ENGINE", "string"),
    }
