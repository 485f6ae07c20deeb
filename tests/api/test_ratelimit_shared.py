"""The SQLite-backed rate limit (noiselab.api.ratelimit_shared) with an injected clock: the
same buckets as the in-process limiter, one budget for every limiter opened on the file, idle
rows pruned, and a file that cannot be used lets requests through instead of failing them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.clock import Clock

from noiselab.api.ratelimit import RateLimiter
from noiselab.api.ratelimit_shared import SharedRateLimiter


def test_it_answers_like_the_in_process_limiter(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    shared = SharedRateLimiter(tmp_path / "rl.sqlite", 2.0, 5, clock)
    memory = RateLimiter(2.0, 5, clock)
    answers = []
    for step in range(40):
        clock.now += 0.1 if step % 3 else 0.0
        for address in ("a", "b") if step % 2 else ("a",):
            answers.append((shared.take(address), memory.take(address)))
    for got, expected in answers:
        if expected is None:
            assert got is None
        else:
            assert got is not None
            assert abs(got - expected) < 1e-9
    assert any(expected is not None for _, expected in answers)  # the limit was reached
    shared.close()


def test_limiters_on_one_file_share_the_budget(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    first = SharedRateLimiter(tmp_path / "rl.sqlite", 1.0, 4, clock)
    second = SharedRateLimiter(tmp_path / "rl.sqlite", 1.0, 4, clock)
    results = [(first if i % 2 else second).take("10.0.0.1") for i in range(8)]
    assert results[:4] == [None] * 4
    assert all(wait is not None for wait in results[4:])
    # Negative control: another file is another budget.
    other = SharedRateLimiter(tmp_path / "other.sqlite", 1.0, 4, clock)
    assert other.take("10.0.0.1") is None
    for limiter in (first, second, other):
        limiter.close()


def test_idle_buckets_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("noiselab.api.ratelimit_shared._PRUNE_EVERY", 10)
    clock = Clock(1000.0)
    limiter = SharedRateLimiter(tmp_path / "rl.sqlite", 1.0, 2, clock)
    for i in range(9):
        limiter.take(f"10.0.0.{i}")
    assert len(limiter) == 9
    clock.now += 10.0  # every bucket is full again
    limiter.take("10.0.1.1")
    assert len(limiter) == 1
    limiter.close()


def test_an_unusable_file_lets_requests_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rl.sqlite"
    limiter = SharedRateLimiter(path, 1.0, 1, Clock(1000.0), busy_timeout_s=0.05)
    assert limiter.take("a") is None
    assert limiter.take("a") is not None  # limited while the file works
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock too long
    try:
        assert limiter.take("a") is None
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert "request let through" in caplog.text
    limiter.close()
