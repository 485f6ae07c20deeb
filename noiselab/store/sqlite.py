"""The embedded time-series store: one SQLite file (``sqlite:///PATH``), stdlib ``sqlite3``.

Durability and concurrency
    WAL journal with ``synchronous=FULL``: every commit fsyncs the WAL, so a write is durable
    (power loss included) when ``write()`` returns. ``synchronous=NORMAL`` only survives a
    process crash and may lose the last transactions on power loss. On the 2-core test machines
    (fsync ≈ 0.15 ms) FULL and NORMAL measured the same within noise, as the one fsync per
    commit is spread over 1,000-10,000 readings; on a disk with slow fsync FULL costs that fsync
    per ``write()``. Several processes (an MQTT shared subscription) may write one file: each
    ``write()`` is one ``BEGIN IMMEDIATE`` transaction, which takes the write lock before
    reading anything, so the read-modify-write of the roll-ups cannot interleave; a writer waits
    up to ``busy_timeout_s`` for the lock.

Idempotence, immutability and roll-ups
    Readings are keyed ``(sensor_id, ts_ms)`` and never replaced. A write first reads, per
    sensor, the stored rows around its readings (one range query per contiguous stretch, after
    thawing the compacted hours among them): that tells which readings are new, which are
    re-deliveries equal to the stored row at the store's precision (skipped entirely) and which
    conflict with it (not written, returned in ``WriteResult.conflicts``; see
    ``noiselab.store.conflicts``), and it supplies the neighbours needed to recompute every
    minute touched by a new reading from all the raw rows overlapping it. So ``rollup_1m``
    always equals a recomputation from ``readings`` (``recompute_rollup_from_raw``), whatever
    the order, lateness or repetition of the data. ``sensor_state.max_duration_ms`` bounds how
    far before a minute a reading overlapping it can start; ``sensor_state.last_end_ms`` only
    grows. The hourly and daily tiers are recomputed from the changed minutes in the same
    transaction (``noiselab.store.sqlite_tiers``).

Tiers and compaction
    Levels of a minute or more come from the coarsest roll-up cells that answer each bucket
    exactly (``noiselab.store.sqlite_levels``, ``noiselab.store.tier_plan``). Hours older than
    the hot window are compacted into one compressed chunk per sensor-hour and thawed back
    when a write needs them (``noiselab.store.sqlite_chunks``); every query reads hot rows and
    chunks alike.

Key order
    ``PRIMARY KEY (sensor_id, ts_ms)`` in a ``WITHOUT ROWID`` table. ``(ts_ms, sensor_id)``
    appends in order and inserts fastest alone, but then reading one sensor's range (which every
    write and every ``1s`` query does) scans all sensors in that time range, and the index
    ``(sensor_id, ts_ms)`` that avoids it costs the same scattered page writes as the
    sensor-first key plus a second B-tree. Measured by ``benchmarks/store_write.py`` (bare
    INSERTs of 100 sensors into a table growing to 1 M rows; rows/s, then the time to read one
    sensor-hour back): sensor-first 260k at 10,000 rows per transaction and 175k at 1,000,
    1.6 ms; ts-first 366k and 362k, but 24 ms; ts-first with the index 250k and 144k, 7.3 ms.
Errors
    ``sqlite3`` errors become ``StoreUnavailable`` (busy, locked, disk full, I/O error, cannot
    open: retry) or ``StoreError``, raised ``from`` the driver error; a reading whose values
    the store cannot take raises ``ReadingRejected``.

An instance holds one connection and serialises its callers with a lock, so it may be shared by
threads; use one instance per process.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.analysis.corrections import RangeCorrection
from noiselab.errors import QueryError
from noiselab.model import Reading
from noiselab.store.base import (
    BandLevels,
    LevelPoint,
    SensorActivity,
    Series,
    ValidLevels,
    WriteResult,
)
from noiselab.store.chunk_codec import ChunkReadings
from noiselab.store.closing import ClosesOnExit
from noiselab.store.level_buckets import (
    MAX_POINTS,
    cells_within_width,
    checked_edges,
    parse_every,
    second_buckets,
    valid_levels,
)
from noiselab.store.level_ranges import RangeCells
from noiselab.store.span_sums import checked_spans
from noiselab.store.sqlite_answers import (
    cell_series,
    hourly_bands_of,
    reading_of,
    roll_up_rows,
    series_of,
)
from noiselab.store.sqlite_checks import SqliteChecks
from noiselab.store.sqlite_chunks import (
    ChunkStats,
    CompactionReport,
    chunk_readings,
    compact_hour,
    drop_raw,
    oldest_hot,
    oldest_hours,
    sensor_bytes,
)
from noiselab.store.sqlite_connection import configure, translated
from noiselab.store.sqlite_levels import minute_rows, tier_buckets
from noiselab.store.sqlite_schema import migrate
from noiselab.store.sqlite_spans import span_sums
from noiselab.store.sqlite_tiers import HOUR_MS, Tiers, day_zone
from noiselab.store.sqlite_weather import SqliteWeather
from noiselab.store.sqlite_write import Batch, RollupRow, Writer

__all__ = [
    "DEFAULT_HOT_WINDOW_S",
    "MAX_POINTS",
    "MAX_SPECTRA_ROWS",
    "CompactionReport",
    "RollupRow",
    "SqliteStore",
]

MAX_SERIES_ROWS = 5_000_000
"""Raw readings one ``series()`` call returns at most (about 160 MB of arrays)."""
MAX_SPECTRA_ROWS = 1_000_000
"""Readings with a spectrum one ``hourly_bands()`` call decodes at most (about 150 MB of
arrays for 18 bands: 11 days of 1-s readings, 1.9 years of 1-min readings)."""


_RAW = (
    "SELECT ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq, received_at FROM readings"
    " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms"
)

_COUNT = "SELECT count(*) FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?"
_COUNT_SPECTRA = _COUNT + " AND spectrum IS NOT NULL"
_COUNT_CHUNKS = (
    "SELECT coalesce(sum(readings), 0) FROM chunks WHERE sensor_id = ? AND hour >= ? AND hour < ?"
)
_SENSORS = "SELECT sensor_id FROM sensor_state ORDER BY sensor_id"
DEFAULT_HOT_WINDOW_S = 48 * 3600.0
"""Readings younger than this stay in the ``readings`` table (hot), older ones are compacted."""

_log = logging.getLogger(__name__)


class SqliteStore(SqliteWeather, SqliteChecks, ClosesOnExit):
    """A ``ReadingStore`` in one SQLite file, created and migrated on open (weather
    observations through :class:`~noiselab.store.sqlite_weather.SqliteWeather`, the roll-up
    checks through :class:`~noiselab.store.sqlite_checks.SqliteChecks`).

    ``synchronous`` is ``"FULL"`` (durable on return, the default) or ``"NORMAL"`` (for
    benchmarks and throw-away files: a power loss may drop the last transactions).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout_s: float = 30.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        with translated(f"opening {self.path}"):
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                configure(self._conn, synchronous)
                migrate(self._conn)
                self._day_zone = day_zone(self._conn)
                self._uncompactable: set[tuple[int, str]] = set()
            except BaseException:
                self._conn.close()
                raise

    def close(self) -> None:
        """Close the connection; the file stays valid. Further calls raise ``StoreError``."""
        with self._lock:
            self._conn.close()

    # -- writing ------------------------------------------------------------------------------

    def write(self, readings: Sequence[Reading], received_at: float) -> WriteResult:
        """Store the new ``readings`` in one durable transaction; re-deliveries change nothing
        and conflicting readings are returned, not written (see ``ReadingStore.write``).

        A key given twice in ``readings`` is stored once, with the first reading; a later
        different one is a conflict with it. ``received_at`` (Unix s) is stored with every
        inserted row.
        """
        if not readings:
            return WriteResult(0, 0)
        batch = Batch.of(readings, received_at)
        with self._lock, translated("write"), self._transaction():
            return Writer(self._conn, batch, Tiers(self._conn, self._day_zone)).run()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: the statements inside see the same committed state, so a
        compaction or write committed by another process in between (rows moving from
        ``readings`` to ``chunks``) can neither hide nor double a reading."""
        self._conn.execute("BEGIN")
        try:
            yield
        finally:
            with suppress(sqlite3.Error):
                self._conn.execute("COMMIT")

    # -- reading ------------------------------------------------------------------------------

    def levels(
        self,
        sensor_id: str,
        start: datetime,
        end: datetime,
        every: Every | str,
        zone: ZoneInfo = DEFAULT_ZONE,
    ) -> list[LevelPoint]:
        """Energetic levels of one sensor in ``every`` buckets covering ``[start, end)``.

        Buckets are whole buckets as ``bucket_edges`` aligns them (the first starts at or before
        ``start``, the last ends at or after ``end``) and include all their data. ``1s`` buckets
        come from the raw readings, coarser ones from ``rollup_1m``; L10/L50/L90 of coarser
        buckets come from the 0.1 dB histograms (within ±0.05 dB of the raw values). Coverage is
        capped at 1 (readings overlapping in time could exceed it). Raises ``QueryError`` for
        more than ``MAX_POINTS`` buckets or a bad range, before reading any data.
        """
        return self.valid_levels(sensor_id, start, end, every, zone).points

    def valid_levels(
        self,
        sensor_id: str,
        start: datetime,
        end: datetime,
        every: Every | str,
        zone: ZoneInfo = DEFAULT_ZONE,
        *,
        ranges: Sequence[RangeCorrection] = (),
    ) -> ValidLevels:
        """``levels`` with ``ranges`` applied (``ReadingStore.valid_levels``)."""
        step = parse_every(every)
        edges = checked_edges(start, end, step, zone)
        cells = RangeCells(ranges, edges.size - 1) if ranges else None
        with self._lock, translated("levels query"), self._snapshot():
            if step is Every.S1:
                lookback = self._max_duration_ms(sensor_id)
                raw = self._raw(sensor_id, int(edges[0]) * 1000 - lookback, int(edges[-1]) * 1000)
                buckets = second_buckets(edges, roll_up_rows(raw), cells)
            else:
                buckets = tier_buckets(self._conn, sensor_id, edges, zone, self._day_zone, cells)
        return valid_levels(buckets, edges, cells)

    def _raw(self, sensor_id: str, first_ms: int, end_ms: int) -> ChunkReadings:
        """The readings of one sensor with ``first_ms <= ts_ms < end_ms``, hot and compacted,
        as columns by ts."""
        hot = ChunkReadings.from_rows(
            self._conn.execute(_RAW, (sensor_id, first_ms, end_ms)).fetchall()
        )
        cold = chunk_readings(self._conn, sensor_id, first_ms, end_ms)
        if cold is None:
            return hot
        return ChunkReadings.merged([cold, hot])

    def _count(self, sensor_id: str, first_ms: int, end_ms: int, *, spectra: bool = False) -> int:
        """How many readings (with a spectrum) ``_raw`` would return; compacted hours count
        whole (an upper bound at the range's ends)."""
        args = (sensor_id, first_ms, end_ms)
        hot = self._conn.execute(_COUNT_SPECTRA if spectra else _COUNT, args).fetchone()[0]
        cold = self._conn.execute(
            _COUNT_CHUNKS, (sensor_id, first_ms // HOUR_MS, -(-end_ms // HOUR_MS))
        ).fetchone()[0]
        return int(hot) + int(cold)

    def series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The raw readings of one sensor with ``start <= ts < end``, as arrays by ``ts``.

        The count is checked first, over whole compacted hours (an upper bound there)."""
        lo, hi = _ms_range(start, end)
        with self._lock, translated("series query"), self._snapshot():
            count = self._count(sensor_id, lo, hi)
            if count > MAX_SERIES_ROWS:
                raise QueryError(
                    f"{count:,} readings in that range, more than {MAX_SERIES_ROWS:,}: "
                    "ask for a shorter range"
                )
            raw = self._raw(sensor_id, lo, hi)
        return Series(raw.ts_ms / 1000.0, raw.laeq, raw.duration, raw.lafmax)

    def minute_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The per-minute roll-up of one sensor for minutes starting in ``[start, end)``."""
        lo, hi = _ms_range(start, end)
        with self._lock, translated("minute series query"), self._snapshot():
            rows = minute_rows(self._conn, sensor_id, -(-lo // 60_000), -(-hi // 60_000))
        return cells_within_width(cell_series(rows, 60.0), 60.0)

    def minute_sums(self, sensor_id: str, starts: FloatArray, ends: FloatArray) -> Series:
        """The per-minute roll-up summed over spans (``ReadingStore.minute_sums``), hot minutes
        by SQLite, compacted ones from their chunks (``noiselab.store.sqlite_spans``)."""
        spans = checked_spans(starts, ends)
        with self._lock, translated("minute sums query"), self._snapshot():
            sums = span_sums(self._conn, sensor_id, *spans)
        return sums.series(*spans)

    def hour_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The hourly roll-up of one sensor for the UTC hours starting in ``[start, end)``."""
        lo, hi = _ms_range(start, end)
        with self._lock, translated("hour series query"):
            rows = self._conn.execute(
                "SELECT hour * 3600.0, 10.0 * log10(energy / seconds), seconds, lafmax"
                " FROM rollup_1h WHERE sensor_id = ? AND hour >= ? AND hour < ? ORDER BY hour",
                (sensor_id, -(-lo // HOUR_MS), -(-hi // HOUR_MS)),
            ).fetchall()
        return cells_within_width(series_of(rows), 3600.0)

    def hourly_bands(self, sensor_id: str, start: datetime, end: datetime) -> BandLevels:
        """Hourly energetic band levels of the readings with a spectrum, ``start <= ts < end``.

        The spectra are decoded in one ``msgspec`` call and summed per hour with numpy.
        """
        lo, hi = _ms_range(start, end)
        with self._lock, translated("band levels query"), self._snapshot():
            count = self._count(sensor_id, lo, hi, spectra=True)
            if count > MAX_SPECTRA_ROWS:
                raise QueryError(
                    f"{count:,} readings with spectra in that range, more than "
                    f"{MAX_SPECTRA_ROWS:,}: ask for a shorter range"
                )
            raw = self._raw(sensor_id, lo, hi)
        rows = [
            (ts, duration, spectrum)
            for ts, duration, spectrum in zip(
                raw.ts_ms.tolist(), raw.duration.tolist(), raw.spectrum, strict=True
            )
            if spectrum is not None
        ]
        return hourly_bands_of(rows)

    def _max_duration_ms(self, sensor_id: str) -> int:
        row = self._conn.execute(
            "SELECT max_duration_ms FROM sensor_state WHERE sensor_id = ?", (sensor_id,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    # -- compaction and retention -------------------------------------------------------------

    def compact(
        self,
        older_than_s: float = DEFAULT_HOT_WINDOW_S,
        *,
        now: float | None = None,
        max_hours: int | None = None,
        hours_per_transaction: int = 24,
    ) -> CompactionReport:
        """Move the sensor-hours that ended more than ``older_than_s`` before ``now`` into
        their compressed chunks (``noiselab.store.sqlite_chunks``), oldest first across
        sensors, ``hours_per_transaction`` at a time so that writes wait at most one
        transaction, at most ``max_hours`` in this call. Safe to interrupt at any point.

        ``pending`` in the report is an upper bound of the sensor-hours still waiting (hours
        from each sensor's oldest hot reading to the cutoff), ``lag_s`` how far the oldest
        hot reading lies before the cutoff. An hour the codec cannot encode is logged, left
        hot and not tried again by this instance.
        """
        started = time.monotonic()
        clock = time.time() if now is None else now
        cutoff_ms = int((clock - older_than_s) * 1000) // HOUR_MS * HOUR_MS
        with self._lock, translated("compaction scan"), self._snapshot():
            sensors = [row[0] for row in self._conn.execute(_SENSORS).fetchall()]
            todo = oldest_hours(self._conn, sensors, cutoff_ms, max_hours, self._uncompactable)
        done: list[ChunkStats] = []
        left_hot = 0
        for first in range(0, len(todo), hours_per_transaction):
            with self._lock, translated("compaction"), self._transaction():
                for hour, sensor_id in todo[first : first + hours_per_transaction]:
                    try:
                        stats = compact_hour(self._conn, sensor_id, hour)
                    except ValueError as exc:
                        _log.warning("left %s hour %d uncompacted: %s", sensor_id, hour, exc)
                        self._uncompactable.add((hour, sensor_id))
                        left_hot += 1
                        continue
                    if stats is not None:
                        done.append(stats)
        with self._lock, translated("compaction lag"), self._snapshot():
            waiting = oldest_hot(self._conn, sensors, cutoff_ms)
        return CompactionReport(
            chunks=len(done),
            readings=sum(d.readings for d in done),
            chunk_bytes=sum(d.chunk_bytes for d in done),
            hot_bytes=sum(d.hot_bytes for d in done),
            left_hot=left_hot,
            pending=sum(cutoff_ms // HOUR_MS - ts // HOUR_MS for ts in waiting),
            lag_s=(cutoff_ms - min(waiting)) / 1000.0 if waiting else 0.0,
            seconds=time.monotonic() - started,
        )

    def drop_raw_before(
        self, days: float, *, now: float | None = None, max_hours: int | None = None
    ) -> int:
        """Retention: remove the raw readings of compacted hours that ended more than ``days``
        ago (the oldest ``max_hours`` sensor-hours of them at most), keeping every roll-up
        tier; returns how many readings were removed. Only compacted hours lose readings, so
        ``days`` must exceed the hot window for it to act on everything that old."""
        clock = time.time() if now is None else now
        cutoff_ms = int((clock - days * 86_400) * 1000) // HOUR_MS * HOUR_MS
        with self._lock, translated("retention"), self._transaction():
            return drop_raw(self._conn, cutoff_ms, max_hours)

    def disk_usage(self) -> dict[str, int]:
        """Bytes on disk per sensor: each table's pages (``dbstat``) shared out by the
        sensor's rows in it, compacted chunks by their size. The file's free pages and the
        WAL are not counted."""
        with self._lock, translated("disk usage"), self._snapshot():
            return sensor_bytes(self._conn)

    def activity(self) -> list[SensorActivity]:
        """Per sensor: the end of its latest reading and when the write storing it arrived."""
        with self._lock, translated("activity query"):
            rows = self._conn.execute(
                "SELECT sensor_id, last_end_ms, last_received FROM sensor_state ORDER BY sensor_id"
            ).fetchall()
        return [SensorActivity(sid, end / 1000.0, received) for sid, end, received in rows]

    def readings(self, sensor_id: str, start_ts: float, end_ts: float) -> list[Reading]:
        """The stored readings of one sensor with ``start_ts <= ts < end_ts`` (Unix s), by ts.

        ``ts`` comes back at the store's millisecond resolution, levels of compacted hours at
        0.01 dB (``noiselab.store.chunk_codec``).
        """
        with self._lock, translated("readings query"), self._snapshot():
            raw = self._raw(sensor_id, round(start_ts * 1000.0), round(end_ts * 1000.0))
        return [reading_of(sensor_id, row[:7]) for row in raw.rows()]

    def count_readings(self, sensor_id: str | None = None) -> int:
        """How many readings are stored, hot and compacted (of one sensor, or of all)."""
        with self._lock, translated("count query"), self._snapshot():
            if sensor_id is None:
                hot = self._conn.execute("SELECT count(*) FROM readings").fetchone()
                cold = self._conn.execute(
                    "SELECT coalesce(sum(readings), 0) FROM chunks"
                ).fetchone()
            else:
                hot = self._conn.execute(
                    "SELECT count(*) FROM readings WHERE sensor_id = ?", (sensor_id,)
                ).fetchone()
                cold = self._conn.execute(
                    "SELECT coalesce(sum(readings), 0) FROM chunks WHERE sensor_id = ?",
                    (sensor_id,),
                ).fetchone()
        return int(hot[0]) + int(cold[0])


def _ms_range(start: datetime, end: datetime) -> tuple[int, int]:
    if start.tzinfo is None or end.tzinfo is None:
        raise QueryError("start and end must carry a time zone")
    if not start < end:
        raise QueryError("start must be before end")
    return round(start.timestamp() * 1000.0), round(end.timestamp() * 1000.0)
