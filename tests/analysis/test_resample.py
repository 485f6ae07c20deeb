"""Known-answer, brute-force and property tests of noiselab.analysis.resample: LAeq, LAFmax,
coverage and the exceedance levels, exact (sorting) and from 0.1 dB histograms (the default)."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.buckets import Every
from noiselab.analysis.levels import bin_levels
from noiselab.analysis.resample import resample

CPH = ZoneInfo("Europe/Copenhagen")
HOUR = 1_780_002_000.0  # 2026-05-28T21:00:00Z, a whole hour


def local(y: int, mo: int, d: int, h: int = 0) -> float:
    return datetime(y, mo, d, h, tzinfo=CPH).timestamp()


def test_hourly_buckets_hand_values():
    """Hour 1: 1,800 s at 60 dB then 1,800 s at 70 dB: 10·log10((10^6 + 10^7)/2) = 67.4036 dB;
    cumulative time fractions 0.5 (60) and 1.0 (70): L10 = 70, L50 = 60 (0.5 reached), L90 = 60.
    Hour 2: 70 dB throughout. LAFmax is the largest given per hour."""
    ts = HOUR + np.arange(7200.0)
    lv = np.where(ts < HOUR + 1800, 60.0, 70.0)
    lafmax = lv + 5.0
    lafmax[10] = 90.0
    r = resample(ts, lv, every="1h", lafmax=lafmax)
    np.testing.assert_array_equal(r.t, [HOUR, HOUR + 3600])
    np.testing.assert_allclose(r.laeq, [67.403627, 70.0], atol=1e-6)
    np.testing.assert_array_equal(r.l10, [70.0, 70.0])
    np.testing.assert_array_equal(r.l50, [60.0, 70.0])
    np.testing.assert_array_equal(r.l90, [60.0, 70.0])
    np.testing.assert_array_equal(r.lafmax, [90.0, 75.0])
    np.testing.assert_array_equal(r.coverage, [1.0, 1.0])
    np.testing.assert_array_equal(r.seconds, [3600.0, 3600.0])
    assert len(r) == 2


def test_empty_buckets_are_omitted_and_lafmax_nan_when_absent():
    """Readings in the first and fourth 15-min bucket only: two points, coverage 60/900."""
    ts = np.array([HOUR, HOUR + 3 * 900 + 30])
    r = resample(ts, [50.0, 55.0], [60.0, 60.0], every=Every.M15)
    np.testing.assert_array_equal(r.t, [HOUR, HOUR + 2700])
    np.testing.assert_allclose(r.coverage, [60 / 900, 60 / 900])
    assert np.isnan(r.lafmax).all()
    empty = resample([], [])
    assert len(empty) == 0


def test_crossing_reading_is_split_by_overlap():
    """A 60-s reading at 70 dB from 30 s before the hour, among 1-s readings at 50 dB that
    fill both hours around it. Hour 1: 3,570 s at 50 + 30 s at 70 dB:
    10·log10((3570·10^5 + 30·10^7)/3600) = 10·log10(182,500) = 52.6126 dB,
    L10 = 50 (fraction 0.9917 at 50).
    Hour 2: 30 s at 70 + 3,570 s at 50 dB, the same level. LAFmax 80 reaches both hours."""
    before = HOUR + 3600 - 30
    quiet = np.concatenate((np.arange(HOUR, before), np.arange(HOUR + 3630, HOUR + 7200)))
    ts = np.concatenate(([before], quiet))
    lv = np.concatenate(([70.0], np.full(quiet.size, 50.0)))
    d = np.concatenate(([60.0], np.ones(quiet.size)))
    lafmax = np.concatenate(([80.0], np.full(quiet.size, np.nan)))
    r = resample(ts, lv, d, every="1h", lafmax=lafmax)
    np.testing.assert_allclose(r.laeq, [52.6126, 52.6126], atol=1e-4)
    np.testing.assert_array_equal(r.seconds, [3600.0, 3600.0])
    np.testing.assert_array_equal(r.l10, [50.0, 50.0])
    np.testing.assert_array_equal(r.lafmax, [80.0, 80.0])


def test_long_reading_spans_several_buckets():
    """One 25-min reading at 60 dB from minute 2: 3, 5, 5, 5, 5 and 2 min in six 5-min buckets."""
    r = resample([HOUR + 120], [60.0], [1500.0], every="5m")
    np.testing.assert_array_equal(r.t, HOUR + 300 * np.arange(6))
    np.testing.assert_allclose(r.seconds, [180, 300, 300, 300, 300, 120])
    np.testing.assert_allclose(r.laeq, 60.0)


@pytest.mark.parametrize(
    ("first", "hours"),
    [((2026, 3, 28), [24, 23, 24]), ((2026, 10, 24), [24, 25, 24])],
)
def test_daily_buckets_start_at_local_midnight(first, hours):
    """1-min readings over three local days around a daylight-saving change: buckets start at
    local midnight and last 24, 23 (or 25), 24 h; full coverage. Day 2 at 40 dB for its first
    hour and 50 dB after: 10·log10((10^4 + (h-1)·10^5)/h) with h = 23 (or 25)."""
    y, m, d = first
    t0, t3 = local(y, m, d), local(y, m, d + 3)
    ts = np.arange(t0, t3, 60.0)
    lv = np.where((ts >= local(y, m, d + 1)) & (ts < local(y, m, d + 1, 1)), 40.0, 50.0)
    r = resample(ts, lv, np.full(ts.size, 60.0), every="1d")
    np.testing.assert_array_equal(r.t, [local(y, m, d + i) for i in range(3)])
    np.testing.assert_array_equal(r.seconds, [h * 3600.0 for h in hours])
    np.testing.assert_array_equal(r.coverage, [1.0, 1.0, 1.0])
    h = hours[1]
    np.testing.assert_allclose(r.laeq[1], 10 * math.log10((1e4 + (h - 1) * 1e5) / h), atol=1e-9)


def test_unsorted_input_gives_the_same():
    rng = np.random.default_rng(3)
    ts = HOUR + rng.permutation(5000).astype(np.float64)
    lv = rng.uniform(40, 80, ts.size)
    a = resample(ts, lv, every="5m")
    order = np.argsort(ts)
    b = resample(ts[order], lv[order], every="5m")
    for name in ("t", "laeq", "l10", "l50", "l90", "seconds"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def _brute(ts, durations, levels, width):
    """Per bucket by plain loops: overlap of each reading, energetic mean, numpy percentiles."""
    out = {}
    for t, d, lv in zip(ts, durations, levels, strict=True):
        k = math.floor(t / width)
        while k * width < t + d:
            overlap = min(t + d, (k + 1) * width) - max(t, k * width)
            if overlap > 0:
                out.setdefault(k * width, []).append((lv, overlap))
            k += 1
    rows = []
    for start in sorted(out):
        lv = np.array([x for x, _ in out[start]])
        w = np.array([o for _, o in out[start]])
        laeq = 10 * math.log10(float((w * 10 ** (lv / 10)).sum() / w.sum()))
        pct = np.percentile(lv, [90, 50, 10], weights=w, method="inverted_cdf")
        rows.append((start, laeq, *pct, w.sum()))
    return np.array(rows)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4000), st.integers(1, 700), st.integers(300, 900)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["1m", "5m", "15m"]),
)
def test_resample_equals_brute_force(readings, every):
    """Integer times and durations (so overlaps are exact): every bucket agrees with the loop,
    including split readings and overlapping readings."""
    ts = np.array([HOUR + r[0] for r in readings], dtype=np.float64)
    d = np.array([r[1] for r in readings], dtype=np.float64)
    lv = np.array([r[2] / 10 for r in readings])
    got = resample(ts, lv, d, every=every)
    want = _brute(ts.tolist(), d.tolist(), lv.tolist(), Every(every).seconds)
    np.testing.assert_array_equal(got.t, want[:, 0])
    np.testing.assert_allclose(got.laeq, want[:, 1], atol=1e-9)
    np.testing.assert_array_equal(np.c_[got.l10, got.l50, got.l90], want[:, 2:5])
    np.testing.assert_allclose(got.seconds, want[:, 5])


def test_large_buckets_equal_brute_force():
    """Three hours of random 1-s data (3,600 readings a bucket, sorted bucket by bucket): the
    exact path is numpy's weighted percentile; the histogram path is its 0.1 dB bin."""
    rng = np.random.default_rng(7)
    ts = HOUR + np.arange(3 * 3600.0)
    lv = rng.uniform(35, 85, ts.size).round(2)
    got = resample(ts, lv, every="1h", percentiles="exact")
    binned = resample(ts, lv, every="1h")
    for i in range(3):
        part = lv[i * 3600 : (i + 1) * 3600]
        np.testing.assert_allclose(
            got.laeq[i], 10 * math.log10(np.mean(10 ** (part / 10))), atol=1e-9
        )
        want = np.percentile(part, [90, 50, 10], method="inverted_cdf", weights=np.ones(3600))
        np.testing.assert_array_equal([got.l10[i], got.l50[i], got.l90[i]], want)
        np.testing.assert_array_equal(
            [binned.l10[i], binned.l50[i], binned.l90[i]], bin_levels(want)
        )
    np.testing.assert_allclose(binned.laeq, got.laeq, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 20_000), st.integers(1, 900), st.floats(20.0, 100.0)),
        min_size=1,
        max_size=40,
    )
)
def test_resample_properties(readings):
    """+10 dB on every reading adds 10 dB to LAeq and L10/L50/L90 of every bucket (exactly
    with exact percentiles; within a bin, 0.1 dB, from histograms: the bin of L + 10 can round
    the other way); L90 ≤ L50 ≤ L10; the buckets' LAeq weighted by their seconds combine into
    the Leq of all readings."""
    ts = np.array([HOUR + r[0] for r in readings], dtype=np.float64)
    d = np.array([r[1] for r in readings], dtype=np.float64)
    lv = np.array([r[2] for r in readings])
    for percentiles, atol in (("exact", 1e-9), ("histogram", 0.1 + 1e-9)):
        base = resample(ts, lv, d, every="15m", percentiles=percentiles)
        louder = resample(ts, lv + 10, d, every="15m", percentiles=percentiles)
        np.testing.assert_allclose(louder.laeq, base.laeq + 10, atol=1e-9)
        for name in ("l10", "l50", "l90"):
            np.testing.assert_allclose(getattr(louder, name), getattr(base, name) + 10, atol=atol)
        assert (base.l90 <= base.l50).all()
        assert (base.l50 <= base.l10).all()
    combined = 10 * np.log10((base.seconds * 10 ** (base.laeq / 10)).sum() / base.seconds.sum())
    whole = 10 * np.log10((d * 10 ** (lv / 10)).sum() / d.sum())
    np.testing.assert_allclose(combined, whole, atol=1e-9)
