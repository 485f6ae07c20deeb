"""Which roll-up tier answers which part of a levels query, and buckets from cells of any width
(``noiselab/store/level_buckets.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.store.base import Series
from noiselab.store.level_buckets import (
    cells_within_width,
    minute_buckets,
    rollup_buckets,
    rollup_tiers,
)
from noiselab.store.sqlite_rollup import HIST_DTYPE


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _hour(*args: int) -> int:
    return int(_utc(*args).timestamp()) // 3600


def test_hour_buckets_are_all_hours():
    edges = bucket_edges(_utc(2026, 3, 1, 10, 20), _utc(2026, 3, 1, 13, 10), Every.H1)
    tiers = rollup_tiers(edges)
    assert tiers.hours.tolist() == list(range(_hour(2026, 3, 1, 10), _hour(2026, 3, 1, 14)))
    assert tiers.hour_span == (_utc(2026, 3, 1, 10).timestamp(), _utc(2026, 3, 1, 14).timestamp())
    assert tiers.minute_span is None


def test_copenhagen_days_are_all_hours_even_the_23_hour_one():
    cph = ZoneInfo("Europe/Copenhagen")
    edges = bucket_edges(_utc(2026, 3, 28, 12), _utc(2026, 3, 29, 12), Every.D1, cph)
    tiers = rollup_tiers(edges)
    assert tiers.hours.size == 24 + 23  # 28 March, then the day clocks go forward
    assert tiers.minute_span is None


def test_a_half_hour_midnight_leaves_its_hour_to_the_minutes():
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30: midnight is 18:30 UTC
    edges = bucket_edges(_utc(2026, 3, 1, 12), _utc(2026, 3, 2, 12), Every.D1, kolkata)
    tiers = rollup_tiers(edges)
    split = [_hour(2026, 2, 28, 18), _hour(2026, 3, 1, 18), _hour(2026, 3, 2, 18)]
    assert not set(split) & set(tiers.hours.tolist())
    assert tiers.hours.size == 2 * 24 - 2  # the two days but the hours their edges split
    assert tiers.minute_span == (_utc(2026, 2, 28, 18, 30).timestamp(), edges[-1])
    starts = np.array([_utc(2026, 3, 1, h, m).timestamp() for h, m in ((18, 0), (18, 59), (19, 0))])
    assert tiers.wanted_minutes(starts).tolist() == [True, True, False]
    assert tiers.wanted_hours(starts).tolist() == [False, False, True]


def test_short_buckets_are_all_minutes():
    edges = bucket_edges(_utc(2026, 3, 1, 10, 20), _utc(2026, 3, 1, 13, 10), Every.M15)
    tiers = rollup_tiers(edges)
    assert tiers.hours.size == 0
    assert tiers.hour_span is None
    assert tiers.minute_span == (edges[0], edges[-1])


def test_rollup_buckets_of_minutes_equal_minute_buckets():
    rng = np.random.default_rng(3)
    edges = bucket_edges(_utc(2026, 3, 1, 10), _utc(2026, 3, 1, 14), Every.M15)
    minute = np.sort(rng.choice(np.arange(int(edges[0]) // 60, int(edges[-1]) // 60), 100, False))
    seconds = rng.integers(1, 61, minute.size).astype(np.float64)
    energies = seconds * 10 ** (rng.uniform(4, 8, minute.size))
    lafmax = rng.uniform(60, 90, minute.size)
    hists = [np.array([(int(b), 1000)], HIST_DTYPE).tobytes() for b in rng.integers(400, 800, 100)]
    by_minute = minute_buckets(
        edges, minute=minute, energies=energies, seconds=seconds, lafmax=lafmax, hists=hists
    ).points(edges)
    by_start = rollup_buckets(
        rollup_tiers(edges).grid,
        start_s=minute * 60.0,
        energies=energies,
        seconds=seconds,
        lafmax=lafmax,
        hists=hists,
    ).points(edges)
    assert by_start == by_minute


def test_a_cell_with_more_seconds_than_its_width_is_split_within_it():
    cells = Series(
        np.array([0.0, 60.0]), np.array([60.0, 70.0]), np.array([150.0, 30.0]), np.ones(2)
    )
    split = cells_within_width(cells, 60.0)
    assert split.ts.tolist() == [0.0, 0.0, 0.0, 60.0]
    assert split.duration.tolist() == [50.0, 50.0, 50.0, 30.0]
    assert split.laeq.tolist() == [60.0, 60.0, 60.0, 70.0]
