"""The checks of a SQLite reading store (``--store sqlite:///PATH``).

They never write a reading: a SQLite store is the file the ingest appends to, and a probe
sensor's rows would show in its activity, roll-ups and compaction until someone removed them.
Instead they check what a probe would: the file exists and is a store of the schema version
this noiselab writes (read-only, so an old file is reported, not migrated), the store answers
the queries the API makes, and this process can take the write lock (``BEGIN IMMEDIATE``) within
the time limit, rolled back at once: a read-only file or directory, or a writer that holds the
lock, fails here as it would fail the ingest.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from noiselab.doctor.check import CheckFailed, Step
from noiselab.errors import NoiselabError
from noiselab.store.sqlite_schema import SCHEMA_VERSION, user_version

__all__ = ["sqlite_steps"]

STORE_FIX = (
    "check the path in --store (NOISELAB_STORE) and the volume it lives on; the ingest creates"
    " the file on its first start"
)
OLD_SCHEMA_FIX = (
    "start the ingest (or the api) of this noiselab version once: it migrates the file on open"
)
NEW_SCHEMA_FIX = "the file was written by a newer noiselab: upgrade this one"
LOCK_FIX = (
    "make the file and its directory writable by this user (SQLite writes a -wal and -shm file"
    " beside it) and check that no process holds a write transaction open"
)


def sqlite_steps(path: Path, timeout_s: float) -> list[Step]:
    """``sqlite store`` (the file and its schema), ``sqlite reads``, ``sqlite write lock``."""
    return [
        Step("sqlite store", lambda: _schema(path, timeout_s)),
        Step("sqlite reads", lambda: _reads(path), requires=("sqlite store",)),
        Step("sqlite write lock", lambda: _write_lock(path, timeout_s), requires=("sqlite store",)),
    ]


def _schema(path: Path, timeout_s: float) -> str:
    if not path.is_file():
        raise CheckFailed(f"no SQLite file at {path}", STORE_FIX)
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=timeout_s)) as conn:
            version = user_version(conn)
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        raise CheckFailed(f"{path} cannot be read as SQLite: {exc}", STORE_FIX) from exc
    if version == 0 or "readings" not in tables:
        raise CheckFailed(f"{path} is not a noiselab store (no schema)", STORE_FIX)
    if version < SCHEMA_VERSION:
        raise CheckFailed(
            f"{path} has schema version {version}, this noiselab writes {SCHEMA_VERSION}",
            OLD_SCHEMA_FIX,
        )
    if version > SCHEMA_VERSION:
        raise CheckFailed(
            f"{path} has schema version {version}, newer than this noiselab's {SCHEMA_VERSION}",
            NEW_SCHEMA_FIX,
        )
    size_mb = path.stat().st_size / 1e6
    return f"{path}: schema version {version} (current), {size_mb:,.1f} MB"


def _reads(path: Path) -> str:
    """The queries the API makes: every sensor's activity, and the last hour of the sensor
    heard from last in 1-minute levels."""
    from noiselab.store.sqlite import SqliteStore

    try:
        with SqliteStore(path) as store:
            activity = store.activity()
            if not activity:
                return "no readings stored yet"
            latest = max(activity, key=lambda a: a.last_ts)
            end = datetime.fromtimestamp(latest.last_ts, UTC).replace(second=0, microsecond=0)
            end += timedelta(minutes=1)
            points = store.levels(latest.sensor_id, end - timedelta(hours=1), end, "1m")
    except NoiselabError as exc:
        raise CheckFailed(f"the store failed a query: {exc}", STORE_FIX) from exc
    seen = datetime.fromtimestamp(latest.last_ts, UTC).isoformat(timespec="seconds")
    return (
        f"sensors with data: {len(activity)}; the latest, {latest.sensor_id}, at {seen};"
        f" minutes of levels in its last hour: {len(points)}"
    )


def _write_lock(path: Path, timeout_s: float) -> str:
    try:
        with closing(sqlite3.connect(path, timeout=timeout_s, isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise CheckFailed(f"cannot take the write lock of {path}: {exc}", LOCK_FIX) from exc
    return "write lock taken and released within the time limit (nothing written)"
