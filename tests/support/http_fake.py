"""A stand-in HTTP server for protocol tests of the clients of services that cannot run here
(InfluxDB, Grafana): it records every request exactly and answers with canned responses."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class RecordingServer:
    """``answers[path]`` is a queue of answers for that path; when it is empty, ``responder``
    (if given) answers from the request, else an empty 204."""

    def __init__(self, responder: Callable[[Request], Answer] | None = None) -> None:
        self.requests: list[Request] = []
        self.responder = responder
        self.answers: dict[str, deque[Answer]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

            def do_DELETE(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                fake.requests.append(request)
                queue = fake.answers.get(parts.path)
                if queue:
                    answer = queue.popleft()
                elif fake.responder is not None:
                    answer = fake.responder(request)
                else:
                    answer = Answer(204)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                # One request per connection: clients close their sockets at once instead of
                # pooling them until garbage collection.
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # ``close`` waits for the serving loop to notice; a short poll keeps that brief.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def answer(self, path: str, *answers: Answer) -> None:
        self.answers.setdefault(path, deque()).extend(answers)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
