"""What the fake model servers share: a JSON answer, a paced event stream, quiet logs, and a server
in a daemon thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


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
