"""SqliteStore and its database file: which failures are retryable, the schema migrated on
opening (and a file from a newer schema refused), committed writes seen by another instance, two
processes writing one file, and the schema-2 recomputation of old histograms."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from contextlib import closing

import numpy as np
import pytest
from support.sqlite_store import RECEIVED, H, assert_rollup_matches, reading, utc, write_interleaved

from noiselab.errors import StoreError, StoreUnavailable
from noiselab.store import sqlite_schema
from noiselab.store.sqlite import SqliteStore
from noiselab.store.sqlite_rollup import HIST_DTYPE

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
    workers = [context.Process(target=write_interleaved, args=(path, w, 30)) for w in (0, 1)]
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
        for table in (
            "rollup_1h",
            "hist_1h",
            "rollup_1d",
            "hist_1d",
            "store_settings",
            "chunks",
        ):  # from version 3
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP TABLE weather")  # from version 4
        conn.execute("PRAGMA user_version = 1")
    with SqliteStore(path) as store:
        assert store.rollup_rows("s-1") == current
        assert store.rollup_rows("s-1") == store.recompute_rollup_from_raw("s-1")
        [first] = store.levels("s-1", utc(H), utc(H + 60), "1m")
        assert (first.l10, round(first.laeq, 6)) == (None, 70.0)
