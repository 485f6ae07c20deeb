"""SqliteStore against real SQLite files: idempotence, roll-ups, level queries, concurrency."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
import tempfile
from collections import defaultdict
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.concurrent_writer import write_interleaved

from noiselab.errors import QueryError, StoreError, StoreUnavailable
from noiselab.model import Reading, Spectrum, ts_key
from noiselab.store import sqlite_schema
from noiselab.store.base import WriteResult
from noiselab.store.sqlite import MAX_POINTS, SqliteStore
from noiselab.store.sqlite_rollup import HIST_DTYPE, decode_hist

H = 1_779_998_400  # 2026-05-28T20:00:00Z: a whole hour, so also a whole minute
RECEIVED = 1_780_000_000.0


@pytest.fixture
def store(tmp_path):
    with SqliteStore(tmp_path / "ts.db") as opened:
        yield opened


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def reading(ts: float, laeq: float, duration: float = 1.0, sensor: str = "s-1", **kw) -> Reading:
    return Reading(sensor_id=sensor, ts=ts, laeq=laeq, duration=duration, **kw)


def naive_rollup(readings: list[Reading]) -> dict[int, tuple[float, float, float | None, dict]]:
    """Minute -> (energy, seconds, lafmax, {bin: ms}) by plain loops over each reading; only
    readings of at most 1 s enter the histogram."""
    minutes: dict[int, list] = defaultdict(lambda: [0.0, 0, None, defaultdict(int)])
    for r in readings:
        start = ts_key(r.ts)
        end = start + max(1, round(r.duration * 1000))
        for minute in range(start // 60_000, (end - 1) // 60_000 + 1):
            overlap = min(end, (minute + 1) * 60_000) - max(start, minute * 60_000)
            cell = minutes[minute]
            cell[0] += overlap / 1000 * 10 ** (r.laeq / 10)
            cell[1] += overlap
            if r.lafmax is not None:
                cell[2] = r.lafmax if cell[2] is None else max(cell[2], r.lafmax)
            if end - start <= 1000:
                cell[3][round(r.laeq * 10)] += overlap
    return {m: (c[0], c[1] / 1000, c[2], dict(c[3])) for m, c in minutes.items()}


def assert_rollup_matches(store: SqliteStore, sensor: str, stored: list[Reading]) -> None:
    """The roll-up equals its recomputation exactly, and a plain-loop computation closely."""
    rows = store.rollup_rows(sensor)
    assert rows == store.recompute_rollup_from_raw(sensor)
    expected = naive_rollup(stored)
    assert [row[1] for row in rows] == sorted(expected)
    for _, minute, energy, seconds, lafmax, _, hist in rows:
        e_energy, e_seconds, e_lafmax, e_hist = expected[minute]
        assert math.isclose(energy, e_energy, rel_tol=1e-12)
        assert seconds == e_seconds
        assert lafmax == e_lafmax
        bins, ms = decode_hist(hist)
        assert dict(zip(bins.tolist(), ms.tolist(), strict=True)) == e_hist


# -- idempotence and last write wins ------------------------------------------------------------


def test_write_inserts_and_counts(store):
    result = store.write([reading(H + i, 60.0 + i) for i in range(5)], RECEIVED)
    assert result == WriteResult(inserted=5, replaced=0, unchanged=0)
    assert store.count_readings() == 5
    assert store.count_readings("s-1") == 5
    assert store.count_readings("other") == 0


def test_write_of_nothing_is_a_no_op(store):
    assert store.write([], RECEIVED) == WriteResult(0, 0, 0)


def test_identical_redelivery_changes_nothing(store):
    batch = [reading(H + i * 0.5, 55.0 + i, duration=0.5, lafmax=70.0, seq=i) for i in range(200)]
    store.write(batch, RECEIVED)
    rollup = store.rollup_rows("s-1")
    assert store.write(batch, RECEIVED + 60) == WriteResult(0, 0, 200)
    assert store.write(batch[50:60], RECEIVED + 120) == WriteResult(0, 0, 10)
    assert store.rollup_rows("s-1") == rollup
    assert store.count_readings() == 200
    assert store.activity()[0].last_received == RECEIVED


def test_differing_reading_replaces_stored_one(store):
    store.write([reading(H, 60.0), reading(H + 1, 61.0)], RECEIVED)
    result = store.write([reading(H, 80.0, lafmax=90.0), reading(H + 1, 61.0)], RECEIVED + 1)
    assert result == WriteResult(inserted=0, replaced=1, unchanged=1)
    [first, second] = store.readings("s-1", H, H + 10)
    assert (first.laeq, first.lafmax, second.laeq) == (80.0, 90.0, 61.0)
    assert_rollup_matches(store, "s-1", [first, second])


def test_any_field_difference_is_a_replacement(store):
    base = reading(H, 60.0, lafmax=70.0, lafmin=50.0, seq=3)
    store.write([base], RECEIVED)
    for changed in (
        reading(H, 60.0, lafmax=70.0, lafmin=50.0, seq=4),
        reading(H, 60.0, lafmax=70.0, lafmin=49.0, seq=4),
        reading(H, 60.0, lafmax=70.0, lafmin=49.0, seq=4, spectrum=Spectrum((1000.0,), (55.0,))),
    ):
        assert store.write([changed], RECEIVED) == WriteResult(0, 1, 0)
        assert store.write([changed], RECEIVED) == WriteResult(0, 0, 1)


def test_replacement_with_longer_then_shorter_duration(store):
    """A 1-s reading at H+30 is replaced by a 150-s one (minutes 0, 1 and 2 after H: 30 + 60 +
    60 s), then by a 1-s one again: minute 1, which only the long reading covered, disappears,
    and minute 2 keeps only its own 1-s reading at H+150 (60 + 1 s, then 1 s)."""
    store.write([reading(H + 30, 60.0), reading(H + 150, 50.0)], RECEIVED)
    assert store.write([reading(H + 30, 60.0, duration=150.0)], RECEIVED) == WriteResult(0, 1, 0)
    rows = store.rollup_rows("s-1")
    assert [(r[1] - H // 60, r[3]) for r in rows] == [(0, 30.0), (1, 60.0), (2, 61.0)]
    assert_rollup_matches(store, "s-1", store.readings("s-1", H, H + 600))
    assert store.write([reading(H + 30, 60.0)], RECEIVED) == WriteResult(0, 1, 0)
    assert [(r[1] - H // 60, r[3]) for r in store.rollup_rows("s-1")] == [(0, 1.0), (2, 1.0)]
    assert_rollup_matches(store, "s-1", store.readings("s-1", H, H + 600))


def test_later_duplicate_within_one_write_wins(store):
    result = store.write([reading(H, 60.0), reading(H + 1, 50.0), reading(H, 70.0)], RECEIVED)
    assert result == WriteResult(inserted=2, replaced=0, unchanged=0)
    assert [r.laeq for r in store.readings("s-1", H, H + 2)] == [70.0, 50.0]


def test_late_and_out_of_order_data(store):
    """Minute 2 first (30 readings, every 2 s), then minute 0 late (20 readings, every 3 s),
    then readings filling the odd seconds of minute 2 (10), then a 10-s reading at H+55 that
    straddles minutes 0 and 1 together with a replacement of H+3. Measured seconds: minute 0
    20 + 5 = 25, minute 1 5, minute 2 30 + 10 = 40."""
    writes = [
        [reading(H + 120 + 2 * i, 50.0 + i % 5) for i in range(30)],
        [reading(H + i, 70.0) for i in range(0, 60, 3)],
        [reading(H + 121 + 2 * i, 65.0) for i in range(10)],
        [reading(H + 55, 75.0, duration=10.0), reading(H + 3, 40.0)],
    ]
    for batch in writes:
        store.write(batch[::-1], RECEIVED)
    stored = store.readings("s-1", H - 60, H + 600)
    assert len(stored) == 30 + 20 + 10 + 1
    assert_rollup_matches(store, "s-1", stored)
    seconds = {r[1] - H // 60: r[3] for r in store.rollup_rows("s-1")}
    assert seconds == {0: 25.0, 1: 5.0, 2: 40.0}


def test_reading_crossing_minute_boundaries(store):
    """70 dB from H+50 s for 80 s: 10 s in minute 0, 60 s in minute 1, 10 s in minute 2.
    Energy = overlap·10^(70/10) = 10·10^7 = 1e8, 60·10^7 = 6e8 and 1e8; its LAFmax 82 dB goes
    to all three minutes (an upper bound). Longer than 1 s, it stays out of the histograms."""
    store.write([reading(H + 50, 70.0, duration=80.0, lafmax=82.0, lafmin=61.0)], RECEIVED)
    rows = store.rollup_rows("s-1")
    minute = H // 60
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [
        (minute, 10.0, 82.0, 61.0),
        (minute + 1, 60.0, 82.0, 61.0),
        (minute + 2, 10.0, 82.0, 61.0),
    ]
    np.testing.assert_allclose([r[2] for r in rows], [1e8, 6e8, 1e8], rtol=1e-12)
    assert [decode_hist(r[6])[0].tolist() for r in rows] == [[]] * 3


def test_sensors_are_kept_apart(store):
    store.write([reading(H, 60.0, sensor="a"), reading(H, 70.0, sensor="b")], RECEIVED)
    assert [r[3] for r in store.rollup_rows("a")] == [1.0]
    assert store.levels("a", utc(H), utc(H + 60), "1m")[0].laeq == pytest.approx(60.0)
    assert store.levels("b", utc(H), utc(H + 60), "1m")[0].laeq == pytest.approx(70.0)


# -- roll-up == recomputation after random writes -----------------------------------------------

_readings = st.builds(
    reading,
    ts=st.builds(
        lambda k, far: H + 20 + k * 0.5 + far,  # half-second grid, in up to three stretches
        st.integers(0, 400),
        st.sampled_from([0, 0, 600, 1500]),
    ),
    laeq=st.sampled_from([40.0, 55.55, 70.25, 83.3]),
    duration=st.sampled_from([0.25, 0.5, 1.0, 7.25, 60.0, 90.0, 150.0]),
    sensor=st.sampled_from(["s-a", "s-b"]),
    lafmax=st.none() | st.sampled_from([75.0, 90.5]),
    lafmin=st.none() | st.just(35.0),
)


@settings(max_examples=60, deadline=None)
@given(writes=st.lists(st.lists(_readings, min_size=1, max_size=25), min_size=1, max_size=8))
def test_rollup_equals_recomputation_after_random_writes(writes):
    model: dict[tuple[str, int], Reading] = {}
    with tempfile.TemporaryDirectory() as tmp, SqliteStore(Path(tmp) / "ts.db") as store:
        for batch in writes:
            expected = expected_result(model, batch)
            assert store.write(batch, RECEIVED) == expected
        for sensor in ("s-a", "s-b"):
            stored = [r for (s, _), r in sorted(model.items()) if s == sensor]
            assert store.readings(sensor, H - 3600, H + 3600) == stored
            assert_rollup_matches(store, sensor, stored)


def expected_result(model: dict[tuple[str, int], Reading], batch: list[Reading]) -> WriteResult:
    """Apply ``batch`` to the model (later duplicates win) and count what a write reports."""
    last = {(r.sensor_id, ts_key(r.ts)): r for r in batch}
    counts = {"inserted": 0, "replaced": 0, "unchanged": 0}
    for key, new in last.items():
        old = model.get(key)
        kind = "inserted" if old is None else "unchanged" if old == new else "replaced"
        counts[kind] += 1
        model[key] = new
    return WriteResult(**counts)


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


# -- other queries ------------------------------------------------------------------------------


def test_readings_round_trip_all_fields(store):
    spectrum = Spectrum((100.0, 1000.0), (61.5, 58.25))
    original = reading(H + 0.123, 61.2, 0.5, lafmax=70.1, lafmin=40.2, spectrum=spectrum, seq=9)
    store.write([original], RECEIVED)
    [back] = store.readings("s-1", H, H + 1)
    assert back == original


def test_activity_reports_latest_end_and_its_receive_time(store):
    store.write([reading(H, 60.0), reading(H + 10, 60.0, duration=5.0)], RECEIVED)
    store.write([reading(H + 5, 60.0)], RECEIVED + 100)  # late data: not the latest
    store.write([reading(H, 61.0, sensor="b")], RECEIVED + 200)
    activity = {a.sensor_id: a for a in store.activity()}
    assert (activity["s-1"].last_ts, activity["s-1"].last_received) == (H + 15, RECEIVED)
    assert (activity["b"].last_ts, activity["b"].last_received) == (H + 1, RECEIVED + 200)


# -- errors -------------------------------------------------------------------------------------


def test_locked_database_is_retryable(tmp_path):
    path = tmp_path / "ts.db"
    store = SqliteStore(path, busy_timeout_s=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreUnavailable) as caught:
        store.write([reading(H, 60.0)], RECEIVED)
    assert caught.value.retryable
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    other.execute("ROLLBACK")
    other.close()
    assert store.write([reading(H, 60.0)], RECEIVED).inserted == 1
    store.close()


def test_other_failures_are_not_retryable(tmp_path):
    store = SqliteStore(tmp_path / "ts.db")
    with pytest.raises(StoreError) as bad_value:
        store.write([reading(H, math.nan)], RECEIVED)
    assert not bad_value.value.retryable
    store.close()
    with pytest.raises(StoreError) as closed:
        store.write([reading(H, 60.0)], RECEIVED)
    assert not closed.value.retryable
    assert isinstance(closed.value.__cause__, sqlite3.Error)


def test_unopenable_path_is_a_store_error(tmp_path):
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "missing-dir" / "ts.db")


# -- schema, durability, concurrency ------------------------------------------------------------


def test_new_file_is_migrated_to_the_current_version(tmp_path):
    SqliteStore(tmp_path / "ts.db").close()
    with sqlite3.connect(tmp_path / "ts.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_data_and_applies_new_steps(tmp_path, monkeypatch):
    path = tmp_path / "ts.db"
    with SqliteStore(path) as store:
        store.write([reading(H, 60.0)], RECEIVED)
    extra = ("CREATE TABLE later_table (x INTEGER)",)
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", (*sqlite_schema.MIGRATIONS, extra))
    monkeypatch.setattr(sqlite_schema, "SCHEMA_VERSION", sqlite_schema.SCHEMA_VERSION + 1)
    with SqliteStore(path) as store:
        assert store.count_readings() == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM later_table").fetchone()[0] == 0


def test_file_from_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "ts.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {sqlite_schema.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)


def test_write_is_visible_to_a_fresh_instance(tmp_path):
    path = tmp_path / "ts.db"
    writer = SqliteStore(path)
    writer.write([reading(H + i, 60.0) for i in range(10)], RECEIVED)
    reader = SqliteStore(path)  # the writer is still open: the data is committed, not cached
    assert reader.count_readings() == 10
    assert reader.rollup_rows("s-1") == writer.rollup_rows("s-1")
    writer.close()
    reader.close()
    with SqliteStore(path) as again:
        assert again.count_readings() == 10


@pytest.mark.process
def test_two_processes_write_one_file(tmp_path):
    path = str(tmp_path / "ts.db")
    SqliteStore(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=write_interleaved, args=(path, w, 30, H, RECEIVED)) for w in (0, 1)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]
    with SqliteStore(path) as store:
        assert store.count_readings() == 30 * 100
        for sensor in (f"s-{i}" for i in range(10)):
            assert_rollup_matches(store, sensor, store.readings(sensor, H - 60, H + 3600))


def test_schema_2_drops_long_readings_from_old_histograms(tmp_path):
    """A file written before schema 2 has the 80-s reading's 70 dB in its minute histograms;
    opening it recomputes those minutes (and only those), so its percentiles disappear."""
    path = tmp_path / "old.db"
    with SqliteStore(path) as store:
        store.write(
            [reading(H + 50, 70.0, duration=80.0), reading(H + 600, 55.0), reading(H + 131, 60.0)],
            RECEIVED,
        )
        current = store.rollup_rows("s-1")
    old = np.zeros(1, dtype=HIST_DTYPE)
    old["bin"], old["ms"] = 700, 10_000
    conn = sqlite3.connect(path, isolation_level=None)
    with closing(conn):
        conn.execute("UPDATE rollup_1m SET hist = ? WHERE minute = ?", (old.tobytes(), H // 60))
        conn.execute("PRAGMA user_version = 1")
    with SqliteStore(path) as store:
        assert store.rollup_rows("s-1") == current
        assert store.rollup_rows("s-1") == store.recompute_rollup_from_raw("s-1")
        [first] = store.levels("s-1", utc(H), utc(H + 60), "1m")
        assert (first.l10, round(first.laeq, 6)) == (None, 70.0)
