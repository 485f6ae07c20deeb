"""Schema of the SQLite time-series file, as ordered migration steps.

Migration ``n`` (1-based) is ``MIGRATIONS[n - 1]``, SQL statements or Python steps given the
connection; ``PRAGMA user_version`` records how many have been applied. ``migrate()`` applies
the missing ones in order inside one ``BEGIN IMMEDIATE`` transaction, so two processes opening
the same new file cannot both migrate it and a failed step leaves the file as it was. To change
the schema, append a step; never edit a released one.

Tables (version 1):

``readings``
    One row per ``(sensor_id, ts_ms)``; ``ts_ms`` = ``noiselab.model.ts_key(ts)`` (Unix ms, UTC),
    ``duration`` in s, levels in dB, ``spectrum`` the JSON of ``noiselab.model.Spectrum`` or
    NULL, ``received_at`` the Unix time (s) of the write that stored the row.
``rollup_1m``
    Energetic roll-up per ``(sensor_id, minute)``, ``minute`` = ``floor(t / 60 s)``:
    ``energy`` = Σ overlap_s·10^(LAeq/10), ``seconds`` = Σ overlap_s, ``lafmax``/``lafmin``
    (NULL when no reading carried one), ``hist`` (see ``noiselab.store.sqlite_rollup``).
``sensor_state``
    Per sensor: the longest duration stored (ms; bounds the raw scan of a minute), the latest
    ``ts_ms``, the latest interval end (ms) and the receive time (s) of the write that stored it.

Version 2 keeps the tables and recomputes the roll-up minutes that readings longer than 1 s
overlap, whose histograms now leave those readings out (``sqlite_rollup.PERCENTILE_MAX_MS``).

Version 3 adds the coarser tiers and compact storage, and fills the tiers from ``rollup_1m``:

``rollup_1h`` / ``rollup_1d``, ``hist_1h`` / ``hist_1d``
    Per ``(sensor_id, hour)`` (``floor(t / 3600 s)``, UTC) and per ``(sensor_id, day)`` (local
    date in the day zone, days since 1970-01-01): ``energy``, ``seconds``, ``lafmax``,
    ``lafmin``, ``l10``/``l50``/``l90`` (NULL unless the histogram covers every second); the
    cell's ``hist`` in the ``hist_`` table of the same key, so that reading a year of hours
    does not page through their histograms (see ``noiselab.store.sqlite_tiers``).
``store_settings``
    ``name``/``value`` pairs: ``day_zone``, the IANA zone of ``rollup_1d``'s local days.
``chunks``
    Per ``(sensor_id, hour)``: the readings of that UTC hour and the ``rollup_1m`` minutes of
    that hour, compressed (``noiselab.store.chunk_codec``), once the hour is older than the hot
    window; ``readings`` counts them, ``raw_dropped`` is 1 when retention has removed the
    readings and only the minutes remain, ``end_ms`` is the latest end of its readings (Unix
    ms; at least the hour's end). An hour's readings and minutes live either in
    ``readings``/``rollup_1m`` or in its chunk, never in both (``noiselab.store.sqlite_chunks``).

Version 4 adds ``weather``: the observations of weather stations, one row per
``(station_id, ts_ms)`` (see ``noiselab.store.sqlite_weather``).

Version 5 adds ``minute_sums``: per ``(sensor_id, hour)`` of a chunk written since, its
minutes' energy, seconds and LAFmax alone (``noiselab.store.chunk_sums``), so that summing the
minutes of many hours (the hours an exclusion cuts) decodes no chunk. Written and removed with
its chunk; an older chunk without one is decoded instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import suppress

import numpy as np

from noiselab.errors import StoreError
from noiselab.store.sqlite_rollup import (
    MINUTE_MS,
    PERCENTILE_MAX_MS,
    minute_keys,
    rollup_minutes,
)
from noiselab.store.sqlite_tiers import Tiers, day_zone
from noiselab.store.sqlite_weather import WEATHER_TABLE
from noiselab.store.sqlite_write import rollup_changes, rows_of

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "user_version"]

Step = str | Callable[[sqlite3.Connection], None]

_REBUILD_DAYS = 1
"""Roll-up minutes recomputed per query of migration 2, in days of minutes."""


def _histograms_of_short_readings_only(conn: sqlite3.Connection) -> None:
    """Recompute every roll-up minute that a reading longer than ``PERCENTILE_MAX_MS``
    overlaps, from all raw readings overlapping it, a day of minutes at a time."""
    sensors = conn.execute(
        "SELECT sensor_id, max_duration_ms FROM sensor_state WHERE max_duration_ms > ?",
        (PERCENTILE_MAX_MS,),
    ).fetchall()
    for sensor_id, lookback_ms in sensors:
        long_rows = rows_of(
            conn.execute(
                "SELECT ts_ms, duration, laeq, lafmax, lafmin FROM readings"
                " WHERE sensor_id = ? AND duration * 1000 > ? ORDER BY ts_ms",
                (sensor_id, PERCENTILE_MAX_MS),
            ).fetchall()
        )
        keys = minute_keys(long_rows.code, long_rows.ts_ms, long_rows.end_ms)
        day = (keys // (1440 * _REBUILD_DAYS)).astype(np.int64)
        for part in np.split(keys, np.flatnonzero(np.diff(day)) + 1):
            first, last = int(part[0]), int(part[-1])
            rows = rows_of(
                conn.execute(
                    "SELECT ts_ms, duration, laeq, lafmax, lafmin FROM readings"
                    " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms",
                    (sensor_id, first * MINUTE_MS - lookback_ms, (last + 1) * MINUTE_MS),
                ).fetchall()
            )
            puts, _ = rollup_changes(rollup_minutes(rows, part), [sensor_id])
            conn.executemany("INSERT OR REPLACE INTO rollup_1m VALUES (?, ?, ?, ?, ?, ?, ?)", puts)


_BACKFILL_HOURS = 24 * 31
"""Hours of the tiers filled per query batch by migration 3."""


def _fill_tiers(conn: sqlite3.Connection) -> None:
    """Fill ``rollup_1h`` and ``rollup_1d`` from every stored minute, a month at a time."""
    tiers = Tiers(conn, day_zone(conn))
    sensors = [row[0] for row in conn.execute("SELECT DISTINCT sensor_id FROM sensor_state")]
    for sensor_id in sensors:
        hours = np.array(
            [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT minute / 60 FROM rollup_1m WHERE sensor_id = ?", (sensor_id,)
                )
            ],
            np.int64,
        )
        hours.sort()
        for part in np.array_split(hours, max(1, -(-hours.size // _BACKFILL_HOURS))):
            tiers.hours_changed(sensor_id, part)


MINUTE_SUMS_TABLE = """CREATE TABLE IF NOT EXISTS minute_sums (
    sensor_id TEXT    NOT NULL,
    hour      INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (sensor_id, hour)
) WITHOUT ROWID"""

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    (
        """CREATE TABLE readings (
            sensor_id   TEXT    NOT NULL,
            ts_ms       INTEGER NOT NULL,
            duration    REAL    NOT NULL,
            laeq        REAL    NOT NULL,
            lafmax      REAL,
            lafmin      REAL,
            spectrum    TEXT,
            seq         INTEGER,
            received_at REAL    NOT NULL,
            PRIMARY KEY (sensor_id, ts_ms)
        ) WITHOUT ROWID""",
        """CREATE TABLE rollup_1m (
            sensor_id TEXT    NOT NULL,
            minute    INTEGER NOT NULL,
            energy    REAL    NOT NULL,
            seconds   REAL    NOT NULL,
            lafmax    REAL,
            lafmin    REAL,
            hist      BLOB    NOT NULL,
            PRIMARY KEY (sensor_id, minute)
        ) WITHOUT ROWID""",
        """CREATE TABLE sensor_state (
            sensor_id       TEXT    NOT NULL PRIMARY KEY,
            max_duration_ms INTEGER NOT NULL,
            last_ts_ms      INTEGER NOT NULL,
            last_end_ms     INTEGER NOT NULL,
            last_received   REAL    NOT NULL
        )""",
    ),
    (_histograms_of_short_readings_only,),
    (
        """CREATE TABLE rollup_1h (
            sensor_id TEXT    NOT NULL,
            hour      INTEGER NOT NULL,
            energy    REAL    NOT NULL,
            seconds   REAL    NOT NULL,
            lafmax    REAL,
            lafmin    REAL,
            l10       REAL,
            l50       REAL,
            l90       REAL,
            PRIMARY KEY (sensor_id, hour)
        ) WITHOUT ROWID""",
        """CREATE TABLE hist_1h (
            sensor_id TEXT    NOT NULL,
            hour      INTEGER NOT NULL,
            hist      BLOB    NOT NULL,
            PRIMARY KEY (sensor_id, hour)
        ) WITHOUT ROWID""",
        """CREATE TABLE rollup_1d (
            sensor_id TEXT    NOT NULL,
            day       INTEGER NOT NULL,
            energy    REAL    NOT NULL,
            seconds   REAL    NOT NULL,
            lafmax    REAL,
            lafmin    REAL,
            l10       REAL,
            l50       REAL,
            l90       REAL,
            PRIMARY KEY (sensor_id, day)
        ) WITHOUT ROWID""",
        """CREATE TABLE hist_1d (
            sensor_id TEXT    NOT NULL,
            day       INTEGER NOT NULL,
            hist      BLOB    NOT NULL,
            PRIMARY KEY (sensor_id, day)
        ) WITHOUT ROWID""",
        """CREATE TABLE store_settings (
            name  TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        "INSERT INTO store_settings VALUES ('day_zone', 'Europe/Copenhagen')",
        """CREATE TABLE chunks (
            sensor_id   TEXT    NOT NULL,
            hour        INTEGER NOT NULL,
            readings    INTEGER NOT NULL,
            raw_dropped INTEGER NOT NULL DEFAULT 0,
            end_ms      INTEGER NOT NULL,
            data        BLOB    NOT NULL,
            PRIMARY KEY (sensor_id, hour)
        ) WITHOUT ROWID""",
        _fill_tiers,
    ),
    (WEATHER_TABLE,),
    (MINUTE_SUMS_TABLE,),
)

SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    """The number of migrations applied to the open file."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations in one transaction; returns the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises ``StoreError`` when
    the file was written by a newer schema than this code knows; lets ``sqlite3.Error`` through
    for the caller to translate.
    """
    if user_version(conn) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = user_version(conn)  # again, under the write lock: another process may have won
        _check_known(version)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for step in MIGRATIONS[number - 1]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def _check_known(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store file has schema version {version}, newer than this noiselab knows "
            f"({SCHEMA_VERSION}); upgrade noiselab"
        )
