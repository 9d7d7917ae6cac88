"""The terminal chat (``demo/chat.py``, the README's main job) driven through a pseudo-terminal: the
user types, the answer streams in and is printed in full, Ctrl-D quits with status 0."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect
import pytest
from fake_openai import FakeOpenAI
from terminal import Terminal

ROOT = Path(__file__).resolve().parent.parent


def terminal_chat(*args: str) -> Terminal:
    child = Terminal([sys.executable, str(ROOT / "demo" / "chat.py"), *args], cwd=ROOT)
    try:
        child.expect_exact("Your turn")
    except pexpect.EOF:
        pytest.fail(f"the terminal chat ended before its prompt; it printed:\n{child.printed}")
    return child


def quit_with_ctrl_d(child: Terminal) -> None:
    child.sendeof()
    assert child.wait() == 0, child.printed


def test_the_user_types_and_reads_the_answer() -> None:
    child = terminal_chat("--no-script")
    child.sendline("add 2")
    child.expect_exact('[Calculator] add: data is now {"sum": 2}\r\n')
    child.expect_exact("> ")  # the prompt again, once the answer is complete
    child.sendline("multiply by 4")
    child.expect_exact('[data] {"sum": 8}')
    child.expect_exact('multiply: data is now {"sum": 8}\r\n')
    quit_with_ctrl_d(child)


def test_bad_input_is_refused_in_plain_words() -> None:
    child = terminal_chat("--no-script")
    child.sendline("x" * 4001)
    child.expect_exact("[refused] message must be at most 4000 characters.")
    quit_with_ctrl_d(child)


@pytest.mark.openai
def test_a_streamed_answer_is_printed_in_full(fake: FakeOpenAI) -> None:
    fake.stream_delay = 0.05
    text = " ".join(["tell me a long story about numbers"] * 4)
    child = terminal_chat("--no-script")
    child.sendline(text)
    child.expect_exact(f'You said "{text}".\r\n')
    quit_with_ctrl_d(child)


@pytest.mark.openai
def test_ctrl_c_while_an_answer_streams_stops_the_answer_and_at_the_prompt_quits(fake: FakeOpenAI) -> None:
    fake.stream_delay = 0.15
    text = " ".join(["tell me a very long story about numbers"] * 6)
    child = terminal_chat("--no-script")
    child.sendline(text)
    child.expect_exact('You said "tell')  # the answer has started streaming
    child.sendintr()
    child.expect_exact("[stopped] the answer was stopped")
    child.expect_exact("> ")
    child.sendline("add 1")
    child.expect_exact('add: data is now {"sum": 1}\r\n')
    child.expect_exact("> ")
    child.sendintr()
    child.expect_exact("Stopped.")
    assert child.wait() == 0, child.printed
