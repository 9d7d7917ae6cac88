"""The web chat (web/, served by the Hosting emulator) driven in headless Chromium by
``tests/web/scenarios.mjs`` (playwright-core, Debian's chromium). Each scenario fails on any console
error of the page and leaves a screenshot in ``.emulator/web-<scenario>.png``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Fault

from firebase_ai_chat.engines.openai.errors import REJECTED_MESSAGE

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / ".emulator"


def run_scenario(name: str, **env: str) -> None:
    url = os.environ.get("WEB_CHAT_URL")
    assert url, "WEB_CHAT_URL is not set: the Hosting emulator did not start (run under emulator/exec)"
    SHOTS.mkdir(exist_ok=True)
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "web" / "scenarios.mjs"), name],
        env={**os.environ, "SCREENSHOT_DIR": str(SHOTS), **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"web scenario {name!r} failed:\n{done.stdout}\n{done.stderr}"
    assert (SHOTS / f"web-{name}.png").stat().st_size > 0


def test_a_guest_computes_hands_over_lists_and_closes_chats() -> None:
    run_scenario("journey")


def test_a_user_signs_up_with_email_and_finds_the_chat_again() -> None:
    run_scenario("email")


def test_the_chat_goes_on_after_the_network_comes_back() -> None:
    run_scenario("reconnect")


def test_a_guest_over_the_post_limit_sees_why_and_keeps_the_message() -> None:
    settings = dict(line.split("=", 1) for line in (ROOT / "tests" / "limits.env").read_text().splitlines() if line)
    run_scenario("limited", GUEST_DAILY_POSTS=settings["GUEST_DAILY_POSTS"])


@pytest.mark.openai
def test_streamed_text_grows_in_the_page(fake: FakeOpenAI) -> None:
    fake.stream_delay = 0.15
    run_scenario("streaming")


@pytest.mark.openai
def test_a_failed_chat_shows_its_error(fake: FakeOpenAI) -> None:
    fake.fail_next(Fault(status=400))
    run_scenario("failed", EXPECTED_ERROR=REJECTED_MESSAGE)


@pytest.mark.openai
def test_the_stop_button_stops_a_streamed_answer(fake: FakeOpenAI) -> None:
    fake.stream_delay = 0.15
    run_scenario("stop")
