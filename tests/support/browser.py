"""Browser tests' harness: a real uvicorn server on a free loopback port in a thread, an
offline Chromium page that reaches only that server, and screenshots into ``test-artifacts/``.

Tests using it start Chromium (through playwright) and must carry the ``process`` marker.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from support.paths import ROOT

__all__ = ["ARTIFACTS", "CHROMIUM", "OfflinePage", "ServerThread", "screenshot"]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


class ServerThread:
    """uvicorn serving ``app`` on a socket bound to a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert self.thread.is_alive(), "uvicorn stopped"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


class OfflinePage:
    """A page in a fresh context that only reaches the test server; it records aborted
    requests, JavaScript errors and console errors (a Content-Security-Policy refusal too)."""

    def __init__(self, browser: Any, server: ServerThread, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.aborted: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.page.route("**/*", self._route)
        self.origin = server.url

    def _console(self, message: Any) -> None:
        # aborted tiles log "Failed to load resource"; anything else (a CSP refusal) counts
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def _route(self, route: Any) -> None:
        if route.request.url.startswith(self.origin):
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort()

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.origin + path)
        self.page.wait_for_selector("body[data-ready='true']", timeout=20_000)
        return self.page

    def close(self) -> None:
        self.context.close()


def screenshot(page: Any, name: str, record_property: Any) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)  # let Leaflet finish re-fitting the map after the panel opened
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    record_property("screenshot", str(path))  # in the JUnit XML too
    return path
