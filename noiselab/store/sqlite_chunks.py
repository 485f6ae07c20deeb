"""Compact storage of old readings in the SQLite store: compaction, thawing, reading chunks.

Once a UTC hour of a sensor is older than the hot window, :func:`compact_hour` moves its
readings (``readings`` rows with ``ts_ms`` in the hour) and its minutes (``rollup_1m`` rows of
the hour) into one ``chunks`` row, encoded by :mod:`noiselab.store.chunk_codec`, in one
transaction: a crash (kill -9, power loss) leaves either the rows or the chunk, never both and
never neither. The hourly and daily tiers are not touched: they stay in their tables.

Late and re-delivered data: before a write reads the stored rows around its readings, it
:func:`thaw`\\ s the chunks of that range back into ``readings`` and ``rollup_1m`` (same
transaction), so the write path sees every stored reading, counts a re-delivery as unchanged
(levels compared at the chunk's 0.01 dB), refuses a conflicting reading and recomputes the
roll-ups exactly as for hot data. A chunk is thawed only when its hour
holds minutes the write recomputes or its readings reach into them (``chunks.end_ms``). The
thawed hour is compacted again by the next pass.

Retention: :func:`drop_raw` removes the readings from chunks older than a cutoff and keeps
their minutes (and the hourly and daily tiers); a later reading for such an hour is refused
(``ReadingRejected``), since its minutes could no longer be recomputed.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np

from noiselab.errors import ReadingRejected
from noiselab.store.chunk_codec import (
    ChunkMinutes,
    ChunkReadings,
    MinuteRow,
    ReadingRow,
    decode_chunk,
    decode_readings,
    encode_chunk,
)
from noiselab.store.chunk_sums import encode_sums
from noiselab.store.sqlite_tiers import HOUR_MS

__all__ = [
    "ChunkStats",
    "CompactionReport",
    "chunk_minutes",
    "chunk_readings",
    "compact_hour",
    "drop_raw",
    "hours_to_compact",
    "oldest_hot",
    "oldest_hours",
    "sensor_bytes",
    "thaw",
]

_READINGS = (
    "SELECT ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq, received_at FROM readings"
    " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms"
)
_MINUTES = (
    "SELECT minute, energy, seconds, lafmax, lafmin, hist FROM rollup_1m"
    " WHERE sensor_id = ? AND minute >= ? AND minute < ? ORDER BY minute"
)
_OLDEST_HOT = "SELECT min(ts_ms) FROM readings WHERE sensor_id = ? AND ts_ms < ?"
_CHUNKS = (
    "SELECT hour, raw_dropped, end_ms, data FROM chunks"
    " WHERE sensor_id = ? AND hour >= ? AND hour < ? ORDER BY hour"
)


@dataclass(frozen=True, slots=True)
class ChunkStats:
    """What compacting one hour did: readings moved, bytes of the chunk written, and the
    estimated bytes the hot rows took (payload sizes, without B-tree overhead)."""

    readings: int
    chunk_bytes: int
    hot_bytes: int


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one compaction pass did: sensor-hours compacted (``chunks``) and their
    ``readings``, the chunks' bytes against the hot rows' estimated bytes, hours left hot
    because a value could not be encoded (``left_hot``) or for a later pass (``pending``),
    ``lag_s`` how far the oldest hot reading lies before the cutoff (0 when caught up), and
    the pass's duration. ``pending`` is an upper bound: it counts every hour from each
    sensor's oldest hot reading to the cutoff."""

    chunks: int
    readings: int
    chunk_bytes: int
    hot_bytes: int
    left_hot: int
    pending: int
    lag_s: float
    seconds: float

    @property
    def bytes_saved(self) -> int:
        """Estimated bytes the pass freed: the hot rows' payload minus the chunks'."""
        return max(0, self.hot_bytes - self.chunk_bytes)


def sensor_bytes(conn: sqlite3.Connection) -> dict[str, int]:
    """Bytes on disk per sensor (see ``SqliteStore.disk_usage``)."""
    pages = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    usage: dict[str, float] = {}
    for table, weight in _SHARES.items():
        shares = conn.execute(weight).fetchall()
        total = sum(share for _, share in shares) or 1
        for sensor_id, share in shares:
            usage[sensor_id] = usage.get(sensor_id, 0.0) + pages.get(table, 0) * share / total
    return {sensor_id: round(used) for sensor_id, used in sorted(usage.items())}


