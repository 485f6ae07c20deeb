"""Compact storage of old hours in the SQLite store: every answer is unchanged by compaction,
late and re-delivered readings into compacted hours are stored once and exactly, retention
keeps the roll-ups, and a kill -9 in the middle of compaction loses and duplicates nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta

import msgspec
import numpy as np
import pytest
from support.sqlite_store import reading

from noiselab.errors import ReadingRejected
from noiselab.model import Spectrum
from noiselab.store.sqlite import SqliteStore

START = datetime(2026, 10, 24, 12, tzinfo=UTC)  # across the autumn change (25-hour day)
T = START.timestamp()
HOURS = 40
NOW = T + HOURS * 3600 + 48 * 3600 + 3600  # every written hour is past the hot window


def _chunks(store: SqliteStore) -> int:
    return int(store._conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def _hot(store: SqliteStore) -> int:
    return int(store._conn.execute("SELECT count(*) FROM readings").fetchone()[0])


def _write_hours(store: SqliteStore, sensor: str = "s-1", seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    levels = np.round(40 + 35 * rng.random(HOURS * 3600), 1)
    for hour in range(HOURS):
        batch = []
        for i in range(hour * 3600, (hour + 1) * 3600, 1):
            extra = {}
            if i % 600 == 0:
                extra["spectrum"] = Spectrum(
                    (125.0, 1000.0), (float(levels[i]) - 5, float(levels[i]))
                )
            if i % 3 == 0:
                extra["lafmax"] = round(float(levels[i]) + 4.2, 1)  # as a sensor sends them
                extra["lafmin"] = round(float(levels[i]) - 2.5, 1)
            batch.append(reading(T + i, float(levels[i]), sensor=sensor, seq=i, **extra))
        store.write(batch, T + hour * 3600 + 3601.25)


def _answers(store: SqliteStore, sensor: str = "s-1") -> dict[str, object]:
    """Every kind of answer the store gives, over the whole range and an odd sub-range."""
    start, end = START, START + timedelta(hours=HOURS)
    odd = (START + timedelta(minutes=97, seconds=13), START + timedelta(hours=7, minutes=3))
    out: dict[str, object] = {}
    for every in ("1m", "5m", "15m", "1h", "1d"):
        out[every] = store.levels(sensor, start, end, every)
    out["1s"] = store.levels(sensor, *odd, "1s")
    series = store.series(sensor, *odd)
    out["series"] = [
        [None if np.isnan(x) else x for x in a.tolist()]
        for a in (series.ts, series.laeq, series.duration, series.lafmax)
    ]
    minutes = store.minute_series(sensor, start, end)
    out["minutes"] = [a.tolist() for a in (minutes.ts, minutes.laeq, minutes.duration)]
    hours = store.hour_series(sensor, start, end)
    out["hours"] = [a.tolist() for a in (hours.ts, hours.laeq, hours.duration)]
    bands = store.hourly_bands(sensor, start, end)
    out["bands"] = (bands.t.tolist(), bands.lzeq.tolist(), bands.seconds.tolist())
    out["readings"] = store.readings(sensor, odd[0].timestamp(), odd[1].timestamp())
    out["count"] = store.count_readings(sensor)
    out["rollup"] = store.rollup_rows(sensor)
    out["tiers"] = (store.tier_rows("1h", sensor), store.tier_rows("1d", sensor))
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The answers of the uncompacted store, and its file to copy."""
    path = tmp_path_factory.mktemp("ref") / "ref.db"
    with SqliteStore(path, synchronous="NORMAL") as store:
        _write_hours(store)
        answers = _answers(store)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, answers


@pytest.fixture
def compacted(reference, tmp_path):
    path = tmp_path / "c.db"
    path.write_bytes(reference[0].read_bytes())
    with SqliteStore(path, synchronous="NORMAL") as store:
        report = store.compact(now=NOW)
        assert (report.chunks, report.readings) == (HOURS, HOURS * 3600)
        yield store


def test_every_answer_is_unchanged_by_compaction(reference, compacted):
    assert _hot(compacted) == 0
    assert _answers(compacted) == reference[1]


def test_the_hot_window_stays_uncompacted(reference, tmp_path):
    path = tmp_path / "h.db"
    path.write_bytes(reference[0].read_bytes())
    with SqliteStore(path, synchronous="NORMAL") as store:
        # Ten hours after the data's end, a 48-hour window keeps the last 38 hours hot.
        report = store.compact(now=T + (HOURS + 10) * 3600)
        assert report.chunks == 2
        assert _hot(store) == 38 * 3600
        assert store.compact(now=T + (HOURS + 10) * 3600).chunks == 0  # nothing left to do
        assert _answers(store) == reference[1]


