"""A program in a pseudo-terminal, driven like a user at a keyboard (``pexpect`` on the terminal's side).

The program is started by ``subprocess`` (vfork and exec), not by ``pexpect.spawn`` (fork): the tests'
process runs gRPC threads (Firestore clients and listeners), and a child forked from it has died in
gRPC's fork handlers before running anything ("epoll_wait error: Bad file descriptor"), under load.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
from collections.abc import Sequence
from pathlib import Path

import pexpect
from pexpect import fdpexpect


class Terminal:
    """``argv`` running with a pseudo-terminal as its standard input, output and error."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, rows: int = 40, columns: int = 200) -> None:
        controller, terminal = os.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            list(argv), stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd, start_new_session=True
        )
        os.close(terminal)
        self.screen = fdpexpect.fdspawn(controller, encoding="utf-8", timeout=90)

    @property
    def printed(self) -> str:
        """What the program printed before the last match (or before it ended)."""
        return str(self.screen.before)

    def expect_exact(self, text: str) -> None:
        """Wait until the program prints ``text``."""
        self.screen.expect_exact(text)

    def sendline(self, text: str) -> None:
        """Type ``text`` and Enter."""
        self.screen.send(f"{text}\r")

    def sendeof(self) -> None:
        """Ctrl-D (end of input) at the start of a line."""
        self.screen.send("\x04")

    def sendintr(self) -> None:
        """Ctrl-C: the terminal's interrupt, sent to the program as the terminal driver would."""
        self.process.send_signal(signal.SIGINT)

    def wait(self) -> int:
        """Wait until the program ends, reading what it prints meanwhile; its exit status."""
        self.screen.expect(pexpect.EOF)
        status = self.process.wait(timeout=30)
        self.screen.close()
        return status
