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

Idempotence and roll-ups
    Readings are keyed ``(sensor_id, ts_ms)``, last write wins. A write first reads, per sensor,
    the stored rows around its readings (one range query per contiguous stretch): that tells
    which readings are new, which replace a different stored reading and which are identical
    re-deliveries (skipped entirely), and it supplies the neighbours needed to recompute every
    minute touched by a changed reading (under its new and its old interval) from all the raw
    rows overlapping it. So ``rollup_1m`` always equals a recomputation from ``readings``
    (``recompute_rollup_from_raw``), whatever the order, lateness or repetition of the data.
    ``sensor_state.max_duration_ms`` bounds how far before a minute a reading overlapping it can
    start. ``sensor_state.last_end_ms`` only grows: after a replacement shortens the latest
    reading it stays at the old end.

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

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.errors import QueryError, StoreError, StoreUnavailable
from noiselab.model import Reading, Spectrum
from noiselab.store.base import BandLevels, LevelPoint, SensorActivity, Series, WriteResult
from noiselab.store.closing import ClosesOnExit
from noiselab.store.level_buckets import (
    MAX_POINTS,
    Buckets,
    checked_edges,
    minute_buckets,
    parse_every,
    second_buckets,
)
from noiselab.store.sqlite_rollup import minute_keys, rollup_minutes
from noiselab.store.sqlite_schema import migrate
from noiselab.store.sqlite_write import Batch, Record, RollupRow, Writer, rollup_changes, rows_of

__all__ = ["MAX_POINTS", "MAX_SPECTRA_ROWS", "RollupRow", "SqliteStore"]

MAX_SERIES_ROWS = 5_000_000
"""Raw readings one ``series()`` call returns at most (about 160 MB of arrays)."""
MAX_SPECTRA_ROWS = 1_000_000
"""Readings with a spectrum one ``hourly_bands()`` call decodes at most (about 150 MB of
arrays for 18 bands: 11 days of 1-s readings, 1.9 years of 1-min readings)."""


_RETRYABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,  # a disk or volume hiccup
        sqlite3.SQLITE_CANTOPEN,  # a volume not (yet) mounted
    }
)
# Checkpoint the WAL every 10,000 pages (40 MB) rather than SQLite's 1,000: pages rewritten by
# consecutive commits (each sensor's last leaf, the roll-ups) are copied back once, not ten times
# (+10 % write throughput measured); the WAL file is truncated back to 64 MB after a checkpoint.
_CHECKPOINT_PAGES = 10_000
_WAL_LIMIT_BYTES = 64 * 1024 * 1024


