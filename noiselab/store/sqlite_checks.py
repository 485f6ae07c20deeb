"""The SQLite store's checks of its own roll-ups: the stored minutes and tiers, and the same
recomputed from scratch, which every sequence of writes, compactions and thaws must leave equal
(the store tests compare them). :class:`SqliteChecks` is mixed into
:class:`~noiselab.store.sqlite.SqliteStore`, whose connection, lock and raw reads it uses.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from noiselab.store.chunk_codec import ChunkReadings
from noiselab.store.sqlite_answers import roll_up_rows
from noiselab.store.sqlite_connection import translated
from noiselab.store.sqlite_levels import minute_rows
from noiselab.store.sqlite_rollup import minute_keys, rollup_minutes
from noiselab.store.sqlite_tiers import Children, TierRow, tiers_from_minutes
from noiselab.store.sqlite_write import RollupRow, rollup_changes

__all__ = ["SqliteChecks"]

_TIER_ROWS = {
    "1h": "SELECT r.*, h.hist FROM rollup_1h AS r JOIN hist_1h AS h USING (sensor_id, hour)"
    " WHERE r.sensor_id = ? ORDER BY r.hour",
    "1d": "SELECT r.*, h.hist FROM rollup_1d AS r JOIN hist_1d AS h USING (sensor_id, day)"
    " WHERE r.sensor_id = ? ORDER BY r.day",
}


class SqliteChecks:
    """The roll-up checks of the SQLite store (uses its ``_conn``, ``_lock``, ``_day_zone``,
    ``_snapshot`` and ``_raw``)."""

    _conn: sqlite3.Connection
    _lock: threading.RLock
    _day_zone: ZoneInfo

    if TYPE_CHECKING:  # provided by the store this is mixed into (SqliteStore)

        def _snapshot(self) -> AbstractContextManager[None]: ...

        def _raw(self, sensor_id: str, first_ms: int, end_ms: int) -> ChunkReadings: ...

    def rollup_rows(self, sensor_id: str) -> list[RollupRow]:
        """The stored ``rollup_1m`` rows of one sensor, hot and compacted, by minute."""
        with self._lock, translated("roll-up query"), self._snapshot():
            rows = minute_rows(self._conn, sensor_id, 0, 1 << 32)
        return [(sensor_id, *row) for row in rows]

    def recompute_rollup_from_raw(self, sensor_id: str) -> list[RollupRow]:
        """The ``rollup_1m`` rows of one sensor computed afresh from all its raw readings.

        Equal to ``rollup_rows(sensor_id)`` after any sequence of writes (bit for bit; after a
        compaction when the levels were stored in hundredths of a dB, as every sensor sends).
        """
        with self._lock, translated("roll-up recomputation"), self._snapshot():
            raw = self._raw(sensor_id, 0, 1 << 62)
        rows = roll_up_rows(raw)
        keys = minute_keys(rows.code, rows.ts_ms, rows.end_ms)
        puts, _ = rollup_changes(rollup_minutes(rows, keys), [sensor_id])
        return puts

    def tier_rows(self, tier: Literal["1h", "1d"], sensor_id: str) -> list[TierRow]:
        """The stored cells of one sensor's hourly or daily tier, by key."""
        with self._lock, translated("tier query"):
            rows = self._conn.execute(_TIER_ROWS[tier], (sensor_id,)).fetchall()
        return [tuple(row) for row in rows]

    def recompute_tiers_from_minutes(self, sensor_id: str) -> tuple[list[TierRow], list[TierRow]]:
        """The ``rollup_1h`` and ``rollup_1d`` rows of one sensor computed afresh from all its
        minutes (hot and compacted); equal to ``tier_rows`` after any sequence of writes."""
        with self._lock, translated("tier recomputation"), self._snapshot():
            minutes = Children.of(minute_rows(self._conn, sensor_id, 0, 1 << 32))
        return tiers_from_minutes(sensor_id, minutes, self._day_zone)
