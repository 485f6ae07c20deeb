"""Known-answer, daylight-saving and property tests of noiselab.analysis.periods.

Synthetic series are built here with Python ``datetime`` per reading (local wall-clock hour ->
level), independently of the period edges the code under test computes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.periods import DayIndicators, composite_rating_level, lden

CPH = ZoneInfo("Europe/Copenhagen")
TOL = 0.01  # dB, the tolerance for exact functions


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> float:
    return datetime(y, mo, d, h, mi, tzinfo=CPH).timestamp()


def series(t0: float, t1: float, step: int, level_at: Callable[[datetime], float]):
    """Readings of ``step`` s from ``t0`` to ``t1``, level chosen from the local start time."""
    ts = np.arange(t0, t1, step, dtype=np.float64)
    levels = np.array([level_at(datetime.fromtimestamp(t, CPH)) for t in ts.tolist()])
    return ts, levels


def by_period(day: float, evening: float, night: float) -> Callable[[datetime], float]:
    def level(t: datetime) -> float:
        if 7 <= t.hour < 19:
            return day
        return evening if 19 <= t.hour < 22 else night

    return level


def one(rows: list[DayIndicators], d: date) -> DayIndicators:
    (row,) = [r for r in rows if r.date == d]
    return row


# -- composite rating level ---------------------------------------------------------------------


def test_composite_rating_level_danish_and_eu_weights():
    """Lden(60, 60, 60), 12/3/9 h: 10·log10((12·10^6 + 3·10^6.5 + 9·10^7) / 24)
    = 10·log10(4.6454·10^6) = 66.67 dB; 12/4/8 h: 10·log10((12·10^6 + 4·10^6.5 + 8·10^7)/24)
    = 66.40 dB. Lden(65, 60, 55), 12/3/9 h: (12·10^6.5 + 3·10^6.5 + 9·10^6.5) / 24 = 10^6.5:
    65.00 dB (worked by hand above)."""
    np.testing.assert_allclose(
        composite_rating_level([60] * 3, [12, 3, 9], [0, 5, 10]), 66.67, atol=TOL
    )
    np.testing.assert_allclose(
        composite_rating_level([60] * 3, [12, 4, 8], [0, 5, 10]), 66.40, atol=TOL
    )
    np.testing.assert_allclose(
        composite_rating_level([65, 60, 55], [12, 3, 9], [0, 5, 10]), 65.0, atol=1e-9
    )


def test_composite_rating_level_rejects_mismatched_input():
    with pytest.raises(ValueError, match="as many"):
        composite_rating_level([60, 60], [12, 3, 9], [0, 5, 10])
    with pytest.raises(ValueError, match="positive"):
        composite_rating_level([60, 60, 60], [12, 0, 12], [0, 5, 10])


# -- whole days with constant period levels -----------------------------------------------------


def test_lden_constant_period_levels_danish_periods():
    """60-s readings over 2026-06-01..03 with day 65, evening 60, night 55 dB: every period
    level is its constant, Lden = 65.00 dB (by hand), full coverage.
    Ldn: day-part 07-22 = 10·log10((12·10^6.5 + 3·10^6)/15) = 64.3613 dB, then
    10·log10((15·10^6.43613 + 9·10^6.5)/24) = 64.6120 dB.
    LAeq,24h (00-24): 10·log10((9·10^5.5 + 12·10^6.5 + 3·10^6)/24) = 62.6120 dB."""
    ts, lv = series(local(2026, 6, 1), local(2026, 6, 4), 60, by_period(65, 60, 55))
    rows = lden(ts, lv, np.full(ts.size, 60.0), start=date(2026, 6, 1), end=date(2026, 6, 3))
    assert [r.date for r in rows] == [date(2026, 6, 1), date(2026, 6, 2)]
    for r in rows:
        np.testing.assert_allclose([r.lday, r.levening, r.lnight], [65, 60, 55], atol=1e-9)
        np.testing.assert_allclose(r.lden, 65.0, atol=1e-9)
        np.testing.assert_allclose(r.ldn, 64.6120, atol=1e-4)
        np.testing.assert_allclose(r.laeq24, 62.6120, atol=1e-4)
        assert (r.coverage_day, r.coverage_evening, r.coverage_night, r.coverage_24h) == (
            1,
            1,
            1,
            1,
        )


def test_lden_60_db_everywhere_danish_and_eu_evening():
    """Constant 60 dB: Lden 66.67 dB with 19-22 evenings (12/3/9), 66.40 dB with 19-23 (12/4/8);
    Ldn = 10·log10((15·10^6 + 9·10^7)/24) = 66.41 dB either way."""
    ts = np.arange(local(2026, 5, 4), local(2026, 5, 6), 60.0)
    lv = d = np.full(ts.size, 60.0)
    dk = one(lden(ts, lv, d), date(2026, 5, 4))
    eu = one(lden(ts, lv, d, evening=(19, 23)), date(2026, 5, 4))
    assert dk.coverage_evening == eu.coverage_evening == 1.0
    np.testing.assert_allclose([dk.lden, eu.lden], [66.67, 66.40], atol=TOL)
    np.testing.assert_allclose(dk.ldn, 66.4098, atol=1e-4)


def test_lden_periods_without_data_are_none():
    """Only day-time readings on 2026-05-04: no evening, night, Lden or Ldn; LAeq,24h is the
    day level (over the measured seconds), its coverage 12/24."""
    ts = np.arange(local(2026, 5, 4, 7), local(2026, 5, 4, 19), 60.0)
    (row,) = lden(ts, np.full(ts.size, 58.0), np.full(ts.size, 60.0))
    assert row.date == date(2026, 5, 4)
    assert (row.levening, row.lnight, row.lden, row.ldn) == (None, None, None, None)
    np.testing.assert_allclose([row.lday, row.laeq24], [58.0, 58.0])
    assert (row.coverage_day, row.coverage_evening, row.coverage_night) == (1.0, 0.0, 0.0)
    np.testing.assert_allclose(row.coverage_24h, 0.5)


def test_lden_reports_every_requested_date():
    rows = lden(
        [local(2026, 5, 5, 12)], [50.0], [60.0], start=date(2026, 5, 4), end=date(2026, 5, 7)
    )
    assert [r.date for r in rows] == [date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)]
    assert rows[0].lday is None
    assert rows[2].lday is None
    np.testing.assert_allclose(rows[1].lday, 50.0)
    assert lden([], []) == []
    assert [r.lday for r in lden([], [], start=date(2026, 1, 1), end=date(2026, 1, 3))] == [
        None,
        None,
    ]


def test_lden_crossing_reading_is_split_by_overlap():
    """Night 22:00-06:55 at 50 dB in 60-s readings, one 15-min reading 06:55-07:10 at 70 dB,
    day 07:10-19:00 at 60 dB. Night: 32,100 s at 50 + 300 s at 70:
    10·log10((32100·10^5 + 300·10^7)/32400) = 52.8255 dB. Day: 600 s at 70 + 42,600 s at 60:
    10·log10((600·10^7 + 42600·10^6)/43200) = 60.5115 dB. Both periods fully covered."""
    night = np.arange(local(2026, 5, 4, 22), local(2026, 5, 5, 6, 55), 60.0)
    day = np.arange(local(2026, 5, 5, 7, 10), local(2026, 5, 5, 19), 60.0)
    ts = np.concatenate((night, [local(2026, 5, 5, 6, 55)], day))
    lv = np.concatenate((np.full(night.size, 50.0), [70.0], np.full(day.size, 60.0)))
    d = np.concatenate((np.full(night.size, 60.0), [900.0], np.full(day.size, 60.0)))
    rows = lden(ts, lv, d)
    np.testing.assert_allclose(one(rows, date(2026, 5, 4)).lnight, 52.8255, atol=1e-4)
    np.testing.assert_allclose(one(rows, date(2026, 5, 5)).lday, 60.5115, atol=1e-4)
    assert one(rows, date(2026, 5, 4)).coverage_night == 1.0
    assert one(rows, date(2026, 5, 5)).coverage_day == 1.0


@pytest.mark.parametrize(
    ("day", "evening"),
    [((7, 19), (20, 22)), ((7, 7), (7, 22)), ((0, 12), (12, 24)), ((-1, 12), (12, 20))],
)
def test_lden_rejects_bad_periods(day, evening):
    with pytest.raises(ValueError, match="periods"):
        lden([0.0], [50.0], day=day, evening=evening)


# -- daylight saving ------------------------------------------------------------------------------


def test_spring_night_lasts_8_hours():
    """The night from 22:00 Sat 2026-03-28 (CET) to 07:00 Sun (CEST) is 8 h = 28,800 s: full
    coverage from 28,800 1-s readings. 22:00-23:00 at 40 dB, the other 7 h at 50 dB:
    10·log10((1·10^4 + 7·10^5)/8) = 49.4817 dB. A fixed 9-h night would take in 07:00-08:00 of
    the 70-dB day and give 10·log10((10^4 + 7·10^5 + 10^7)/9) = 60.76 dB."""
    t0, t1 = local(2026, 3, 28, 22), local(2026, 3, 29, 7)
    assert t1 - t0 == 28_800
    ts, lv = series(t0, local(2026, 3, 29, 8), 1, lambda t: 40.0 if t.hour == 22 else 50.0)
    lv[ts >= t1] = 70.0
    row = one(lden(ts, lv), date(2026, 3, 28))
    assert row.coverage_night == 1.0
    np.testing.assert_allclose(row.lnight, 49.4817, atol=1e-4)


def test_autumn_night_lasts_10_hours():
    """The night from 22:00 Sat 2026-10-24 (CEST) to 07:00 Sun (CET) is 10 h = 36,000 s. The
    repeated hour 02:00-03:00 CET (the extra one) at 40 dB, the other 9 h at 50 dB:
    10·log10((10^4 + 9·10^5)/10) = 49.5904 dB; 9 h of data cover 0.9 of it."""
    t0, t1 = local(2026, 10, 24, 22), local(2026, 10, 25, 7)
    assert t1 - t0 == 36_000
    extra = datetime(2026, 10, 25, 2, tzinfo=CPH).replace(fold=1).timestamp()
    ts = np.arange(t0, t1, 1.0)
    lv = np.where((ts >= extra) & (ts < extra + 3600), 40.0, 50.0)
    row = one(lden(ts, lv), date(2026, 10, 24))
    assert row.coverage_night == 1.0
    np.testing.assert_allclose(row.lnight, 49.5904, atol=1e-4)
    part = one(lden(ts[ts < t1 - 3600], lv[ts < t1 - 3600]), date(2026, 10, 24))
    np.testing.assert_allclose(part.coverage_night, 0.9)


@pytest.mark.parametrize(
    ("after", "hours"),
    [
        (date(2026, 3, 30), 24),  # first midnight after the spring change (CEST)
        (date(2026, 10, 26), 24),  # first midnight after the autumn change (CET)
        (date(2026, 3, 29), 23),  # the change day itself, 00:00-01:00 CET
        (date(2026, 10, 25), 25),  # the change day itself, 00:00-01:00 CEST
    ],
)
def test_readings_00_to_01_local_land_on_their_date(after, hours):
    """1-s readings 00:00-01:00 local belong to the calendar day ``after`` (LAeq,24h, which
    lasts ``hours``: coverage 1/hours) and to the night of the date before. A fixed 24-h step
    from a winter midnight would put them an hour off, into the wrong calendar day."""
    t0 = datetime(after.year, after.month, after.day, tzinfo=CPH).timestamp()
    ts = np.arange(t0, t0 + 3600)
    rows = lden(ts, np.full(ts.size, 55.0))
    assert [r.date for r in rows] == [after - timedelta(days=1), after]
    assert rows[0].laeq24 is None
    assert rows[0].lnight == 55.0
    assert rows[1].laeq24 == 55.0
    assert rows[1].lnight is None
    np.testing.assert_allclose(rows[1].coverage_24h, 1 / hours)


def _reference(ts, durations, levels, start: date, end: date):
    """Slow and obviously right: every second of every reading goes, by its local wall time,
    to its period; sums of 10^(L/10) and counts per (date, period)."""
    energy: dict[tuple[date, str], float] = {}
    seconds: dict[tuple[date, str], int] = {}
    for t0, d, level in zip(ts.tolist(), durations.tolist(), levels.tolist(), strict=True):
        for s in range(int(t0), int(t0) + int(d)):
            lt = datetime.fromtimestamp(s, CPH)
            if 7 <= lt.hour < 19:
                keys = [(lt.date(), "day")]
            elif 19 <= lt.hour < 22:
                keys = [(lt.date(), "evening")]
            else:
                keys = [(lt.date() - timedelta(days=lt.hour < 7), "night")]
            for key in [*keys, (lt.date(), "24h")]:
                energy[key] = energy.get(key, 0.0) + 10 ** (level / 10)
                seconds[key] = seconds.get(key, 0) + 1
    out = {}
    day = start
    while day < end:
        out[day] = {
            p: (10 * math.log10(energy[day, p] / seconds[day, p]) if (day, p) in seconds else None)
            for p in ("day", "evening", "night", "24h")
        }
        out[day]["night_seconds"] = seconds.get((day, "night"), 0)
        day += timedelta(days=1)
    return out


@pytest.mark.parametrize("weekend", [date(2026, 3, 27), date(2026, 10, 23)])
def test_lden_matches_slow_reference_over_dst_weekends(weekend):
    """Random readings (1-300 s, random gaps, some crossing period edges) over the daylight-
    saving weekends agree with the per-second reference loop to 1e-6 dB; night coverage is
    the reference's seconds over 22:00 D to 07:00 D+1 as real instants."""
    rng = np.random.default_rng(weekend.toordinal())
    t = datetime(weekend.year, weekend.month, weekend.day, 18, tzinfo=CPH).timestamp()
    durations = rng.integers(1, 300, 1200).astype(np.float64)
    gaps = rng.integers(0, 300, 1200)
    ts = t + np.concatenate(([0], np.cumsum(durations + gaps)[:-1]))
    levels = rng.uniform(30, 90, ts.size).round(1)
    start, end = weekend, weekend + timedelta(days=3)
    expected = _reference(ts, durations, levels, start, end)
    rows = lden(ts, levels, durations, start=start, end=end)
    for row in rows:
        want = expected[row.date]
        for got, p in (
            (row.lday, "day"),
            (row.levening, "evening"),
            (row.lnight, "night"),
            (row.laeq24, "24h"),
        ):
            assert (got is None) == (want[p] is None), (row.date, p)
            if got is not None:
                np.testing.assert_allclose(got, want[p], atol=1e-6, err_msg=f"{row.date} {p}")
        nxt = row.date + timedelta(days=1)
        night = local(nxt.year, nxt.month, nxt.day, 7) - local(
            row.date.year, row.date.month, row.date.day, 22
        )
        np.testing.assert_allclose(row.coverage_night, want["night_seconds"] / night)


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 86400), st.integers(1, 7200), st.floats(20.0, 100.0)),
        min_size=1,
        max_size=40,
    )
)
def test_adding_10_db_adds_10_db_to_every_period(readings):
    ts = np.array([local(2026, 3, 27) + r[0] for r in readings])
    d = np.array([r[1] for r in readings], dtype=np.float64)
    lv = np.array([r[2] for r in readings])
    base, louder = lden(ts, lv, d), lden(ts, lv + 10.0, d)
    assert [r.date for r in base] == [r.date for r in louder]
    for a, b in zip(base, louder, strict=True):
        for name in ("lday", "levening", "lnight", "lden", "ldn", "laeq24"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(y, x + 10.0, atol=1e-9)
        assert a.coverage_night == b.coverage_night