class SqliteStore(ClosesOnExit):
    """A ``ReadingStore`` in one SQLite file, created and migrated on open.

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
        with _translated(f"opening {self.path}"):
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                _configure(self._conn, synchronous)
                migrate(self._conn)
            except BaseException:
                self._conn.close()
                raise

    def close(self) -> None:
        """Close the connection; the file stays valid. Further calls raise ``StoreError``."""
        with self._lock:
            self._conn.close()

    # -- writing ------------------------------------------------------------------------------

    def write(self, readings: Sequence[Reading], received_at: float) -> WriteResult:
        """Store ``readings`` in one durable transaction, idempotently (last write wins).

        A key given twice in ``readings`` counts once, with the later reading. ``received_at``
        (Unix s) is stored with every inserted or replaced row.
        """
        if not readings:
            return WriteResult(0, 0, 0)
        batch = Batch.of(readings, received_at)
        with self._lock, _translated("write"), self._transaction():
            return Writer(self._conn, batch).run()

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
        step = parse_every(every)
        edges = checked_edges(start, end, step, zone)
        with self._lock, _translated("levels query"):
            if step is Every.S1:
                buckets = self._second_buckets(sensor_id, edges)
            else:
                buckets = self._minute_buckets(sensor_id, edges)
        return buckets.points(edges)

    def _minute_buckets(self, sensor_id: str, edges: FloatArray) -> Buckets:
        """Buckets of whole minutes, from ``rollup_1m``."""
        minute_edges = (edges // 60).astype(np.int64)
        rows = self._conn.execute(
            "SELECT minute, energy, seconds, lafmax, hist FROM rollup_1m"
            " WHERE sensor_id = ? AND minute >= ? AND minute < ?",
            (sensor_id, int(minute_edges[0]), int(minute_edges[-1])),
        ).fetchall()
        if not rows:
            return Buckets.empty()
        minute, energies, seconds, lafmax, hists = zip(*rows, strict=True)
        return minute_buckets(
            edges,
            minute=np.array(minute, np.int64),
            energies=np.array(energies, np.float64),
            seconds=np.array(seconds, np.float64),
            lafmax=np.array(lafmax, np.float64),
            hists=hists,
        )

    def _second_buckets(self, sensor_id: str, edges: FloatArray) -> Buckets:
        """1-s buckets from the raw readings overlapping them (spread like the roll-up)."""
        lookback = self._max_duration_ms(sensor_id)
        rows = rows_of(
            self._conn.execute(
                "SELECT ts_ms, duration, laeq, lafmax, lafmin FROM readings"
                " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
                (sensor_id, int(edges[0]) * 1000 - lookback, int(edges[-1]) * 1000),
            ).fetchall()
        )
        return second_buckets(edges, rows)

    def series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The raw readings of one sensor with ``start <= ts < end``, as arrays by ``ts``."""
        lo, hi = _ms_range(start, end)
        with self._lock, _translated("series query"):
            count = self._conn.execute(
                "SELECT count(*) FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
                (sensor_id, lo, hi),
            ).fetchone()[0]
            if count > MAX_SERIES_ROWS:
                raise QueryError(
                    f"{count:,} readings in that range, more than {MAX_SERIES_ROWS:,}: "
                    "ask for a shorter range"
                )
            rows = self._conn.execute(
                "SELECT ts_ms / 1000.0, laeq, duration, lafmax FROM readings"
                " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms",
                (sensor_id, lo, hi),
            ).fetchall()
        return _series(rows)

    def minute_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The per-minute roll-up of one sensor for minutes starting in ``[start, end)``."""
        lo, hi = _ms_range(start, end)
        with self._lock, _translated("minute series query"):
            rows = self._conn.execute(
                "SELECT minute * 60.0, 10.0 * log10(energy / seconds), seconds, lafmax"
                " FROM rollup_1m WHERE sensor_id = ? AND minute >= ? AND minute < ?"
                " AND seconds > 0 ORDER BY minute",
                (sensor_id, -(-lo // 60_000), -(-hi // 60_000)),
            ).fetchall()
        return _within_width(_series(rows), 60.0)

    def hour_series(self, sensor_id: str, start: datetime, end: datetime) -> Series:
        """The hourly roll-up of one sensor for the UTC hours starting in ``[start, end)``."""
        lo, hi = _ms_range(start, end)
        first, last = -(-lo // 3_600_000), -(-hi // 3_600_000)
        with self._lock, _translated("hour series query"):
            rows = self._conn.execute(
                "SELECT (minute / 60) * 3600.0, 10.0 * log10(sum(energy) / sum(seconds)),"
                " sum(seconds), max(lafmax) FROM rollup_1m WHERE sensor_id = ? AND minute >= ?"
                " AND minute < ? AND seconds > 0 GROUP BY minute / 60 ORDER BY minute / 60",
                (sensor_id, first * 60, last * 60),
            ).fetchall()
        return _within_width(_series(rows), 3600.0)

    def hourly_bands(self, sensor_id: str, start: datetime, end: datetime) -> BandLevels:
        """Hourly energetic band levels of the readings with a spectrum, ``start <= ts < end``.

        The spectra are decoded in one ``msgspec`` call and summed per hour with numpy.
        """
        lo, hi = _ms_range(start, end)
        with self._lock, _translated("band levels query"):
            count = self._conn.execute(
                "SELECT count(*) FROM readings WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?"
                " AND spectrum IS NOT NULL",
                (sensor_id, lo, hi),
            ).fetchone()[0]
            if count > MAX_SPECTRA_ROWS:
                raise QueryError(
                    f"{count:,} readings with spectra in that range, more than "
                    f"{MAX_SPECTRA_ROWS:,}: ask for a shorter range"
                )
            rows = self._conn.execute(
                "SELECT ts_ms, duration, spectrum FROM readings WHERE sensor_id = ? AND ts_ms >= ?"
                " AND ts_ms < ? AND spectrum IS NOT NULL ORDER BY ts_ms",
                (sensor_id, lo, hi),
            ).fetchall()
        return _hourly_bands(rows)

    def _max_duration_ms(self, sensor_id: str) -> int:
        row = self._conn.execute(
            "SELECT max_duration_ms FROM sensor_state WHERE sensor_id = ?", (sensor_id,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def activity(self) -> list[SensorActivity]:
        """Per sensor: the end of its latest reading and when the write storing it arrived."""
        with self._lock, _translated("activity query"):
            rows = self._conn.execute(
                "SELECT sensor_id, last_end_ms, last_received FROM sensor_state ORDER BY sensor_id"
            ).fetchall()
        return [SensorActivity(sid, end / 1000.0, received) for sid, end, received in rows]

    def readings(self, sensor_id: str, start_ts: float, end_ts: float) -> list[Reading]:
        """The stored readings of one sensor with ``start_ts <= ts < end_ts`` (Unix s), by ts.

        ``ts`` comes back at the store's millisecond resolution.
        """
        with self._lock, _translated("readings query"):
            rows = self._conn.execute(
                "SELECT ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq FROM readings"
                " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
                (sensor_id, round(start_ts * 1000.0), round(end_ts * 1000.0)),
            ).fetchall()
        return [_reading(sensor_id, row) for row in rows]

    def count_readings(self, sensor_id: str | None = None) -> int:
        """How many readings are stored (of one sensor, or of all)."""
        with self._lock, _translated("count query"):
            if sensor_id is None:
                row = self._conn.execute("SELECT count(*) FROM readings").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT count(*) FROM readings WHERE sensor_id = ?", (sensor_id,)
                ).fetchone()
        return int(row[0])

    def rollup_rows(self, sensor_id: str) -> list[RollupRow]:
        """The stored ``rollup_1m`` rows of one sensor, by minute."""
        with self._lock, _translated("roll-up query"):
            rows = self._conn.execute(
                "SELECT * FROM rollup_1m WHERE sensor_id = ? ORDER BY minute", (sensor_id,)
            ).fetchall()
        return [tuple(row) for row in rows]

    def recompute_rollup_from_raw(self, sensor_id: str) -> list[RollupRow]:
        """The ``rollup_1m`` rows of one sensor computed afresh from all its raw readings.

        Equal to ``rollup_rows(sensor_id)`` after any sequence of writes (bit for bit).
        """
        with self._lock, _translated("roll-up recomputation"):
            raw = self._conn.execute(
                "SELECT ts_ms, duration, laeq, lafmax, lafmin FROM readings WHERE sensor_id = ?",
                (sensor_id,),
            ).fetchall()
        rows = rows_of(raw)
        keys = minute_keys(rows.code, rows.ts_ms, rows.end_ms)
        puts, _ = rollup_changes(rollup_minutes(rows, keys), [sensor_id])
        return puts


# -- query helpers ------------------------------------------------------------------------------


# -- small helpers ------------------------------------------------------------------------------


def _ms_range(start: datetime, end: datetime) -> tuple[int, int]:
    if start.tzinfo is None or end.tzinfo is None:
        raise QueryError("start and end must carry a time zone")
    if not start < end:
        raise QueryError("start must be before end")
    return round(start.timestamp() * 1000.0), round(end.timestamp() * 1000.0)


def _series(rows: list[tuple[float, float, float, float | None]]) -> Series:
    if not rows:
        empty = np.empty(0, np.float64)
        return Series(empty, empty, empty, empty)
    arr = np.array(rows, dtype=np.float64)  # NULL lafmax becomes NaN
    return Series(
        np.ascontiguousarray(arr[:, 0]),
        np.ascontiguousarray(arr[:, 1]),
        np.ascontiguousarray(arr[:, 2]),
        np.ascontiguousarray(arr[:, 3]),
    )


def _within_width(minutes: Series, width_s: float) -> Series:
    """Roll-up cells (minutes, hours) of ``width_s`` as readings that never reach past their
    cell.

    Overlapping readings (re-sent with jittered timestamps) can give a minute more than 60
    measured seconds; as one reading from the minute's start it would reach into the next
    minute, perhaps the next day period. Such a cell becomes ``k = ceil(seconds / width)`` equal
    readings starting at the cell: the same energy and seconds, none past the cell's end.
    """
    pieces = np.ceil(minutes.duration / width_s).astype(np.int64)
    if minutes.ts.size == 0 or pieces.max() <= 1:
        return minutes
    rows = np.repeat(np.arange(minutes.ts.size), pieces)
    return Series(
        minutes.ts[rows],
        minutes.laeq[rows],
        (minutes.duration / pieces)[rows],
        minutes.lafmax[rows],
    )


def _hourly_bands(rows: list[tuple[int, float, str]]) -> BandLevels:
    """Sum ``(ts_ms, duration, spectrum JSON)`` rows into energetic band levels per UTC hour."""
    if not rows:
        empty = np.zeros(0)
        return BandLevels(empty, empty, np.zeros((0, 0)), empty)
    ts_ms, durations, texts = zip(*rows, strict=True)
    spectra = msgspec.json.decode(f"[{','.join(texts)}]", type=list[Spectrum])
    bands = spectra[0].bands_hz
    keep = np.fromiter((s.bands_hz == bands for s in spectra), bool, len(spectra))
    lzeq = np.array([s.lzeq for s, k in zip(spectra, keep, strict=True) if k], np.float64)
    seconds = np.asarray(durations, np.float64)[keep]
    hours = np.asarray(ts_ms, np.int64)[keep] // 3_600_000  # ascending: rows are by ts
    starts = np.flatnonzero(np.r_[True, hours[1:] != hours[:-1]])
    energy = np.add.reduceat(seconds[:, None] * np.power(10.0, lzeq / 10.0), starts, axis=0)
    per_hour = np.add.reduceat(seconds, starts)
    return BandLevels(
        t=hours[starts].astype(np.float64) * 3600.0,
        bands_hz=np.asarray(bands, np.float64),
        lzeq=10.0 * np.log10(energy / per_hour[:, None]),
        seconds=per_hour,
    )


def _configure(conn: sqlite3.Connection, synchronous: str) -> None:
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"could not switch {conn!r} to WAL (journal_mode is {mode})")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")


def _reading(sensor_id: str, row: Record) -> Reading:
    ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq = row
    return Reading(
        sensor_id=sensor_id,
        ts=ts_ms / 1000.0,
        laeq=laeq,
        duration=duration,
        lafmax=lafmax,
        lafmin=lafmin,
        spectrum=None if spectrum is None else msgspec.json.decode(spectrum, type=Spectrum),
        seq=seq,
    )


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Raise ``sqlite3`` errors as ``StoreUnavailable`` (retryable) or ``StoreError``."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        message = f"sqlite {action} failed: {exc}"
        if code is not None and code & 0xFF in _RETRYABLE:
            raise StoreUnavailable(message) from exc
        raise StoreError(message) from exc
