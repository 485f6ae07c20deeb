"""The SQLite store checks on real files: a current store passes and is left byte for byte as
it was (nothing written); a missing file, a file that is not a store, an old or newer schema,
and a store whose write lock another connection holds fail with their fix."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from noiselab.doctor import Check, Status, run_steps
from noiselab.doctor.sqlite_store import sqlite_steps
from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore
from noiselab.store.sqlite_schema import SCHEMA_VERSION


def run(path: Path, timeout_s: float = 2.0) -> list[Check]:
    return list(run_steps(sqlite_steps(path, timeout_s)))


def make_store(path: Path) -> Path:
    now = time.time()
    with SqliteStore(path) as store:
        store.write([Reading("kbm-a", now - 100 + i, 55.0) for i in range(30)], now)
    return path


def rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM readings ORDER BY sensor_id, ts_ms").fetchall()


def test_a_current_store_passes_and_nothing_is_written(tmp_path):
    path = make_store(tmp_path / "readings.db")
    before = rows(path)
    checks = run(path)
    assert [c.name for c in checks] == ["sqlite store", "sqlite reads", "sqlite write lock"]
    assert [c.status for c in checks] == [Status.OK] * 3, checks
    assert f"schema version {SCHEMA_VERSION} (current)" in checks[0].detail
    assert "sensors with data: 1; the latest, kbm-a" in checks[1].detail
    assert rows(path) == before


def test_an_empty_store_passes_saying_so(tmp_path):
    path = tmp_path / "readings.db"
    SqliteStore(path).close()
    checks = run(path)
    assert checks[1].detail == "no readings stored yet"


def test_a_missing_file_fails_and_is_not_created(tmp_path):
    path = tmp_path / "nowhere" / "readings.db"
    checks = run(path)
    assert checks[0].status is Status.FAIL
    assert checks[0].detail == f"no SQLite file at {path}"
    assert "NOISELAB_STORE" in checks[0].fix
    assert [c.status for c in checks[1:]] == [Status.SKIP, Status.SKIP]
    assert not path.parent.exists()


def test_a_file_that_is_not_a_store_fails(tmp_path):
    path = tmp_path / "readings.db"
    path.write_text("not a database at all, just text " * 100)
    check = run(path)[0]
    assert check.status is Status.FAIL
    assert "cannot be read as SQLite" in check.detail


def test_an_old_schema_fails_and_is_not_migrated(tmp_path):
    path = make_store(tmp_path / "readings.db")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    check = run(path)[0]
    assert check.status is Status.FAIL
    assert f"schema version {SCHEMA_VERSION - 1}, this noiselab writes {SCHEMA_VERSION}" in (
        check.detail
    )
    assert "migrates the file on open" in check.fix
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1


def test_a_newer_schema_fails_asking_for_an_upgrade(tmp_path):
    path = make_store(tmp_path / "readings.db")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    check = run(path)[0]
    assert check.status is Status.FAIL
    assert "newer than this noiselab's" in check.detail
    assert "upgrade" in check.fix


def test_a_held_write_lock_fails_within_the_time_limit(tmp_path):
    path = make_store(tmp_path / "readings.db")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        checks = run(path, timeout_s=0.3)
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    lock = checks[2]
    assert lock.status is Status.FAIL
    assert "database is locked" in lock.detail
    assert "no process holds a write transaction open" in lock.fix
    assert elapsed < 5
