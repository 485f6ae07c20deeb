"""A real HTTP server on a free local port that records webhook deliveries and answers from a
script of statuses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Received", "Receiver", "receiver"]


@dataclass(frozen=True)
class Received:
    """One request as the server saw it: the path, the headers (names lower-case), the body."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """``statuses`` are answered in turn, the last one for ever after; a 3xx answer names
    ``location``. ``url`` is ``http://127.0.0.1:<port>``."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [204])
    location: str = "http://127.0.0.1:9/elsewhere"
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> int:
        with self.lock:
            self.received.append(request)
            index = min(len(self.received), len(self.statuses)) - 1
            return self.statuses[index]


@contextmanager
def receiver(*statuses: int) -> Iterator[Receiver]:
    """A running :class:`Receiver` answering ``statuses`` (default 204), stopped afterwards."""
    state = Receiver(statuses=list(statuses) or [204])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = state.answer(Received(self.path, headers, body))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
