"""The public rate limit over real HTTP against ``noiselab api`` processes (issue 17, finding 5).

X-Forwarded-For is believed only from ``--trusted-proxy`` addresses: a loopback client that
rotates the header is still one address (uvicorn's own default would have believed it). With
``--rate-limit-file`` two API processes share one budget per address. Each check has its
negative control: the trusted proxy's header is believed, and two processes without the shared
file allow twice the burst.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from support.paths import ROOT

from noiselab.api.ratelimit_shared import SharedRateLimiter
from noiselab.broker import free_port

pytestmark = pytest.mark.process

BURST = 20
RATE = 1.0  # per second: a test of a few seconds earns only a few tokens back
PATH = "/api/v1/sensors"


@contextmanager
def _api(tmp_path: Path, *extra: str) -> Iterator[int]:
    """A ``noiselab api`` process on a free port over a SQLite store in ``tmp_path``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOISELAB_")}
    log = (tmp_path / f"api-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noiselab",
            "api",
            "--store",
            f"sqlite:///{tmp_path}/store.db",
            "--port",
            str(port),
            "--public-rate",
            str(RATE),
            "--public-burst",
            str(BURST),
            *extra,
        ],
        stdout=log,
        stderr=log,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    try:
        _wait_ready(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "noiselab api exited"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"noiselab api on {port} never answered")


def _get(port: int, forwarded: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", PATH, headers={"X-Forwarded-For": forwarded} if forwarded else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _allowed(ports: list[int], n: int, rotate: bool) -> tuple[int, float]:
    """Requests spread over ``ports`` (rotating X-Forwarded-For if asked): how many were
    answered 200, and how long the whole run took."""
    started = time.monotonic()
    statuses = [
        _get(ports[i % len(ports)], f"198.51.100.{i % 250 + 1}" if rotate else None)
        for i in range(n)
    ]
    assert set(statuses) <= {200, 429}, statuses
    return statuses.count(200), time.monotonic() - started


def _budget(elapsed: float) -> float:
    """At most the burst plus what the rate gave back meanwhile, and one of slack."""
    return BURST + RATE * elapsed + 1


def test_rotating_x_forwarded_for_from_loopback_does_not_bypass_the_limit(tmp_path: Path):
    with _api(tmp_path) as port:
        passed, elapsed = _allowed([port], 3 * BURST, rotate=True)
    assert passed <= _budget(elapsed), (passed, elapsed)


def test_the_header_is_believed_from_a_trusted_proxy(tmp_path: Path):
    """Negative control: the same rotation through a trusted proxy is many clients."""
    with _api(tmp_path, "--trusted-proxy", "127.0.0.1") as port:
        passed, _ = _allowed([port], 3 * BURST, rotate=True)
    assert passed == 3 * BURST


def test_two_api_processes_share_one_limit_through_the_file(tmp_path: Path):
    shared = str(tmp_path / "ratelimit.sqlite")
    with ExitStack() as stack:
        ports = [stack.enter_context(_api(tmp_path, "--rate-limit-file", shared)) for _ in "ab"]
        passed, elapsed = _allowed(ports, 3 * BURST, rotate=False)
    assert BURST <= passed <= _budget(elapsed), (passed, elapsed)


def test_two_api_processes_without_the_file_allow_twice_the_burst(tmp_path: Path):
    """Negative control: the test above can tell a shared limit from two separate ones."""
    with ExitStack() as stack:
        ports = [stack.enter_context(_api(tmp_path)) for _ in "ab"]
        passed, elapsed = _allowed(ports, 3 * BURST, rotate=False)
    assert passed > _budget(elapsed), (passed, elapsed)


def test_a_take_from_the_shared_file_costs_under_a_millisecond(tmp_path: Path):
    """The price of sharing, per public request (docs/deployment.md gives measured numbers)."""
    limiter = SharedRateLimiter(tmp_path / "rl.sqlite", 1e6, 10**6, time.time)
    try:
        for i in range(200):  # warm up the file and the page cache
            limiter.take(f"10.0.{i // 250}.{i % 250}")
        rounds = 2000
        started = time.perf_counter()
        for i in range(rounds):
            assert limiter.take(f"10.1.{i // 250}.{i % 250}") is None
        per_take = (time.perf_counter() - started) / rounds
    finally:
        limiter.close()
    assert per_take < 1e-3, f"{per_take * 1e6:.0f} µs a take"