_SHARES = {
    "readings": "SELECT sensor_id, count(*) FROM readings GROUP BY sensor_id",
    "rollup_1m": "SELECT sensor_id, count(*) FROM rollup_1m GROUP BY sensor_id",
    "rollup_1h": "SELECT sensor_id, count(*) FROM rollup_1h GROUP BY sensor_id",
    "rollup_1d": "SELECT sensor_id, count(*) FROM rollup_1d GROUP BY sensor_id",
    "hist_1h": "SELECT sensor_id, sum(length(hist)) FROM hist_1h GROUP BY sensor_id",
    "hist_1d": "SELECT sensor_id, sum(length(hist)) FROM hist_1d GROUP BY sensor_id",
    "chunks": "SELECT sensor_id, sum(length(data)) FROM chunks GROUP BY sensor_id",
    "minute_sums": "SELECT sensor_id, sum(length(data)) FROM minute_sums GROUP BY sensor_id",
    "sensor_state": "SELECT sensor_id, 1 FROM sensor_state",
}


def _hours(first_ms: int, end_ms: int) -> tuple[int, int]:
    """``[first, end)`` hour numbers of the hours overlapping ``[first_ms, end_ms)``."""
    return first_ms // HOUR_MS, -(-end_ms // HOUR_MS)


def _chunks(
    conn: sqlite3.Connection, sensor_id: str, first_ms: int, end_ms: int
) -> list[tuple[int, int, int, bytes]]:
    return conn.execute(_CHUNKS, (sensor_id, *_hours(first_ms, end_ms))).fetchall()


def chunk_readings(
    conn: sqlite3.Connection, sensor_id: str, first_ms: int, end_ms: int
) -> ChunkReadings | None:
    """The compacted readings of one sensor with ``first_ms <= ts_ms < end_ms``, by ts, or
    ``None`` when no chunk covers the range."""
    parts: list[ChunkReadings] = []
    for _, dropped, _, data in _chunks(conn, sensor_id, first_ms, end_ms):
        if dropped:
            continue
        readings = decode_readings(data)
        keep = (readings.ts_ms >= first_ms) & (readings.ts_ms < end_ms)
        parts.append(readings if keep.all() else readings.take(np.flatnonzero(keep)))
    return ChunkReadings.merged(parts) if parts else None


def chunk_minutes(
    conn: sqlite3.Connection, sensor_id: str, first: int, end: int
) -> list[MinuteRow]:
    """The compacted roll-up minutes ``first <= minute < end`` of one sensor, by minute."""
    out: list[MinuteRow] = []
    for _, _, _, data in _chunks(conn, sensor_id, first * 60_000, end * 60_000):
        _, minutes = decode_chunk(data)
        out.extend(row for row in minutes.rows() if first <= row[0] < end)
    return out


def thaw(
    conn: sqlite3.Connection, sensor_id: str, reach_ms: int, first_ms: int, end_ms: int
) -> int:
    """Move back into the hot tables the chunks a write needs: those whose hour overlaps
    ``[first_ms, end_ms)`` (the minutes the write recomputes) and those of ``[reach_ms,
    first_ms)`` whose readings reach past ``first_ms``. Returns how many were thawed.

    Raises ``ReadingRejected`` when a needed chunk's readings were dropped by retention.
    """
    thawed = 0
    for hour, dropped, chunk_end, data in _chunks(conn, sensor_id, reach_ms, end_ms):
        if (hour + 1) * HOUR_MS <= first_ms and chunk_end <= first_ms:
            continue  # only in the look-back range, and nothing of it reaches the write
        if dropped:
            raise ReadingRejected(
                f"sensor {sensor_id}: the readings of the hour starting at"
                f" {hour * 3600} (Unix s) were removed by the retention policy; a reading"
                " there can no longer be stored"
            )
        readings, minutes = decode_chunk(data)
        conn.executemany(
            "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((sensor_id, *row) for row in readings.rows()),
        )
        conn.executemany(
            "INSERT INTO rollup_1m VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((sensor_id, *row) for row in minutes.rows()),
        )
        conn.execute("DELETE FROM chunks WHERE sensor_id = ? AND hour = ?", (sensor_id, hour))
        conn.execute("DELETE FROM minute_sums WHERE sensor_id = ? AND hour = ?", (sensor_id, hour))
        thawed += 1
    return thawed


def hours_to_compact(conn: sqlite3.Connection, sensor_id: str, cutoff_ms: int) -> Iterator[int]:
    """The hours of one sensor before ``cutoff_ms`` that still hold hot readings or minutes,
    ascending; each found by an index seek, so the scan costs one lookup per hour."""
    end_hour = cutoff_ms // HOUR_MS
    hour = 0
    while hour < end_hour:
        ts = conn.execute(
            "SELECT min(ts_ms) FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
            (sensor_id, hour * HOUR_MS, end_hour * HOUR_MS),
        ).fetchone()[0]
        minute = conn.execute(
            "SELECT min(minute) FROM rollup_1m WHERE sensor_id = ? AND minute >= ? AND minute < ?",
            (sensor_id, hour * 60, end_hour * 60),
        ).fetchone()[0]
        found = [
            v
            for v in (
                None if ts is None else ts // HOUR_MS,
                None if minute is None else minute // 60,
            )
            if v is not None
        ]
        if not found:
            return
        hour = min(found)
        yield hour
        hour += 1


