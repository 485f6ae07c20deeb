"""The API under abuse, over real HTTP: ``uvicorn`` in a subprocess over real SQLite files
holding eight days of 1-s readings (:mod:`support.api_server`).

Bodies: a body without a key is refused before it is read (401 while the client is still
sending, and the server's resident memory does not grow); a body over the limit is refused
while it streams (chunked, or a ``Content-Length`` larger than the limit) with 413.
Cost: while 24 heavy reads run at once (12 public 7-day ``events``, 12 staff one-day
``levels`` at ``every=1s``), ``/api/v1/map`` stays fast (p99 under 100 ms) and every heavy
read gets an answer or a 503 with ``Retry-After`` within its bound, never hangs; with a pool
of one worker and a one-second wait, the surplus gets 503 with ``Retry-After`` at once.

Each check can fail: on code from before the limits (``PYTHONPATH`` pointing at it), the
server waits for the whole body (no 401 or 413 in time), memory grows by the body's size and
more, and ``/api/v1/map`` takes seconds under the same load.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from support.abuse_load import HEAVY_BOUND_S, summary, under_heavy_load
from support.api_server import ApiServer, Week, build_week

pytestmark = pytest.mark.process

START = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
DAYS = 8
NO_RATE_LIMIT = {"public_rate_per_s": 0.0, "public_burst": 0}
NO_BUDGETS = {"public_cost_per_s": 0.0, "keyed_cost_per_s": 0.0}
MAP_P99_S = 0.100


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Week:
    return build_week(tmp_path_factory.mktemp("abuse"), START, DAYS)


@pytest.fixture(scope="module")
def server(week: Week) -> Iterator[ApiServer]:
    with ApiServer(week, NO_RATE_LIMIT, {}) as running:
        yield running


# --------------------------------------------------------------------------- bodies


def _status_of(sock: socket.socket, timeout_s: float) -> int:
    """The status code of the response arriving on ``sock`` within ``timeout_s``."""
    sock.settimeout(timeout_s)
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before a status line: {received!r}")
        received += chunk
    return int(received.split(b" ", 2)[1])


def _post(
    server: ApiServer, head: dict[str, str], send_body: Callable[[socket.socket], None]
) -> tuple[int, float]:
    """POST /api/v1/trials with ``head``, ``send_body`` writing the body in a thread; the
    status and the seconds until it came."""
    lines = ["POST /api/v1/trials HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{name}: {value}" for name, value in head.items()]
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        began = time.perf_counter()
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

        def sender() -> None:
            with contextlib.suppress(OSError):  # the server answered and closed: as tested
                send_body(sock)

        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        status = _status_of(sock, timeout_s=10.0)
        return status, time.perf_counter() - began


def _nothing(_sock: socket.socket) -> None:
    """Send no body at all (the server must answer without it)."""


def test_a_body_without_a_key_is_refused_before_it_is_read(server: ApiServer) -> None:
    """50 MB announced, none sent: 401 at once, not a wait for the body."""
    head = {"Content-Type": "application/json", "Content-Length": str(50 * 2**20)}
    status, seconds = _post(server, head, _nothing)
    assert (status, seconds < 2.0) == (401, True), seconds


def test_a_large_body_without_a_key_leaves_memory_as_it_was(server: ApiServer) -> None:
    """A 50 MB JSON body sent whole: 401, and the server's peak resident memory grows by less
    than 16 MB (reading it alone would take 50 MB, joining its chunks 100 MB)."""
    size = 50 * 2**20
    payload = b'{"name": "' + b"a" * (size - 12) + b'"}'
    before = server.memory_bytes("VmHWM")
    head = {"Content-Type": "application/json", "Content-Length": str(len(payload))}

    def send(sock: socket.socket) -> None:
        view = memoryview(payload)
        for offset in range(0, len(view), 2**20):
            sock.sendall(view[offset : offset + 2**20])

    status, _ = _post(server, head, send)
    time.sleep(0.5)
    assert status == 401
    assert server.memory_bytes("VmHWM") - before < 16 * 2**20


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(
    server: ApiServer, week: Week
) -> None:
    """A staff key, a chunked body of 512 KiB that never ends: 413 once 256 KiB passed."""
    head = {
        "Authorization": f"Bearer {week.staff_key}",
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }

    def send(sock: socket.socket) -> None:
        chunk = b"[" * 65_536
        for _ in range(8):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        time.sleep(30)  # and never the last chunk

    status, seconds = _post(server, head, send)
    assert (status, seconds < 5.0) == (413, True), seconds


def test_a_declared_length_over_the_limit_is_refused_before_it_is_read(
    server: ApiServer, week: Week
) -> None:
    """A staff key and a ``Content-Length`` of 10 GB, nothing sent: 413 at once."""
    head = {
        "Authorization": f"Bearer {week.staff_key}",
        "Content-Type": "application/json",
        "Content-Length": str(10 * 2**30),
    }
    status, seconds = _post(server, head, _nothing)
    assert (status, seconds < 2.0) == (413, True), seconds


def test_a_body_within_the_limit_with_a_key_reaches_the_route(
    server: ApiServer, week: Week
) -> None:
    """Negative control of the body checks: a small malformed body with a staff key is
    answered by the route's own validation (422), not refused by the guard."""
    payload = b'{"name": 1}'
    head = {
        "Authorization": f"Bearer {week.staff_key}",
        "Content-Type": "application/json",
        "Content-Length": str(len(payload)),
    }
    status, _ = _post(server, head, lambda sock: sock.sendall(payload))
    assert status == 422


# --------------------------------------------------------------------------- cost


def test_the_map_stays_fast_while_24_heavy_reads_run(
    week: Week, record_property: Callable[[str, object], None]
) -> None:
    """Default pool (a worker per core, 10 s wait), budgets off (as if 24 addresses asked):
    /map p99 < 100 ms; each heavy read answered 200, or 503 with Retry-After, in time."""
    with ApiServer(week, NO_RATE_LIMIT, NO_BUDGETS) as server:
        latencies, answers = under_heavy_load(server, week, 24)
    figures = summary(latencies)
    statuses = sorted(status for status, _, _ in answers)
    record_property("map_under_load", figures)
    record_property("heavy_statuses", statuses)
    assert figures["n"] >= 50, figures
    assert all(status in (200, 503) for status in statuses), statuses
    assert 200 in statuses, statuses
    assert all("retry-after" in {k.lower() for k in h} for s, h, _ in answers if s == 503)
    assert max(seconds for _, _, seconds in answers) < HEAVY_BOUND_S
    assert figures["p99_ms"] < MAP_P99_S * 1000, figures


def test_a_full_heavy_pool_answers_503_with_retry_after(week: Week) -> None:
    """One worker, a one-second wait, two waiting at most: of eight heavy reads at once some
    are answered, the others get 503 with Retry-After within seconds."""
    limits = NO_BUDGETS | {"heavy_workers": 1, "heavy_wait_s": 1.0, "heavy_queue": 2}
    with ApiServer(week, NO_RATE_LIMIT, limits) as server:
        _, answers = under_heavy_load(server, week, 8)
    busy = [(headers, seconds) for status, headers, seconds in answers if status == 503]
    assert {status for status, _, _ in answers} == {200, 503}
    assert all(int(headers["retry-after"]) >= 1 for headers, _ in busy)
    assert all(seconds < 1.0 + 8.0 for _, seconds in busy)
