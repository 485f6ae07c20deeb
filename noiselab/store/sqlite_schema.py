"""Schema of the SQLite time-series file, as ordered migration steps.

Migration ``n`` (1-based) is ``MIGRATIONS[n - 1]``; ``PRAGMA user_version`` records how many have
been applied. ``migrate()`` applies the missing ones in order inside one ``BEGIN IMMEDIATE``
transaction, so two processes opening the same new file cannot both migrate it and a failed
step leaves the file as it was. To change the schema, append a step; never edit a released one.

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
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from noiselab.errors import StoreError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "user_version"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
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
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
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