def oldest_hours(
    conn: sqlite3.Connection,
    sensors: list[str],
    cutoff_ms: int,
    limit: int | None,
    skip: set[tuple[int, str]],
) -> list[tuple[int, str]]:
    """Up to ``limit`` ``(hour, sensor_id)`` to compact before ``cutoff_ms``, oldest first
    across ``sensors``, leaving out those in ``skip``; the hours are found lazily, so a
    bounded call lists no more than it takes."""
    merged = heapq.merge(*[_keyed(sid, hours_to_compact(conn, sid, cutoff_ms)) for sid in sensors])
    return list(islice((c for c in merged if c not in skip), limit))


def _keyed(sensor_id: str, hours: Iterator[int]) -> Iterator[tuple[int, str]]:
    for hour in hours:
        yield hour, sensor_id


def oldest_hot(conn: sqlite3.Connection, sensors: list[str], cutoff_ms: int) -> list[int]:
    """Each sensor's oldest hot reading before ``cutoff_ms`` (Unix ms), for those with one:
    one index look-up per sensor."""
    found = [conn.execute(_OLDEST_HOT, (sid, cutoff_ms)).fetchone()[0] for sid in sensors]
    return [int(ts) for ts in found if ts is not None]


def compact_hour(conn: sqlite3.Connection, sensor_id: str, hour: int) -> ChunkStats | None:
    """Move one hour's readings and minutes into its chunk (inside the caller's
    transaction); ``None`` when the hour holds nothing hot. A chunk already there (which
    the store never leaves beside hot rows) is thawed and merged first.

    Raises ``ValueError`` (from the codec) when a value cannot be encoded: the hour stays hot.
    """
    first_ms, end_ms = hour * HOUR_MS, (hour + 1) * HOUR_MS
    thaw(conn, sensor_id, first_ms, first_ms, end_ms)
    rows: list[ReadingRow] = conn.execute(_READINGS, (sensor_id, first_ms, end_ms)).fetchall()
    minutes: list[MinuteRow] = conn.execute(
        _MINUTES, (sensor_id, hour * 60, (hour + 1) * 60)
    ).fetchall()
    if not rows and not minutes:
        return None
    readings = ChunkReadings.from_rows(rows)
    columns = ChunkMinutes.from_rows(minutes)
    data = encode_chunk(readings, columns)
    reach = int(np.max(readings.ts_ms + np.rint(readings.duration * 1000.0))) if rows else 0
    conn.execute(
        "INSERT INTO chunks VALUES (?, ?, ?, 0, ?, ?)",
        (sensor_id, hour, len(rows), max(reach, end_ms), data),
    )
    conn.execute(
        "INSERT OR REPLACE INTO minute_sums VALUES (?, ?, ?)",
        (sensor_id, hour, encode_sums(hour, columns)),
    )
    conn.execute(
        "DELETE FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
        (sensor_id, first_ms, end_ms),
    )
    conn.execute(
        "DELETE FROM rollup_1m WHERE sensor_id = ? AND minute >= ? AND minute < ?",
        (sensor_id, hour * 60, (hour + 1) * 60),
    )
    hot = sum(_row_bytes(row) for row in rows) + sum(48 + len(m[5]) for m in minutes)
    return ChunkStats(len(rows), len(data), hot)


def drop_raw(conn: sqlite3.Connection, cutoff_ms: int, limit: int | None = None) -> int:
    """Remove the readings of the chunks whose hour ends at or before ``cutoff_ms`` (the
    oldest ``limit`` of them at most), keeping their minutes (inside the caller's
    transaction). Returns the number of readings removed."""
    removed = 0
    found = conn.execute(
        "SELECT sensor_id, hour, readings, data FROM chunks WHERE raw_dropped = 0"
        " AND readings > 0 AND hour < ? ORDER BY hour LIMIT ?",
        (cutoff_ms // HOUR_MS, -1 if limit is None else limit),
    ).fetchall()
    for sensor_id, hour, count, data in found:
        _, minutes = decode_chunk(data)
        kept = encode_chunk(ChunkReadings.from_rows([]), minutes)
        conn.execute(
            "UPDATE chunks SET raw_dropped = 1, readings = 0, data = ?"
            " WHERE sensor_id = ? AND hour = ?",
            (kept, sensor_id, hour),
        )
        removed += count
    return removed


def _row_bytes(row: ReadingRow) -> int:
    """A hot reading row's payload: key, five numbers, optional spectrum text."""
    spectrum = row[5]
    return 60 + (0 if spectrum is None else len(spectrum))
