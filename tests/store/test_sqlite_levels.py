"""SqliteStore level queries against real SQLite files: 1-s buckets from raw readings, minute
roll-ups merged into coarser buckets, L10/L50/L90 only from readings of at most 1 s, local days
of 23 and 25 hours, and the limits on a query. Expected values are worked out by hand in each
test's docstring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.sqlite_store import RECEIVED, H, reading, utc

from noiselab.errors import QueryError
from noiselab.model import Reading
from noiselab.store.sqlite import MAX_POINTS, SqliteStore

# -- level queries ------------------------------------------------------------------------------


@pytest.fixture
def levels_store(store):
    """60 dB at H for 1 s (LAFmax 65), 70 dB at H+1 for 1 s and at H+2 for 0.5 s (75), 80 dB at
    H+2.5 for 0.5 s (85), 50 dB at H+110 for twenty 1-s readings (58): minute 0 holds 3 s,
    minutes 1 and 2 hold 10 s each. All readings are at most 1 s, so all have percentiles."""
    store.write(
        [
            reading(H, 60.0, lafmax=65.0),
            reading(H + 1, 70.0, lafmax=75.0),
            reading(H + 2, 70.0, duration=0.5, lafmax=75.0),
            reading(H + 2.5, 80.0, duration=0.5, lafmax=85.0),
            *(reading(H + 110 + k, 50.0, lafmax=58.0) for k in range(20)),
        ],
        RECEIVED,
    )
    return store


def point_tuple(p):
    return (p.t, round(p.laeq, 6), p.lafmax, p.l10, p.l50, p.l90, round(p.coverage, 6))


def test_levels_1s_from_raw_readings(levels_store):
    """Second H+2 holds 70 dB for 0.5 s and 80 dB for 0.5 s:
    10·log10(0.5·10^7 + 0.5·10^8) = 10·log10(5.5·10^7) = 77.403627 dB, coverage 1;
    cumulative fractions 0.5 (70 dB), 1.0 (80 dB): L10 = 80, L50 = L90 = 70. Second H+3 has no
    data and is omitted."""
    points = levels_store.levels("s-1", utc(H), utc(H + 4), "1s")
    assert [point_tuple(p) for p in points] == [
        (utc(H), 60.0, 65.0, 60.0, 60.0, 60.0, 1.0),
        (utc(H + 1), 70.0, 75.0, 70.0, 70.0, 70.0, 1.0),
        (utc(H + 2), 77.403627, 85.0, 80.0, 70.0, 70.0, 1.0),
    ]


def test_levels_1m_from_rollups(levels_store):
    """Minute 0: energy 1·10^6 + 1.5·10^7 + 0.5·10^8 = 6.6·10^7 over 3 s:
    10·log10(2.2·10^7) = 73.424227 dB, coverage 3/60 = 0.05; fractions 1/3 (60 dB),
    2.5/3 ≈ 0.833 (70 dB), 1 (80 dB): L10 = 80, L50 = 70, L90 = 60.
    Minute 1: 50 dB for 10 s: 50 dB, coverage 10/60."""
    points = levels_store.levels("s-1", utc(H), utc(H + 120), "1m")
    assert [point_tuple(p) for p in points] == [
        (utc(H), 73.424227, 85.0, 80.0, 70.0, 60.0, 0.05),
        (utc(H + 60), 50.0, 58.0, 50.0, 50.0, 50.0, round(10 / 60, 6)),
    ]


def test_levels_1h_merges_minute_histograms(levels_store):
    """Hour H: energy 6.6·10^7 + 20·10^5 = 6.8·10^7 over 23 s: 10·log10(6.8·10^7 / 23)
    = 64.707811 dB, coverage 23/3600; fractions 20/23 ≈ 0.870 (50 dB), 21/23 ≈ 0.913 (60),
    22.5/23 ≈ 0.978 (70), 1 (80): L10 = 60 (first to reach 0.9), L50 = L90 = 50."""
    points = levels_store.levels("s-1", utc(H + 10), utc(H + 20), "1h")
    assert [point_tuple(p) for p in points] == [
        (utc(H), 64.707811, 85.0, 60.0, 50.0, 50.0, round(23 / 3600, 6)),
    ]


def test_levels_5m_and_15m_agree_with_1h_here(levels_store):
    expected = point_tuple(levels_store.levels("s-1", utc(H), utc(H + 1), "1h")[0])
    for every in ("5m", "15m"):
        [point] = levels_store.levels("s-1", utc(H), utc(H + 1), every)
        assert point_tuple(point)[1:6] == expected[1:6]


def test_levels_without_data_is_empty(store):
    assert store.levels("nobody", utc(H), utc(H + 3600), "1m") == []
    assert store.levels("nobody", utc(H), utc(H + 60), "1s") == []


def test_levels_1s_spreads_a_long_reading(store):
    store.write([reading(H + 0.5, 66.0, duration=2.0)], RECEIVED)
    points = store.levels("s-1", utc(H), utc(H + 3), "1s")
    assert [(p.t, p.laeq, p.coverage) for p in points] == [
        (utc(H), 66.0, 0.5),
        (utc(H + 1), 66.0, 1.0),
        (utc(H + 2), 66.0, 0.5),
    ]


def test_percentiles_only_from_readings_of_at_most_one_second(store):
    """Minute 0: sixty 1-s readings, 70 dB for 7 s and 40 dB for 53 s: L10 = 70 (7/60 > 10 %
    above 40 dB), L50 = L90 = 40; LAeq 10·log10((7·10^7 + 53·10^4) / 60) = 60.702 dB.
    Minute 1: one 60-s reading of that LAeq: no percentiles, whatever its level.
    Minute 2: thirty 1-s readings and one 30-s reading: no percentiles either. Over the hour
    the 1-s and 60-s readings mix, so the hour has none."""
    minute_0 = [reading(H + k, 70.0 if k < 7 else 40.0) for k in range(60)]
    minute_1 = [reading(H + 60, 60.702, duration=60.0)]
    minute_2 = [reading(H + 120 + k, 50.0) for k in range(30)]
    store.write([*minute_0, *minute_1, *minute_2, reading(H + 150, 50.0, 30.0)], RECEIVED)
    points = store.levels("s-1", utc(H), utc(H + 180), "1m")
    assert [(p.l10, p.l50, p.l90) for p in points] == [
        (70.0, 40.0, 40.0),
        (None, None, None),
        (None, None, None),
    ]
    assert [round(p.laeq, 3) for p in points] == [60.702, 60.702, 50.0]
    [hour] = store.levels("s-1", utc(H), utc(H + 3600), "1h")
    assert (hour.l10, hour.l50, hour.l90) == (None, None, None)
    seconds = store.levels("s-1", utc(H + 59), utc(H + 61), "1s")
    assert [(p.l10, round(p.laeq, 3)) for p in seconds] == [(40.0, 40.0), (None, 60.702)]


def hourly(start: datetime, hours: int, levels: list[float]) -> list[Reading]:
    return [
        reading((start + timedelta(hours=h)).timestamp(), levels[h % len(levels)], 3600.0)
        for h in range(hours)
    ]


def test_levels_1d_on_the_23_hour_day(store):
    """Sunday 2026-03-29 in Copenhagen runs 2026-03-28T23:00Z to 2026-03-29T22:00Z (23 h).
    Ten hourly readings alternating 50/60 dB from 23:00Z: energetic mean
    10·log10((5·10^5 + 5·10^6) / 10) = 57.403627 dB; coverage 10 h / 23 h = 0.434783.
    The hours before and after belong to the neighbouring days. Hour-long readings give no
    percentiles."""
    midnight = datetime(2026, 3, 28, 23, tzinfo=UTC)
    store.write(
        [
            *hourly(midnight - timedelta(hours=1), 1, [90.0]),
            *hourly(midnight, 10, [50.0, 60.0]),
            *hourly(datetime(2026, 3, 29, 22, tzinfo=UTC), 1, [90.0]),
        ],
        RECEIVED,
    )
    day = datetime(2026, 3, 29, 12, tzinfo=UTC)
    [point] = store.levels("s-1", day, day + timedelta(hours=1), "1d")
    assert point_tuple(point) == (midnight, 57.403627, None, None, None, None, 0.434783)


def test_levels_1d_on_the_25_hour_day(store):
    """Sunday 2026-10-25 runs 2026-10-24T22:00Z to 2026-10-25T23:00Z (25 h). 24 hourly 60 dB
    readings (01:00Z, the repeated local hour, left out): 60 dB, coverage 24/25 = 0.96. The
    next day starts at 23:00Z; 2026-10-26 has 24 h: one reading there covers 1/24."""
    midnight = datetime(2026, 10, 24, 22, tzinfo=UTC)
    readings = [r for r in hourly(midnight, 25, [60.0]) if utc(r.ts).hour != 1]
    next_midnight = datetime(2026, 10, 25, 23, tzinfo=UTC)
    store.write([*readings, *hourly(next_midnight, 1, [70.0])], RECEIVED)
    points = store.levels("s-1", midnight, next_midnight + timedelta(hours=1), "1d")
    assert [point_tuple(p) for p in points] == [
        (midnight, 60.0, None, None, None, None, 0.96),
        (next_midnight, 70.0, None, None, None, None, round(1 / 24, 6)),
    ]


@pytest.mark.parametrize(
    ("every", "span"),
    [
        ("1s", timedelta(seconds=MAX_POINTS + 1)),
        ("1m", timedelta(days=70)),
        ("1d", timedelta(days=100_000)),
    ],
)
def test_too_many_points_is_a_query_error_before_any_io(tmp_path, every, span):
    store = SqliteStore(tmp_path / "ts.db")
    store.close()  # touching the data now would raise StoreError instead
    with pytest.raises(QueryError, match="more than 100000"):
        store.levels("s-1", utc(H), utc(H) + span, every)


def test_exactly_max_points_is_allowed(store):
    assert store.levels("s-1", utc(H), utc(H + MAX_POINTS), "1s") == []


def test_bad_ranges_are_query_errors(store):
    with pytest.raises(QueryError):
        store.levels("s-1", utc(H + 10), utc(H), "1m")
    with pytest.raises(QueryError):
        store.levels("s-1", datetime(2026, 1, 1), datetime(2026, 1, 2), "1m")
    with pytest.raises(QueryError, match="every must be one of"):
        store.levels("s-1", utc(H), utc(H + 60), "2m")
