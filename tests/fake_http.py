"""What the fake model servers share: the faults a test queues, the state every fake keeps (requests
seen, faults, streaming pace: ``FakeServer``), a JSON answer, a paced event stream, quiet logs, and
a server in a daemon thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol

from firebase_ai_chat.engines.offline import Phrase


@dataclass
class Fault:
    """What goes wrong with the next request, after ``delay`` seconds.

    ``kind="status"`` (the default) answers with HTTP ``status`` and an error
    body; ``kind="bad_arguments"`` answers normally but with every function
    call's arguments cut into invalid JSON (``status`` is then ignored);
    ``kind="blocked"`` (the fake Gemini server only) answers with no candidate
    and the prompt blocked for safety.
    """

    status: int = 500
    delay: float = 0.0
    kind: Literal["status", "bad_arguments", "blocked"] = "status"


@dataclass
class FakeServer:
    """What every fake keeps: its "model"'s phrases (``decide``), the requests seen (bodies and paths,
    in order), the faults queued for the next requests, and its streams' pace (``Pace``)."""

    phrases: Sequence[Phrase]
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stream_delay: float = 0.0
    hold_after: str | None = None
    """While set: a stream sends the first event carrying this text, then waits for ``release``."""
    release: threading.Event = field(default_factory=threading.Event)
    held: list[bool] = field(default_factory=list)
    """For each stream held: whether ``release`` came (``False``: it went on after 30 s without it)."""
    chunk_size: int = 8

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults for the next requests, in order."""
        with self.lock:
            self.faults.extend(faults)

    def receive(self, path: str, body: dict[str, Any]) -> tuple[Fault | None, int]:
        """Record a request; the fault it meets (after the fault's delay) and its number (from 1)."""
        with self.lock:
            self.requests.append(body)
            self.paths.append(path)
            fault = self.faults.pop(0) if self.faults else None
            number = len(self.requests)
        if fault is not None:
            time.sleep(fault.delay)
        return fault, number

    def pieces(self, text: str) -> list[str]:
        """``text`` cut as a stream sends it: ``chunk_size`` characters at a time."""
        size = max(1, self.chunk_size)
        return [text[start : start + size] for start in range(0, len(text), size)]


class Pace(Protocol):
    """How a fake streams: ``stream_delay`` seconds between events; while ``hold_after`` is set, the
    first event carrying that text is sent, then the stream waits for ``release`` (``held`` records
    whether it came, or the stream went on after 30 s)."""

    stream_delay: float
    hold_after: str | None
    release: threading.Event
    held: list[bool]


class FakeHandler(BaseHTTPRequestHandler):
    """A request handler of a fake server whose streams follow ``pace``."""

    pace: Pace

    def send_json(self, status: int, answer: dict[str, Any]) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def send_events(self, frames: Iterable[str]) -> None:
        """Send server-sent events at the fake's pace; the connection closes at the end (HTTP/1.0)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        pace = self.pace
        try:
            for number, frame in enumerate(frames):
                if number and pace.stream_delay:
                    time.sleep(pace.stream_delay)
                self.wfile.write(frame.encode())
                self.wfile.flush()
                if pace.hold_after is not None and pace.hold_after in frame:
                    pace.hold_after = None  # the first such event only
                    pace.held.append(pace.release.wait(30))
        except (BrokenPipeError, ConnectionResetError):
            return  # the client stopped reading

    def log_message(self, *_: Any) -> None:
        return


def serve_in_thread(handler: type[FakeHandler], port: int) -> ThreadingHTTPServer:
    """Serve ``handler`` on 127.0.0.1:``port`` (0: any free port, see ``server_address``) in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