def test_compaction_shrinks_the_file(reference, compacted):
    pages = dict(compacted._conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    assert pages["chunks"] < pages.get("readings", 0) + 40 * HOURS * 3600
    usage = compacted.disk_usage()
    assert set(usage) == {"s-1"}
    assert usage["s-1"] / (HOURS * 3600) < 6  # bytes per reading, every tier included


def test_a_redelivery_into_a_compacted_hour_is_stored_once(reference, compacted):
    again = compacted.readings("s-1", T + 3600, T + 7200)
    result = compacted.write(again, NOW)
    assert (result.inserted, result.unchanged, result.conflicts) == (0, 3600, ())
    compacted.compact(now=NOW)
    assert _hot(compacted) == 0
    assert _answers(compacted) == reference[1]


def test_a_conflict_in_a_compacted_hour_is_refused_with_the_stored_value(reference, compacted):
    """The hour is thawed to compare (levels come back at 0.01 dB): a re-delivery sent with
    more decimals than a chunk keeps is the same reading, another level is a conflict."""
    stored = compacted.readings("s-1", T + 3600, T + 3602)
    finer = [msgspec.structs.replace(r, laeq=r.laeq + 0.004) for r in stored]
    louder = msgspec.structs.replace(stored[1], laeq=120.0)
    result = compacted.write([*finer, louder], NOW)
    assert len(stored) == 2
    assert (result.inserted, result.unchanged) == (0, 2)
    (conflict,) = result.conflicts
    assert (conflict.stored, conflict.offered) == (stored[1], louder)
    assert compacted.readings("s-1", T + 3600, T + 3602) == stored
    compacted.compact(now=NOW)
    assert _hot(compacted) == 0
    assert _answers(compacted) == reference[1]


def test_a_late_reading_into_a_compacted_hour_keeps_every_tier_exact(compacted):
    ts = T + 5 * 3600 + 0.5  # between two stored readings
    result = compacted.write([reading(ts, 99.0, duration=0.5)], NOW)
    assert result.inserted == 1
    assert compacted.rollup_rows("s-1") == compacted.recompute_rollup_from_raw("s-1")
    hours, days = compacted.recompute_tiers_from_minutes("s-1")
    assert (compacted.tier_rows("1h", "s-1"), compacted.tier_rows("1d", "s-1")) == (hours, days)
    assert compacted.count_readings("s-1") == HOURS * 3600 + 1
    assert _chunks(compacted) == HOURS - 1  # its hour was thawed ...
    compacted.compact(now=NOW)
    assert _chunks(compacted) == HOURS  # ... and compacted again
    assert compacted.rollup_rows("s-1") == compacted.recompute_rollup_from_raw("s-1")


def test_a_write_next_to_a_compacted_hour_leaves_it_compacted(compacted):
    end = T + HOURS * 3600
    compacted.write([reading(end, 60.0)], NOW)  # the first second after the last chunk
    assert _chunks(compacted) == HOURS


def test_a_long_reading_reaching_back_thaws_what_it_overlaps(compacted):
    # A 90-minute reading replacing the one at the start of hour 10 reaches into hour 11.
    ts = T + 10 * 3600
    compacted.write([reading(ts, 80.0, duration=5400.0)], NOW)
    assert _chunks(compacted) == HOURS - 2
    assert compacted.rollup_rows("s-1") == compacted.recompute_rollup_from_raw("s-1")
    compacted.compact(now=NOW)
    assert _hot(compacted) == 0
    assert compacted.rollup_rows("s-1") == compacted.recompute_rollup_from_raw("s-1")


def test_retention_drops_raw_readings_and_keeps_every_level(reference, compacted):
    removed = compacted.drop_raw_before(1.0, now=T + 20 * 3600 + 86_400)  # the first 20 hours
    assert removed == 20 * 3600
    assert compacted.count_readings("s-1") == (HOURS - 20) * 3600
    assert len(compacted.series("s-1", START, START + timedelta(hours=20))) == 0
    answers = _answers(compacted)
    for every in ("1m", "5m", "15m", "1h", "1d"):
        assert answers[every] == reference[1][every]
    assert answers["tiers"] == reference[1]["tiers"]
    with pytest.raises(ReadingRejected, match="retention"):
        compacted.write([reading(T + 3 * 3600 + 0.5, 70.0, duration=0.5)], NOW)
    compacted.write([reading(T + 30 * 3600 + 0.5, 70.0, duration=0.5)], NOW)  # still kept


def test_levels_with_more_decimals_come_back_within_half_a_hundredth(tmp_path):
    levels = [61.23456, 48.005, 70.0049999, 33.33333333]
    with SqliteStore(tmp_path / "d.db") as store:
        store.write([reading(T + i, x, lafmax=x + 1.0 / 3) for i, x in enumerate(levels)], T)
        store.compact(now=NOW)
        assert _hot(store) == 0
        back = store.readings("s-1", T, T + 10)
    assert [r.ts for r in back] == [T + i for i in range(4)]
    for got, sent in zip(back, levels, strict=True):
        assert abs(got.laeq - sent) <= 0.005 + 1e-12
        assert abs(got.lafmax - (sent + 1.0 / 3)) <= 0.005 + 1e-12
        assert got.duration == 1.0


def test_a_value_the_codec_cannot_take_leaves_its_hour_hot(tmp_path):
    with SqliteStore(tmp_path / "x.db") as store:
        store.write([reading(T, 60.0, lafmax=float("inf")), reading(T + 7200, 60.0)], T)
        report = store.compact(now=NOW)
        assert (report.chunks, report.left_hot) == (1, 1)
        assert _hot(store) == 1


_COMPACT_FOREVER = """
import sys
import threading
from noiselab.store.sqlite import SqliteStore
with SqliteStore(sys.argv[1]) as store:
    print("ready", flush=True)
    store.compact(now=float(sys.argv[2]), hours_per_transaction=1)
    print("done", flush=True)
"""


@pytest.mark.process
def test_kill_9_during_compaction_loses_and_duplicates_nothing(reference, tmp_path):
    path = tmp_path / "k.db"
    path.write_bytes(reference[0].read_bytes())
    rng = np.random.default_rng(11)
    partial = 0
    for _ in range(6):
        with subprocess.Popen(
            [sys.executable, "-c", _COMPACT_FOREVER, str(path), str(NOW)],
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(float(rng.uniform(0.02, 0.25)))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        with closing(sqlite3.connect(path)) as conn:
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            hot_hours = conn.execute(
                "SELECT count(DISTINCT ts_ms / 3600000) FROM readings"
            ).fetchone()[0]
        assert chunks + hot_hours == HOURS  # each hour in exactly one place
        partial += 0 < chunks < HOURS
    assert partial  # at least one kill landed in the middle of a pass
    with SqliteStore(path) as store:
        store.compact(now=NOW)
        assert _hot(store) == 0
        assert _answers(store) == reference[1]


def test_readers_see_each_reading_once_while_hours_move(reference, tmp_path):
    """A second connection reading while this one compacts and thaws hour by hour: every read
    is one snapshot, so no reading is missed or counted twice as it moves between tables."""
    path = tmp_path / "r.db"
    path.write_bytes(reference[0].read_bytes())
    stop = threading.Event()
    seen: list[tuple[int, int]] = []

    def read() -> None:
        with SqliteStore(path) as reader:
            while not stop.is_set():
                series = reader.series("s-1", START, START + timedelta(hours=HOURS))
                seen.append((len(series), reader.count_readings("s-1")))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        with SqliteStore(path, synchronous="NORMAL") as store:
            for _ in range(3):
                store.compact(now=NOW, hours_per_transaction=1)
                store.write(store.readings("s-1", T, T + HOURS * 3600), NOW)  # thaws every hour
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 10
    assert set(seen) == {(HOURS * 3600, HOURS * 3600)}


def test_a_bounded_pass_takes_the_oldest_hours_of_all_sensors_first(tmp_path):
    with SqliteStore(tmp_path / "b.db") as store:
        # s-1 has hours 0, 2, 4; s-2 has hours 1, 3, 5 (one reading each).
        store.write([reading(T + h * 3600, 60.0, sensor=f"s-{1 + h % 2}") for h in range(6)], T)
        first = store.compact(now=NOW, max_hours=3)
        assert first.chunks == 3
        chunks = store._conn.execute("SELECT hour - ? FROM chunks ORDER BY hour", (int(T) // 3600,))
        assert [row[0] for row in chunks] == [0, 1, 2]
        # s-1 waits from hour 4, s-2 from hour 3: upper bounds to the cutoff.
        cutoff_hour = int(NOW - 48 * 3600) // 3600
        assert first.pending == 2 * cutoff_hour - 2 * (int(T) // 3600) - 7
        assert first.lag_s == (cutoff_hour * 3600 - (T + 3 * 3600))
        last = store.compact(now=NOW)
        assert (last.chunks, last.pending, last.lag_s) == (3, 0, 0.0)
        assert store.drop_raw_before(1.0, now=NOW, max_hours=4) == 4
        assert store.count_readings() == 2


def test_an_hour_left_hot_is_not_tried_again(tmp_path):
    with SqliteStore(tmp_path / "l.db") as store:
        store.write([reading(T, 60.0, lafmax=float("inf")), reading(T + 7200, 60.0)], T)
        assert store.compact(now=NOW).left_hot == 1
        again = store.compact(now=NOW, max_hours=1)
        assert (again.left_hot, again.chunks) == (0, 0)
