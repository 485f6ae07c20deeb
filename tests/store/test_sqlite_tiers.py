"""The SQLite store's hourly and daily roll-up tiers: always equal to a recomputation from the
minutes, and levels read from them equal levels read from the minutes alone."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.sqlite_store import reading

from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.store.level_buckets import minute_buckets
from noiselab.store.sqlite import SqliteStore

CPH = ZoneInfo("Europe/Copenhagen")
SPRING = datetime(2026, 3, 28, 20, tzinfo=UTC).timestamp()  # a day before spring forward


def _assert_tiers_exact(store: SqliteStore, sensor: str = "s-1") -> None:
    hours, days = store.recompute_tiers_from_minutes(sensor)
    assert store.tier_rows("1h", sensor) == hours
    assert store.tier_rows("1d", sensor) == days


def _levels_from_minutes(store, sensor, start, end, every, zone):
    """The reference: the same buckets summed from the stored minutes only."""
    edges = bucket_edges(start, end, Every(every), zone)
    rows = [row for row in store.rollup_rows(sensor) if edges[0] // 60 <= row[1] < edges[-1] // 60]
    _, minute, energies, seconds, lafmax, _, hists = zip(*rows, strict=True)
    return minute_buckets(
        edges,
        minute=np.array(minute, np.int64),
        energies=np.array(energies),
        seconds=np.array(seconds),
        lafmax=np.array([np.nan if v is None else v for v in lafmax]),
        hists=hists,
    ).points(edges)


@pytest.fixture
def two_days(tmp_path):
    """Two days of 1-s readings over the spring change, in hourly batches, some late."""
    rng = np.random.default_rng(7)
    levels = np.round(45 + 25 * rng.random(2 * 86_400), 1)
    with SqliteStore(tmp_path / "t.db", synchronous="NORMAL") as store:
        order = rng.permutation(48)
        for hour in order.tolist():
            first = hour * 3600
            store.write(
                [
                    reading(
                        SPRING + first + i,
                        float(levels[first + i]),
                        lafmax=float(levels[first + i]) + 3,
                    )
                    for i in range(3600)
                ],
                SPRING + 3 * 86_400,
            )
        yield store


def test_tiers_equal_their_recomputation_after_out_of_order_writes(two_days):
    _assert_tiers_exact(two_days)
    assert len(two_days.tier_rows("1h", "s-1")) == 48
    # 28 March 21:00 CET to 30 March 21:00 CEST: parts of 28 and 30 March and all of the
    # 23-hour 29 March.
    assert len(two_days.tier_rows("1d", "s-1")) == 3


@pytest.mark.parametrize(
    ("every", "zone", "start_h", "end_h"),
    [
        ("1h", CPH, 0, 48),
        ("1d", CPH, 0, 48),
        ("1d", ZoneInfo("UTC"), 0, 48),
        ("1d", ZoneInfo("Asia/Kolkata"), 0, 48),
        ("15m", CPH, 3.25, 30.5),
        ("5m", CPH, 10, 12),
        ("1h", CPH, 0.5, 47.5),
    ],
)
def test_levels_from_tiers_equal_levels_from_minutes(two_days, every, zone, start_h, end_h):
    start = datetime.fromtimestamp(SPRING + start_h * 3600, UTC)
    end = datetime.fromtimestamp(SPRING + end_h * 3600, UTC)
    got = two_days.levels("s-1", start, end, every, zone)
    want = _levels_from_minutes(two_days, "s-1", start, end, every, zone)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.t == b.t
        assert a.laeq == pytest.approx(b.laeq, abs=1e-9)
        assert (a.lafmax, a.l10, a.l50, a.l90) == (b.lafmax, b.l10, b.l50, b.l90)
        assert a.coverage == pytest.approx(b.coverage, abs=1e-12)


def test_a_longer_reading_conflicts_and_leaves_every_tier_alone(two_days):
    # A 2-hour reading offered for a stored 1-s second would change three hours and their day:
    # it is refused, and no tier moves.
    ts = SPRING + 5 * 3600 + 10
    hours, days = two_days.tier_rows("1h", "s-1"), two_days.tier_rows("1d", "s-1")
    result = two_days.write([reading(ts, 90.0, duration=7200.0)], SPRING + 4 * 86_400)
    assert (result.inserted, len(result.conflicts)) == (0, 1)
    assert two_days.tier_rows("1h", "s-1") == hours
    assert two_days.tier_rows("1d", "s-1") == days
    _assert_tiers_exact(two_days)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(
                st.integers(0, 30 * 3600),  # seconds after SPRING: across the 23-hour day
                st.floats(30.0, 100.0).map(lambda x: round(x, 1)),
                st.sampled_from([1.0, 0.5, 60.0, 4000.0]),
            ),
            min_size=1,
            max_size=20,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_tiers_stay_exact_under_any_writes(tmp_path_factory, batches):
    path = tmp_path_factory.mktemp("tiers") / "t.db"
    with SqliteStore(path, synchronous="NORMAL") as store:
        for batch in batches:
            store.write([reading(SPRING + t, level, duration=d) for t, level, d in batch], SPRING)
        _assert_tiers_exact(store)
        assert store.rollup_rows("s-1") == store.recompute_rollup_from_raw("s-1")


def test_opening_a_version_2_file_fills_the_tiers(tmp_path):
    path = tmp_path / "old.db"
    with SqliteStore(path) as store:
        store.write([reading(SPRING + i * 97, 50.0 + i % 20) for i in range(2000)], SPRING)
        hours = store.tier_rows("1h", "s-1")
        days = store.tier_rows("1d", "s-1")
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("DROP TABLE weather")  # from version 4
        for table in ("rollup_1h", "hist_1h", "rollup_1d", "hist_1d", "store_settings", "chunks"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA user_version = 2")
    with SqliteStore(path) as store:
        assert store.tier_rows("1h", "s-1") == hours
        assert store.tier_rows("1d", "s-1") == days
        assert len(hours) == 54


def test_a_year_at_one_hour_reads_hours_not_minutes(tmp_path):
    """8,760 single-hour buckets each take the stored levels of their hour: no histogram is
    read (checked by removing the minutes, which the answer must not need)."""
    start = datetime(2026, 1, 1, tzinfo=CPH)
    with SqliteStore(tmp_path / "y.db", synchronous="NORMAL") as store:
        store.write(
            [
                reading(start.timestamp() + h * 3600 + i, 50.0 + i)
                for h in range(0, 8760, 100)
                for i in range(3)
            ],
            start.timestamp(),
        )
        store._conn.execute("DELETE FROM rollup_1m")
        points = store.levels("s-1", start, start + timedelta(days=365), "1h", CPH)
    assert len(points) == 88
    assert {(p.l10, p.l50, p.l90) for p in points} == {(52.0, 51.0, 50.0)}
