"""The token-bucket arithmetic shared by the request-count limit, the cost budgets and the
shared (file-backed) rate limit, against hand-worked values."""

from __future__ import annotations

import math

import pytest
from support.clock import Clock

from noiselab.api.token_buckets import TokenBuckets, spend


def test_spend_refills_then_pays() -> None:
    """2 units held 3 s ago at 0.5 units/s refill to 3.5; paying 3 leaves 0.5."""
    assert spend(2.0, 10.0, 13.0, 3.0, rate=0.5, burst=10) == (0.5, None)


def test_spend_refill_stops_at_the_burst() -> None:
    """An hour idle refills to the burst of 4, not beyond: paying 1 leaves 3."""
    assert spend(0.0, 0.0, 3600.0, 1.0, rate=2.0, burst=4) == (3.0, None)


def test_spend_refused_takes_nothing_and_says_when() -> None:
    """1 unit held, 4 asked at 2 units/s: refused, still 1 held, 1.5 s until 4 are there."""
    held, wait_s = spend(1.0, 5.0, 5.0, 4.0, rate=2.0, burst=10)
    assert held == 1.0
    assert wait_s == pytest.approx(1.5)


def test_a_clock_going_back_refills_nothing() -> None:
    assert spend(1.0, 10.0, 9.0, 2.0, rate=1.0, burst=5) == (1.0, 1.0)


def test_buckets_by_key_with_units() -> None:
    clock = Clock(100.0)
    buckets = TokenBuckets(rate=10.0, burst=100, clock=clock)
    assert buckets.take("a", 60) is None
    assert buckets.take("a", 60) == pytest.approx(2.0)  # 40 held, 20 missing at 10/s
    assert buckets.take("b", 60) is None  # its own bucket
    clock.now += 2.0
    assert buckets.take("a", 60) is None
    assert buckets.take("a", 101) == math.inf  # above the burst: never


def test_zero_turns_the_buckets_off() -> None:
    buckets = TokenBuckets(rate=0.0, burst=100, clock=Clock(0.0))
    assert not buckets.enabled
    assert all(buckets.take("a", 1000) is None for _ in range(10))
    assert len(buckets) == 0
