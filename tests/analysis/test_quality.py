"""Known-answer tests of noiselab.analysis.quality: coverage, gaps, counters, stuck sensors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from noiselab.analysis.quality import (
    Gap,
    SeqGap,
    StuckRun,
    coverage,
    find_gaps,
    find_stuck,
    seq_gaps,
    seq_resets,
)

# --- coverage ----------------------------------------------------------------------------


def test_coverage_counts_the_union_of_intervals_once():
    """Readings [0,1), [1,2), [1.5,2.5), [5,7) over [0,10): union [0,2.5) and [5,7) = 4.5 s."""
    assert coverage([0, 1, 1.5, 5], [1, 1, 1, 2], 0, 10) == pytest.approx(0.45)


def test_coverage_of_duplicated_readings_is_not_inflated():
    """The same 1-s reading delivered three times covers 1 s of [0, 4): 0.25."""
    assert coverage([0, 0, 0], None, 0, 4) == pytest.approx(0.25)


def test_coverage_clips_readings_to_the_range():
    """[-5, 5) and [8, 12) clipped to [0, 10): 5 s + 2 s = 7 s of 10 s."""
    assert coverage([-5, 8], [10, 4], 0, 10) == pytest.approx(0.7)


def test_coverage_of_a_full_day_of_one_second_readings_is_one():
    ts = np.arange(86_400, dtype=np.float64)
    assert coverage(ts, None, 0, 86_400) == pytest.approx(1.0)


def test_coverage_unordered_and_nested_intervals():
    """[2,3) inside [0,10), given first; [20,25) outside [0,20): 10 s of 20 s."""
    assert coverage([2, 0, 20], [1, 10, 5], 0, 20) == pytest.approx(0.5)


def test_coverage_without_readings_in_range_is_zero():
    assert coverage([], None, 0, 60) == 0.0
    assert coverage([100], None, 0, 60) == 0.0


def test_coverage_rejects_an_empty_range():
    with pytest.raises(ValueError, match="after start"):
        coverage([0], None, 10, 10)


# --- gaps --------------------------------------------------------------------------------


def test_find_gaps_reports_the_hole_between_readings():
    """1-s readings at 0, 1, 2, 5, 6: readings end at 3, the next starts at 5 -> gap [3, 5)."""
    assert find_gaps([0, 1, 2, 5, 6]) == [Gap(start=3.0, end=5.0, duration_s=2.0)]


def test_find_gaps_detects_a_single_missing_reading():
    """0, 1, 3: one 1-s reading missing, a 1-s hole (start-to-start 2 s > 1.5 x 1 s)."""
    assert find_gaps([0, 1, 3]) == [Gap(start=2.0, end=3.0, duration_s=1.0)]


def test_find_gaps_ignores_clock_jitter_below_half_a_reading():
    """Starts 0, 1.3, 2.1, 3.4 with 1-s readings: holes of 0.3 and 0.3 s are not gaps."""
    assert find_gaps([0, 1.3, 2.1, 3.4]) == []


def test_find_gaps_overlaps_and_order_do_not_create_gaps():
    """A 60-s reading at 0 covers 1-s readings at 10 and 20; next at 60 continues; sorted here."""
    assert find_gaps([20, 0, 10, 60], [1, 60, 1, 1]) == []


def test_find_gaps_with_min_gap_and_unequal_durations():
    """60-s readings at 0, 60, 180 (one missing): a 60-s hole; with min_gap_s=120 none."""
    ts, d = [0, 60, 180], [60, 60, 60]
    assert find_gaps(ts, d) == [Gap(start=120.0, end=180.0, duration_s=60.0)]
    assert find_gaps(ts, d, min_gap_s=120) == []


def test_find_gaps_of_too_few_readings_is_empty():
    assert find_gaps([]) == []
    assert find_gaps([5.0]) == []


# --- message counters ----------------------------------------------------------------------


def test_seq_gaps_lists_the_missing_counters():
    """1, 2, 5, 6, 0, 1, 3: 3-4 missing before index 2; 0 is a reset; 2 missing before index 6."""
    seq = [1, 2, 5, 6, 0, 1, 3]
    assert seq_gaps(seq) == [
        SeqGap(index=2, first_missing=3, last_missing=4, missing=2),
        SeqGap(index=6, first_missing=2, last_missing=2, missing=1),
    ]
    assert seq_resets(seq) == [4]


def test_seq_gaps_ignores_redeliveries():
    assert seq_gaps([7, 7, 8, 8, 9]) == []
    assert seq_resets([7, 7, 8]) == []


def test_seq_decrease_is_a_reset_not_a_huge_gap_for_unsigned_counters():
    """An unsigned 64-bit counter wrapping from 2^64 - 1 to 0: no gap of ~2^64."""
    top = np.uint64(2**64 - 1)
    seq = np.array([top - np.uint64(2), top - np.uint64(1), top, 0, 1], dtype=np.uint64)
    assert seq_gaps(seq) == []
    assert seq_resets(seq) == [3]


def test_seq_gaps_near_the_top_of_uint64_are_exact():
    seq = np.array([2**64 - 10, 2**64 - 1], dtype=np.uint64)
    assert seq_gaps(seq) == [
        SeqGap(index=1, first_missing=2**64 - 9, last_missing=2**64 - 2, missing=8)
    ]


def test_seq_gaps_rejects_non_integers_and_negatives():
    with pytest.raises(ValueError, match="integers"):
        seq_gaps([1.0, 2.0])
    with pytest.raises(ValueError, match=">= 0"):
        seq_gaps([1, -1])
    assert seq_gaps([]) == []


# --- stuck sensor ------------------------------------------------------------------------


def _noise(n: int, seed: int = 1) -> np.ndarray:
    """Ambient-like 1-s LAeq: 55 dB +- a few dB, rounded to 0.1 dB, no two neighbours equal."""
    rng = np.random.default_rng(seed)
    values = np.round(55 + rng.normal(0, 2.0, n), 1)
    same = np.flatnonzero(np.diff(values) == 0) + 1
    values[same] += 0.05  # break accidental repeats so only the planted run is stuck
    return values


def test_find_stuck_finds_a_frozen_value():
    """400 readings of exactly 50.0 dB from t = 1000 in varying noise: one run of 400 s."""
    ts = np.arange(3600, dtype=np.float64)
    levels = _noise(3600)
    levels[1000:1400] = 50.0
    assert find_stuck(ts, levels) == [
        StuckRun(start=1000.0, end=1400.0, duration_s=400.0, level=50.0, count=400)
    ]


def test_find_stuck_ignores_runs_shorter_than_the_minimum():
    ts = np.arange(3600, dtype=np.float64)
    levels = _noise(3600)
    levels[1000:1299] = 50.0  # 299 s < 300 s
    assert find_stuck(ts, levels) == []
    assert len(find_stuck(ts, levels, min_duration_s=299)) == 1


def test_find_stuck_tolerance_allows_flicker_but_not_drift():
    """+-0.1 dB flicker around 50 dB for 600 s is stuck with tolerance 0.1; a 0.05 dB/s
    drift (each step within 0.1 dB, 30 dB in total) is not one run: it is split every 3 s."""
    ts = np.arange(3600, dtype=np.float64)
    levels = _noise(3600)
    levels[600:1200] = 50.0 + 0.1 * (np.arange(600) % 2)
    levels[2000:2600] = 40.0 + 0.05 * np.arange(600)
    runs = find_stuck(ts, levels, tolerance_db=0.1)
    assert [(r.start, r.end, r.count) for r in runs] == [(600.0, 1200.0, 600)]
    assert find_stuck(ts, levels) == []  # without tolerance nothing is constant


def test_find_stuck_run_does_not_cross_missing_data():
    """50.0 dB for 200 s, 100 s without data, 50.0 dB for 200 s: no 300-s run."""
    ts = np.concatenate([np.arange(0, 200), np.arange(300, 500)]).astype(np.float64)
    levels = np.full(ts.size, 50.0)
    assert find_stuck(ts, levels) == []
    assert len(find_stuck(ts, levels, min_duration_s=200)) == 2


def test_find_stuck_with_long_readings():
    """Six 60-s readings of 48.2 dB span 360 s: stuck. Four span 240 s: not. 45-s readings
    every 60 s leave 15-s holes, under half a reading, so the six still span 5·60 + 45 = 345 s."""
    ts = np.arange(0, 360, 60, dtype=np.float64)
    levels = np.full(6, 48.2)
    assert find_stuck(ts, levels, durations=np.full(6, 60.0)) == [
        StuckRun(start=0.0, end=360.0, duration_s=360.0, level=48.2, count=6)
    ]
    assert find_stuck(ts[:4], levels[:4], durations=np.full(4, 60.0)) == []
    assert [r.duration_s for r in find_stuck(ts, levels, durations=np.full(6, 45.0))] == [345.0]


def test_find_stuck_is_fast_on_a_noisy_sensor_day():
    """86,400 readings, every step within the 0.5 dB tolerance (a slow random walk)."""
    rng = np.random.default_rng(3)
    ts = np.arange(86_400, dtype=np.float64)
    levels = 55 + np.cumsum(rng.uniform(-0.3, 0.3, ts.size))
    started = time.perf_counter()
    find_stuck(ts, levels, tolerance_db=0.5)
    assert time.perf_counter() - started < 1.0


def test_find_stuck_validates_input():
    with pytest.raises(ValueError, match="increasing"):
        find_stuck([1, 1], [50, 50])
    with pytest.raises(ValueError, match="levels for"):
        find_stuck([1, 2], [50])
    with pytest.raises(ValueError, match="tolerance"):
        find_stuck([1, 2], [50, 50], tolerance_db=-1)
    assert find_stuck([], []) == []
