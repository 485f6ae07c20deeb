"""L10/L50/L90 of ``resample`` from 0.1 dB histograms (the default) against the exact path that
sorts each bucket: hand-computed buckets, the ±0.05 dB bound on random data, where the
histogram does not apply (readings over 1 s, levels outside 0..6553.5 dB), empty buckets and
local days around daylight saving."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis import bucket_percentiles
from noiselab.analysis.levels import bin_levels
from noiselab.analysis.resample import resample

CPH = ZoneInfo("Europe/Copenhagen")
HOUR = 1_780_002_000.0  # 2026-05-28T21:00:00Z, a whole hour


def local(y: int, mo: int, d: int, h: int = 0) -> float:
    return datetime(y, mo, d, h, tzinfo=CPH).timestamp()


def exceedance(r) -> np.ndarray:
    """``(buckets, 3)``: L10, L50, L90 of a ``Resampled``."""
    return np.c_[r.l10, r.l50, r.l90]


CELLS_PER_READING = {"table": 10**9, "sorted": 0}
"""Both ways ``resample`` answers the histogram levels, forced whatever the data: counting a
(bucket, bin) table, or (what it does for blocks too sparse for a table) sorting and rounding
the exact level to its bin."""


@pytest.fixture(params=sorted(CELLS_PER_READING))
def histogram_path(request, monkeypatch):
    monkeypatch.setattr(bucket_percentiles, "_CELLS_PER_READING", CELLS_PER_READING[request.param])
    return request.param


def test_ten_one_second_readings_by_hand(histogram_path):
    """Ten 1-s readings in one hour, out of order. Sorted: 40.04, 45.26, 47.9, 49.12, 50.25,
    52.13, 57.91, 58.3, 60.75, 71.47 dB, each 0.1 of the time, so the cumulative fractions are
    0.1, 0.2, ..., 1.0. Exact nearest rank: L90 needs 0.1 -> 40.04 (1st), L50 needs 0.5 ->
    50.25 (5th), L10 needs 0.9 -> 60.75 (9th). Histogram bins round(L·10), half to even:
    400.4 -> 400, 502.5 -> 502 (even), 607.5 -> 608 (even): L90 = 40.0, L50 = 50.2,
    L10 = 60.8 dB; every bin holds one reading, so the ranks are the same."""
    levels = [52.13, 71.47, 40.04, 60.75, 45.26, 50.25, 57.91, 47.9, 58.3, 49.12]
    ts = HOUR + np.arange(10.0)
    exact = resample(ts, levels, percentiles="exact")
    binned = resample(ts, levels)
    np.testing.assert_array_equal(exceedance(exact), [[60.75, 50.25, 40.04]])
    np.testing.assert_array_equal(exceedance(binned), [[60.8, 50.2, 40.0]])
    np.testing.assert_array_equal(binned.laeq, exact.laeq)
    np.testing.assert_array_equal(binned.seconds, [10.0])


def test_levels_sharing_a_bin_add_their_time(histogram_path):
    """Ten 1-s readings: 60.01, 60.02, 60.03, 60.04 (all bin 600) and 61.0 x 6. The bin 60.0
    holds 4 s (fraction 0.4), 61.0 the rest: L90 (0.1) = 60.0, L50 (0.5) = 61.0, L10 = 61.0.
    Exact: L90 = 60.01 (first of ten), L50 = 61.0 (0.5 reached at the 5th, 61.0)."""
    levels = [61.0, 60.03, 61.0, 60.01, 61.0, 61.0, 60.04, 61.0, 60.02, 61.0]
    ts = HOUR + np.arange(10.0)
    np.testing.assert_array_equal(exceedance(resample(ts, levels)), [[61.0, 61.0, 60.0]])
    exact = resample(ts, levels, percentiles="exact")
    np.testing.assert_array_equal(exceedance(exact), [[61.0, 61.0, 60.01]])


def test_split_second_readings_weigh_their_overlap(histogram_path):
    """1-s readings starting at x.5 s: the one at 299.5 s crosses the 5-min edge, half a second
    in each bucket. Bucket 1 [0, 300): 0.5 s at 40.0 (the reading at -0.5 s is not there: the
    first starts at 0.5 s)... built so that bucket 2 [300, 600) has 0.5 s at 70.04 (the split
    reading), then 299 s at 50.04 and 0.5 s at 50.04 (the last reading, cut by the 600 s
    edge); its fractions: 50.0 bin 299.5/300 = 0.998, so L90 = L50 = L10 = 50.0 and the
    exact L_N are 50.04. Bucket 1: 299 readings at 60.06 and the first half of 70.04: 0.5/299.5
    at 70.04 -> all L_N 60.1 (exact 60.06)."""
    ts = HOUR + 0.5 + np.arange(599.0)
    levels = np.where(ts < HOUR + 299, 60.06, 50.04)
    levels[299] = 70.04  # starts at 299.5 s
    binned = resample(ts, levels, every="5m")
    exact = resample(ts, levels, every="5m", percentiles="exact")
    np.testing.assert_array_equal(binned.seconds, [299.5, 299.5])
    np.testing.assert_array_equal(exceedance(binned), [[60.1] * 3, [50.0] * 3])
    np.testing.assert_array_equal(exceedance(exact), [[60.06] * 3, [50.04] * 3])


def test_buckets_with_readings_over_one_second_stay_exact(histogram_path):
    """5-min buckets. Bucket 1: 1-s readings alternating 50.04 / 60.06 dB -> histogram:
    fraction 0.5 at bin 50.0, so L10 = 60.1, L50 = L90 = 50.0. Bucket 2: 240 1-s readings at
    55.57 and a 30-s reading at 70.03 from 270 s: the 30-s reading makes it exact, fractions
    240/270 = 0.889 at 55.57 then 1.0: L10 (0.9) = 70.03, L50 = L90 = 55.57. Bucket 3: a 60-s
    reading at 65.02 from 870 s reaches into [900, 1200) for 30 s, with 200 1-s readings at
    45.57: 200/230 = 0.87 at 45.57: L10 = 65.02 exact, L50 = L90 = 45.57. Bucket 4: 1-s
    readings only, at 45.57 dB: histogram again, bin 455.7 -> 456, 45.6 dB."""
    first = HOUR + np.arange(300.0)
    second = HOUR + 300 + np.arange(240.0)
    third = HOUR + 900 + np.arange(200.0)
    fourth = HOUR + 1200 + np.arange(100.0)
    ts = np.concatenate((first, second, [HOUR + 570.0, HOUR + 870.0], third, fourth))
    d = np.concatenate((np.ones(540), [30.0, 60.0], np.ones(300)))
    lv = np.concatenate(
        (
            np.where(np.arange(300) % 2 == 0, 50.04, 60.06),
            np.full(240, 55.57),
            [70.03, 65.02],
            np.full(300, 45.57),
        )
    )
    r = resample(ts, lv, d, every="5m")
    np.testing.assert_array_equal(r.t, HOUR + 300.0 * np.array([0, 1, 2, 3, 4]))
    np.testing.assert_array_equal(r.seconds, [300, 270, 30, 230, 100])
    np.testing.assert_array_equal(
        exceedance(r),
        [
            [60.1, 50.0, 50.0],
            [70.03, 55.57, 55.57],
            [65.02, 65.02, 65.02],
            [65.02, 45.57, 45.57],
            [45.6, 45.6, 45.6],
        ],
    )


def test_empty_buckets_are_omitted(histogram_path):
    """1-s readings in the first and the fourth 15-min bucket only: two buckets, each with
    its own histogram: 60 s at 50.04 dB (all L_N 50.0), then 60 s at 55.53 and 60 s at
    61.06 dB (fraction 0.5 at bin 555: L50 = L90 = 55.5, L10 = 61.1)."""
    ts = np.concatenate((HOUR + np.arange(60.0), HOUR + 2700 + np.arange(120.0)))
    lv = np.concatenate((np.full(60, 50.04), np.full(60, 55.53), np.full(60, 61.06)))
    r = resample(ts, lv, every="15m")
    np.testing.assert_array_equal(r.t, [HOUR, HOUR + 2700])
    np.testing.assert_array_equal(exceedance(r), [[50.0] * 3, [61.1, 55.5, 55.5]])
    for percentiles in ("histogram", "exact"):
        assert len(resample([], [], percentiles=percentiles)) == 0


@pytest.mark.parametrize(
    ("day", "hours"), [((2026, 3, 28), 23), ((2026, 10, 24), 25), ((2026, 6, 1), 24)]
)
def test_local_days_around_daylight_saving(day, hours, histogram_path):
    """Three local days of 1-s readings, each starting with 8,280 s (2.3 h) at 40.04 dB and
    then 50.26 dB. L90 needs 10 % of the day: the 23-h day of 2026-03-29 (82,800 s) reaches
    exactly 0.1 at 40.04, so L90 = 40.0 (bin); a 24-h or 25-h day does not (8,280/86,400 =
    0.096; /90,000 = 0.092): L90 = 50.3. L50 and L10 are 50.3 (bin 502.6 -> 503)."""
    y, m, d = day
    starts = [local(y, m, d + i) for i in range(4)]
    ts = np.concatenate([np.arange(a, b) for a, b in itertools.pairwise(starts)])
    day_start = np.repeat(starts[:-1], np.diff(starts).astype(int))
    lv = np.where(ts - day_start < 8280, 40.04, 50.26)
    r = resample(ts, lv, every="1d")
    np.testing.assert_array_equal(r.t, starts[:-1])
    assert r.seconds[1] == hours * 3600
    l90 = 40.0 if hours == 23 else 50.3
    np.testing.assert_array_equal(exceedance(r)[1], [50.3, 50.3, l90])
    exact = resample(ts, lv, every="1d", percentiles="exact")
    np.testing.assert_array_equal(
        exceedance(exact)[1], [50.26, 50.26, 40.04 if hours == 23 else 50.26]
    )


def test_levels_outside_the_bins_stay_exact(histogram_path):
    """A histogram bin holds 0..6553.5 dB (the store's uint16). 1-s readings in three
    1-min buckets: -20.04 and -10.06 dB (negative: exact), 6553.44 and 6553.46 dB (fits:
    bins 65534 and 65535), 6553.46 and 6553.56 dB (over: exact). Each bucket alternates its
    two levels, so L10 is the higher, L50 and L90 the lower."""
    ts = HOUR + np.concatenate((np.arange(60.0), 120 + np.arange(60.0)))
    alternate = np.arange(60) % 2 == 0
    low = np.where(alternate, -20.04, -10.06)
    r = resample(ts, np.concatenate((low, low + 30)), every="1m")
    np.testing.assert_array_equal(exceedance(r), [[-10.06, -20.04, -20.04], [19.9, 10.0, 10.0]])
    high = np.concatenate(
        (np.where(alternate, 6553.44, 6553.46), np.where(alternate, 6553.46, 6553.56))
    )
    r = resample(ts, high, every="1m")
    np.testing.assert_array_equal(
        exceedance(r), [[6553.5, 6553.4, 6553.4], [6553.56, 6553.46, 6553.46]]
    )


def test_percentiles_must_be_histogram_or_exact():
    with pytest.raises(ValueError, match="percentiles"):
        resample([HOUR], [60.0], percentiles="interpolated")  # type: ignore[arg-type]


def test_non_finite_levels_are_refused_whatever_the_method():
    for percentiles in ("histogram", "exact"):
        with pytest.raises(ValueError, match="levels must be finite"):
            resample([HOUR, HOUR + 1], [60.0, np.nan], percentiles=percentiles)


@pytest.mark.parametrize("path", ["table", "sorted"])
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7200), st.floats(20.0, 100.0)),
        min_size=1,
        max_size=400,
    ),
    st.sampled_from([0.25, 0.5, 1.0]),
    st.sampled_from([None, 0.25, 0.5, 1.0]),
    st.sampled_from(["1s", "1m", "5m", "15m", "1h"]),
)
def test_histogram_levels_are_the_bins_of_the_exact_levels(path, readings, step, duration, every):
    """Readings of at most 1 s (``duration`` None means 1 s), starting on a grid of ``step``
    seconds so readings cross bucket edges and overlap, with times and overlaps that are
    binary fractions (sums exact): in every bucket each L_N from the histogram is the 0.1 dB
    bin of the exact nearest-rank L_N, hence within 0.05 dB of it (plus the float rounding of
    L·10); LAeq, seconds and coverage are the same."""
    ts = HOUR + np.array([r[0] for r in readings]) * step
    lv = np.array([r[1] for r in readings])
    d = None if duration is None else np.full(ts.size, duration)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bucket_percentiles, "_CELLS_PER_READING", CELLS_PER_READING[path])
        binned = resample(ts, lv, d, every=every)
    exact = resample(ts, lv, d, every=every, percentiles="exact")
    for name in ("t", "laeq", "lafmax", "seconds", "coverage"):
        np.testing.assert_array_equal(getattr(binned, name), getattr(exact, name))
    np.testing.assert_array_equal(exceedance(binned), bin_levels(exceedance(exact)))
    assert np.abs(exceedance(binned) - exceedance(exact)).max() <= 0.05 + 1e-12
