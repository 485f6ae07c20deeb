"""The heavy-read load of ``tests/api/test_abuse_http.py`` and ``benchmarks/bench_abuse.py``:
``/api/v1/map`` asked every 20 ms on a kept connection while ``count`` heavy reads run at once
(half public 7-day ``events``, half staff one-day ``levels`` at ``every=1s``, each over its own
range, so no answer is shared)."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np

from support.api_server import SENSOR, ApiServer, Week

__all__ = ["HEAVY_BOUND_S", "get", "map_latencies", "summary", "under_heavy_load"]

HEAVY_BOUND_S = 45.0
"""No heavy read may take longer (the pool's wait is 10 s, a read at most some 4 s)."""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _heavy_paths(week: Week, count: int) -> list[tuple[str, dict[str, str]]]:
    """``count`` heavy reads, half public 7-day events, half staff one-day 1-s levels, each
    over a different range (so no answer is shared)."""
    staff = {"Authorization": f"Bearer {week.staff_key}"}
    paths: list[tuple[str, dict[str, str]]] = []
    for i in range(count // 2):
        first = week.start + 900 + 600 * i
        paths.append(
            (
                f"/api/v1/sensors/{SENSOR}/events?start={_iso(first)}"
                f"&end={_iso(first + 7 * 86_400)}",
                {},
            )
        )
        first = week.start + 3600 * (i + 1)
        paths.append(
            (
                f"/api/v1/sensors/{SENSOR}/levels?start={_iso(first)}"
                f"&end={_iso(first + 86_400)}&every=1s",
                staff,
            )
        )
    return paths


def get(server: ApiServer, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], float]:
    """One GET on a fresh connection: status, headers, seconds (the body read whole)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HEAVY_BOUND_S + 15)
    began = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders()), time.perf_counter() - began
    finally:
        connection.close()


def map_latencies(server: ApiServer, stop: threading.Event) -> list[float]:
    """``/api/v1/map`` asked every 20 ms on one kept connection until ``stop``: seconds each."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    seconds: list[float] = []
    try:
        while not stop.is_set():
            began = time.perf_counter()
            connection.request("GET", "/api/v1/map")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            seconds.append(time.perf_counter() - began)
            time.sleep(0.02)
    finally:
        connection.close()
    return seconds


def under_heavy_load(
    server: ApiServer, week: Week, count: int
) -> tuple[list[float], list[tuple[int, dict[str, str], float]]]:
    """The /map latencies while ``count`` heavy reads run at once, and those reads' answers."""
    assert get(server, "/api/v1/map", {})[0] == 200  # warm: computed once, then kept
    stop = threading.Event()
    with ThreadPoolExecutor(count + 1) as pool:
        poller = pool.submit(map_latencies, server, stop)
        time.sleep(0.3)
        heavy = [pool.submit(get, server, p, h) for p, h in _heavy_paths(week, count)]
        answers = [future.result() for future in heavy]
        stop.set()
        return poller.result(), answers


def summary(latencies: list[float]) -> dict[str, Any]:
    values = np.array(latencies)
    return {
        "n": values.size,
        "p50_ms": round(float(np.percentile(values, 50)) * 1000, 1),
        "p99_ms": round(float(np.percentile(values, 99)) * 1000, 1),
        "max_ms": round(float(values.max()) * 1000, 1),
    }
