"""The embedded time-series store: one SQLite file (``sqlite:///PATH``), stdlib ``sqlite3``.

Durability and concurrency
    WAL journal with ``synchronous=FULL``: every commit fsyncs the WAL, so a write is durable
    (power loss included) when ``write()`` returns. ``synchronous=NORMAL`` would only survive a
    process crash and may lose the last transactions on power loss. Several processes (an MQTT
    shared subscription) may write one file: each ``write()`` is one ``BEGIN IMMEDIATE``
    transaction, which takes the write lock before reading anything, so the read-modify-write of
    the roll-ups cannot interleave; a writer waits up to ``busy_timeout_s`` for the lock.

Idempotence and roll-ups
    Readings are keyed ``(sensor_id, ts_ms)``, last write wins. A write first reads, per sensor,
    the stored rows around its readings (one range query per contiguous stretch): that tells which
    readings are new, which replace a different stored reading and which are identical
    re-deliveries (skipped entirely), and it supplies the neighbours needed to recompute every
    minute touched by a changed reading (under its new and its old interval) from all the raw
    rows overlapping it. So ``rollup_1m`` always equals a recomputation from ``readings``
    (``recompute_rollup_from_raw``), whatever the order, lateness or repetition of the data.
    ``sensor_state.max_duration_ms`` bounds how far before a minute a reading overlapping it can
    start.

Key order
    ``PRIMARY KEY (sensor_id, ts_ms)`` in a ``WITHOUT ROWID`` table. ``(ts_ms, sensor_id)``
    appends in order and inserts faster alone, but the per-sensor range queries of every write
    and every level query then need a second index ``(sensor_id, ts_ms)``, which costs the same
    scattered page writes on insert as the sensor-first key, and each range scan pays a lookup
    per row. ``benchmarks/store_write.py`` measures both for our writes.

Errors
    ``sqlite3`` errors become ``StoreUnavailable`` (busy, locked, disk full: retry) or
    ``StoreError``, raised ``from`` the driver error.

An instance holds one connection and serialises its callers with a lock, so it may be shared by
threads; use one instance per process.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from types import TracebackType
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.analysis.levels import energy, exceedance_levels_by_group, level_from_energy
from noiselab.errors import QueryError, StoreError, StoreUnavailable
from noiselab.model import Reading, Spectrum
from noiselab.store.base import LevelPoint, SensorActivity, WriteResult
from noiselab.store.sqlite_rollup import (
    MINUTE_MS,
    MinuteRollup,
    Rows,
    bins_fit,
    decode_hist,
    duration_ms,
    merge_hists,
    minute_key,
    minute_keys,
    rollup_minutes,
    split_key,
    spread,
    sum_by,
)
from noiselab.store.sqlite_schema import migrate

__all__ = ["MAX_POINTS", "RollupRow", "SqliteStore"]

MAX_POINTS = 100_000
"""Most buckets one ``levels()`` query may return."""

RollupRow = tuple[str, int, float, float, float | None, float | None, bytes]
"""A ``rollup_1m`` row: sensor_id, minute, energy, seconds, lafmax, lafmin, hist."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Record = tuple[Any, ...]

_TS_SHIFT = 42  # reading keys are ``code << 42 | ts_ms``: ts_ms below 2**42 reaches year 2109
_TS_LIMIT = 1 << _TS_SHIFT
_RETRYABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL})
_SHORTEST_DAY_S = 23 * 3600
# Checkpoint the WAL every 10,000 pages (40 MB) rather than SQLite's 1,000: pages rewritten by
# consecutive commits (each sensor's last leaf, the roll-ups) are copied back once, not ten times
# (+10 % write throughput measured); the WAL file is truncated back to 64 MB after a checkpoint.
_CHECKPOINT_PAGES = 10_000
_WAL_LIMIT_BYTES = 64 * 1024 * 1024

_INSERT = "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_REPLACE = "INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_NEIGHBOURS = (
    "SELECT ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq FROM readings"
    " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?"
)
_LOOKBACK = (
    "SELECT sensor_id, max_duration_ms FROM sensor_state"
    " WHERE sensor_id IN (SELECT value FROM json_each(?))"
)
_PUT_ROLLUP = "INSERT OR REPLACE INTO rollup_1m VALUES (?, ?, ?, ?, ?, ?, ?)"
_DROP_ROLLUP = "DELETE FROM rollup_1m WHERE sensor_id = ? AND minute = ?"
_PUT_STATE = """
INSERT INTO sensor_state VALUES (?, ?, ?, ?, ?)
ON CONFLICT (sensor_id) DO UPDATE SET
    max_duration_ms = max(max_duration_ms, excluded.max_duration_ms),
    last_ts_ms = max(last_ts_ms, excluded.last_ts_ms),
    last_received = CASE WHEN excluded.last_end_ms >= last_end_ms
                         THEN excluded.last_received ELSE last_received END,
    last_end_ms = max(last_end_ms, excluded.last_end_ms)
"""


class SqliteStore:
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

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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
        batch = _Batch.of(readings, received_at)
        with self._lock, _translated("write"), self._transaction():
            return _Writer(self._conn, batch).run()

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
        self, sensor_id: str, start: datetime, end: datetime, every: Every | str
    ) -> list[LevelPoint]:
        """Energetic levels of one sensor in ``every`` buckets covering ``[start, end)``.

        Buckets are whole buckets as ``bucket_edges`` aligns them (the first starts at or before
        ``start``, the last ends at or after ``end``) and include all their data. ``1s`` buckets
        come from the raw readings, coarser ones from ``rollup_1m``; L10/L50/L90 of coarser
        buckets come from the 0.1 dB histograms (within ±0.05 dB of the raw values). Coverage is
        capped at 1 (readings overlapping in time could exceed it). Raises ``QueryError`` for
        more than ``MAX_POINTS`` buckets or a bad range, before reading any data.
        """
        try:
            step = Every(every)
        except ValueError:
            choices = ", ".join(e.value for e in Every)
            raise QueryError(f"every must be one of {choices}, not {every!r}") from None
        edges = _checked_edges(start, end, step)
        with self._lock, _translated("levels query"):
            if step is Every.S1:
                buckets = self._second_buckets(sensor_id, edges)
            else:
                buckets = self._minute_buckets(sensor_id, edges)
        return buckets.points(edges)

    def _minute_buckets(self, sensor_id: str, edges: FloatArray) -> _Buckets:
        """Buckets of whole minutes, from ``rollup_1m``."""
        minute_edges = (edges // 60).astype(np.int64)
        rows = self._conn.execute(
            "SELECT minute, energy, seconds, lafmax, hist FROM rollup_1m"
            " WHERE sensor_id = ? AND minute >= ? AND minute < ?",
            (sensor_id, int(minute_edges[0]), int(minute_edges[-1])),
        ).fetchall()
        if not rows:
            return _Buckets.empty()
        minute, energies, seconds, lafmax, hists = zip(*rows, strict=True)
        bucket = np.searchsorted(minute_edges, np.array(minute, np.int64), side="right") - 1
        bins, ms = decode_hist(b"".join(hists))
        counts = np.fromiter(map(len, hists), np.int64, len(hists)) // 6
        group, bins, ms = merge_hists(np.repeat(bucket, counts), bins, ms, edges.size - 1)
        return _Buckets.of(
            edges.size - 1,
            bucket=bucket,
            energies=np.array(energies, np.float64),
            seconds=np.array(seconds, np.float64),
            lafmax=np.array(lafmax, np.float64),
            levels=(group, bins / 10.0, ms),
        )

    def _second_buckets(self, sensor_id: str, edges: FloatArray) -> _Buckets:
        """1-s buckets from the raw readings overlapping them (spread like the roll-up)."""
        first_s = int(edges[0])
        lookback = self._max_duration_ms(sensor_id)
        rows = _rows_of(
            self._conn.execute(
                "SELECT ts_ms, duration, laeq, lafmax, lafmin FROM readings"
                " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
                (sensor_id, first_s * 1000 - lookback, int(edges[-1]) * 1000),
            ).fetchall()
        )
        row, cell, ms = spread(rows.ts_ms, rows.end_ms, 1000)
        bucket = cell - first_s
        inside = (bucket >= 0) & (bucket < edges.size - 1)
        row, bucket, ms = row[inside], bucket[inside], ms[inside]
        if row.size == 0:
            return _Buckets.empty()
        laeq = rows.laeq[row]
        order = np.lexsort((laeq, bucket))
        return _Buckets.of(
            edges.size - 1,
            bucket=bucket,
            energies=energy(laeq, ms / 1000.0),
            seconds=ms / 1000.0,
            lafmax=rows.lafmax[row],
            levels=(bucket[order], laeq[order], ms[order]),
        )

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
        rows = _rows_of(raw)
        keys = minute_keys(rows.code, rows.ts_ms, rows.end_ms)
        puts, _ = _rollup_changes(rollup_minutes(rows, keys), [sensor_id])
        return puts


# -- write path ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Batch:
    """The readings of one ``write()``, deduplicated (later wins) and sorted by sensor and ts.

    ``rows`` holds the numbers the roll-up needs; ``columns`` the ``readings`` table columns in
    arrival order, ``origin[i]`` being the arrival index of sorted row ``i``. Sensor ``code``
    ``c`` is ``sensor_ids[c]``. Rows are kept as columns, not tuples, so that a large batch does
    not set off the cyclic garbage collector.
    """

    sensor_ids: list[str]
    rows: Rows
    duration_ms: IntArray
    origin: npt.NDArray[np.intp]
    columns: tuple[Sequence[Any], ...]
    received_at: float

    @classmethod
    def of(cls, readings: Sequence[Reading], received_at: float) -> _Batch:
        sids = [r.sensor_id for r in readings]
        codes = {sid: i for i, sid in enumerate(dict.fromkeys(sids))}
        code = np.fromiter(map(codes.__getitem__, sids), np.int64, len(sids))
        ts_ms = _ts_ms(np.array([r.ts for r in readings], np.float64))
        durations = [r.duration for r in readings]
        laeq = [r.laeq for r in readings]
        laeq_db = np.array(laeq, np.float64)
        dur_ms = _checked(readings, ts_ms, np.array(durations, np.float64), laeq_db)
        lafmax = [r.lafmax for r in readings]
        lafmin = [r.lafmin for r in readings]
        origin = _last_of_each_key(code, ts_ms)
        rows = Rows(
            code,
            ts_ms,
            ts_ms + dur_ms,
            laeq_db,
            np.array(lafmax, np.float64),
            np.array(lafmin, np.float64),
        )
        columns = (
            sids,
            ts_ms.tolist(),
            durations,
            laeq,
            lafmax,
            lafmin,
            [None if r.spectrum is None else _spectrum_json(r.spectrum) for r in readings],
            [r.seq for r in readings],
        )
        return cls(list(codes), rows.take(origin), dur_ms[origin], origin, columns, received_at)

    def values(self, i: int) -> Record:
        """``(duration, laeq, lafmax, lafmin, spectrum, seq)`` of sorted row ``i``."""
        j = int(self.origin[i])
        return tuple(column[j] for column in self.columns[2:])

    def records(self, selected: npt.NDArray[np.bool_]) -> Iterator[Record]:
        """``readings`` rows of the selected sorted rows, made one at a time."""
        index = self.origin[selected].tolist()
        if index == list(range(len(self.columns[0]))):
            picked: Sequence[Sequence[Any]] = self.columns
        else:
            pick = itemgetter(*index, index[0])  # a tuple out even for one index
            picked = [pick(column)[:-1] for column in self.columns]
        return zip(*picked, repeat(self.received_at, len(index)), strict=True)


def _spectrum_json(spectrum: Spectrum) -> str:
    return msgspec.json.encode(spectrum).decode()


def _ts_ms(ts: FloatArray) -> IntArray:
    """``noiselab.model.ts_key`` over an array (the same half-to-even rounding)."""
    with np.errstate(invalid="ignore"):
        return np.rint(ts * 1000.0).astype(np.int64)


def _checked(
    readings: Sequence[Reading], ts_ms: IntArray, durations: FloatArray, laeq: FloatArray
) -> IntArray:
    """Durations in ms, after checking the values the roll-up arithmetic relies on."""
    bad_ts = ~((ts_ms >= 0) & (ts_ms < _TS_LIMIT))
    bad_duration = ~(np.isfinite(durations) & (durations > 0))
    bad_level = ~bins_fit(laeq)
    for name, bad in (("ts", bad_ts), ("duration", bad_duration), ("laeq", bad_level)):
        if bad.any():
            reading = readings[int(np.argmax(bad))]
            raise StoreError(f"cannot store reading with {name} out of range: {reading!r}")
    return duration_ms(durations)


def _last_of_each_key(code: IntArray, ts_ms: IntArray) -> npt.NDArray[np.intp]:
    """Indices sorting by ``(code, ts_ms)`` that keep only the last of equal keys."""
    order = np.lexsort((ts_ms, code))  # stable: equal keys stay in arrival order
    c, t = code[order], ts_ms[order]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
    return order[last]


@dataclass(slots=True)
class _Stored:
    """Stored rows read back around a batch, sorted by ``(code, ts_ms)``; ``found`` holds them
    as fetched, ``(ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq)``."""

    rows: Rows
    found: list[Record]


class _Writer:
    """One ``write()`` inside its transaction: classify, store, roll up."""

    def __init__(self, conn: sqlite3.Connection, batch: _Batch) -> None:
        self.conn = conn
        self.batch = batch
        self.lookback = self._load_lookback()

    def run(self) -> WriteResult:
        rows = self.batch.rows
        stored, match = self._stored_and_match(rows.end_ms)
        ends = rows.end_ms.copy()
        hit = match >= 0
        ends[hit] = np.maximum(ends[hit], stored.rows.end_ms[match[hit]])
        if (ends > rows.end_ms).any():  # a replaced reading was longer: its minutes change too
            stored, match = self._stored_and_match(ends)
        same = self._same(stored, match)
        changed = ~same
        inserted = match < 0
        self._store_rows(inserted, changed & ~inserted)
        if changed.any():
            self._roll_up(stored, match, changed, ends)
            self._update_state(changed)
        return WriteResult(
            inserted=int(inserted.sum()),
            replaced=int((changed & ~inserted).sum()),
            unchanged=int(same.sum()),
        )

    def _load_lookback(self) -> IntArray:
        """Per sensor code: the longest stored duration (ms), -1 for a sensor never seen."""
        ids = self.batch.sensor_ids
        found = dict(self.conn.execute(_LOOKBACK, (json.dumps(ids),)).fetchall())
        return np.array([found.get(s, -1) for s in ids], dtype=np.int64)

    def _stored_and_match(self, ends: IntArray) -> tuple[_Stored, npt.NDArray[np.intp]]:
        stored = self._fetch(
            _spans(self.batch.rows.code, self.batch.rows.ts_ms, ends, self.lookback)
        )
        return stored, _match(self.batch.rows, stored.rows)

    def _fetch(self, spans: list[tuple[int, int, int]]) -> _Stored:
        """The stored rows that may overlap the minutes of each ``(code, first, last)`` span."""
        codes: list[int] = []
        found: list[Record] = []
        for code, first, last in spans:
            lookback = int(self.lookback[code])
            got = self.conn.execute(
                _NEIGHBOURS,
                (self.batch.sensor_ids[code], first * MINUTE_MS - lookback, (last + 1) * MINUTE_MS),
            ).fetchall()
            codes.extend(repeat(code, len(got)))
            found.extend(got)
        return _Stored(_rows_of(found, codes), found)

    def _same(self, stored: _Stored, match: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which batch rows are identical re-deliveries of a stored row."""
        same = np.zeros(match.size, dtype=bool)
        for i in np.flatnonzero(match >= 0).tolist():
            same[i] = self.batch.values(i) == stored.found[match[i]][1:]
        return same

    def _store_rows(self, inserted: npt.NDArray[np.bool_], replaced: npt.NDArray[np.bool_]) -> None:
        if inserted.any():
            self.conn.executemany(_INSERT, self.batch.records(inserted))
        if replaced.any():
            self.conn.executemany(_REPLACE, self.batch.records(replaced))

    def _roll_up(
        self,
        stored: _Stored,
        match: npt.NDArray[np.intp],
        changed: npt.NDArray[np.bool_],
        ends: IntArray,
    ) -> None:
        """Recompute every minute a changed reading overlaps, now or before, from raw rows."""
        rows = self.batch.rows
        keys = minute_keys(rows.code[changed], rows.ts_ms[changed], ends[changed])
        superseded = np.zeros(stored.rows.ts_ms.size, dtype=bool)
        superseded[match[match >= 0]] = True
        merged = _concat_sorted(stored.rows.take(np.flatnonzero(~superseded)), rows)
        puts, drops = _rollup_changes(rollup_minutes(merged, keys), self.batch.sensor_ids)
        self.conn.executemany(_PUT_ROLLUP, puts)
        if drops:
            self.conn.executemany(_DROP_ROLLUP, drops)

    def _update_state(self, changed: npt.NDArray[np.bool_]) -> None:
        rows = self.batch.rows
        code = rows.code[changed]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        received = self.batch.received_at
        states = zip(
            [self.batch.sensor_ids[c] for c in code[starts].tolist()],
            np.maximum.reduceat(self.batch.duration_ms[changed], starts).tolist(),
            np.maximum.reduceat(rows.ts_ms[changed], starts).tolist(),
            np.maximum.reduceat(rows.end_ms[changed], starts).tolist(),
            repeat(received),
            strict=False,
        )
        self.conn.executemany(_PUT_STATE, states)


def _spans(
    code: IntArray, ts_ms: IntArray, end_ms: IntArray, lookback: IntArray
) -> list[tuple[int, int, int]]:
    """Stretches ``(code, first minute, last minute)`` of the batch to read stored rows for.

    Readings of a sensor join one stretch unless a gap separates them that is wide enough for
    the read ranges (which reach ``lookback`` before the first minute) not to overlap, so the
    stored rows come back once each and in order. Sensors never seen have nothing stored.
    """
    first = ts_ms // MINUTE_MS
    reach = np.maximum.accumulate(minute_key(code, (end_ms - 1) // MINUTE_MS))
    gap = 2 + (np.maximum(lookback[code], 0) + MINUTE_MS - 1) // MINUTE_MS
    starts = np.ones(code.size, dtype=bool)
    starts[1:] = minute_key(code[1:], first[1:]) > reach[:-1] + gap[1:]
    begin = np.flatnonzero(starts)
    finish = np.append(begin[1:], code.size) - 1
    spans = zip(code[begin].tolist(), first[begin].tolist(), reach[finish].tolist(), strict=True)
    return [(c, lo, split_key(hi)[1]) for c, lo, hi in spans if lookback[c] >= 0]


def _match(batch: Rows, stored: Rows) -> npt.NDArray[np.intp]:
    """For each batch row, the index of the stored row with the same key, or -1."""
    if stored.ts_ms.size == 0:
        return np.full(batch.ts_ms.size, -1, dtype=np.intp)
    wanted = (batch.code << _TS_SHIFT) | batch.ts_ms
    have = (stored.code << _TS_SHIFT) | stored.ts_ms
    pos = np.minimum(np.searchsorted(have, wanted), have.size - 1)
    return np.where(have[pos] == wanted, pos, -1)


def _concat_sorted(a: Rows, b: Rows) -> Rows:
    """Rows of ``a`` and ``b`` (disjoint keys) in ``(code, ts_ms)`` order."""
    both = Rows(
        np.concatenate((a.code, b.code)),
        np.concatenate((a.ts_ms, b.ts_ms)),
        np.concatenate((a.end_ms, b.end_ms)),
        np.concatenate((a.laeq, b.laeq)),
        np.concatenate((a.lafmax, b.lafmax)),
        np.concatenate((a.lafmin, b.lafmin)),
    )
    return both.take(np.argsort((both.code << _TS_SHIFT) | both.ts_ms, kind="stable"))


def _rollup_changes(
    rollup: MinuteRollup, sensor_ids: list[str]
) -> tuple[list[RollupRow], list[tuple[str, int]]]:
    """Rows to upsert into ``rollup_1m`` and ``(sensor_id, minute)`` keys to delete."""
    puts: list[RollupRow] = []
    drops: list[tuple[str, int]] = []
    columns = zip(
        rollup.keys.tolist(),
        rollup.energy.tolist(),
        rollup.seconds.tolist(),
        rollup.lafmax.tolist(),
        rollup.lafmin.tolist(),
        rollup.hists,
        strict=True,
    )
    for key, total, seconds, lafmax, lafmin, hist in columns:
        code, minute = split_key(key)
        if seconds > 0:
            puts.append(
                (sensor_ids[code], minute, total, seconds, _none(lafmax), _none(lafmin), hist)
            )
        else:
            drops.append((sensor_ids[code], minute))
    return puts, drops


# -- query helpers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Buckets:
    """Aggregates of the non-empty buckets ``index`` of a query."""

    index: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    exceedance: FloatArray

    @classmethod
    def empty(cls) -> _Buckets:
        nothing = np.zeros(0)
        return cls(np.zeros(0, np.int64), nothing, nothing, nothing, np.zeros((0, 3)))

    @classmethod
    def of(
        cls,
        n: int,
        *,
        bucket: IntArray,
        energies: FloatArray,
        seconds: FloatArray,
        lafmax: FloatArray,
        levels: tuple[IntArray, FloatArray, IntArray],
    ) -> _Buckets:
        """From per-item bucket numbers and values; ``levels`` is ``(bucket, level, weight)``
        sorted by bucket then level, for the exceedance levels."""
        group, level, weight = levels
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        index = group[starts]
        peak = np.full(n, np.nan)
        np.fmax.at(peak, bucket, lafmax)
        return cls(
            index,
            sum_by(bucket, energies, n)[index],
            sum_by(bucket, seconds, n)[index],
            peak[index],
            exceedance_levels_by_group(level, weight, starts),
        )

    def points(self, edges: FloatArray) -> list[LevelPoint]:
        points = []
        columns = zip(
            self.index.tolist(),
            self.energy.tolist(),
            self.seconds.tolist(),
            self.lafmax.tolist(),
            self.exceedance.tolist(),
            strict=True,
        )
        for i, total, seconds, lafmax, (l10, l50, l90) in columns:
            length = float(edges[i + 1] - edges[i])
            points.append(
                LevelPoint(
                    t=datetime.fromtimestamp(float(edges[i]), UTC),
                    laeq=level_from_energy(total, seconds),
                    lafmax=_none(lafmax),
                    l10=l10,
                    l50=l50,
                    l90=l90,
                    coverage=min(1.0, seconds / length),
                )
            )
        return points


def _checked_edges(start: datetime, end: datetime, every: Every) -> FloatArray:
    """Bucket edges, or ``QueryError`` for a bad range or too many buckets (before any I/O)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise QueryError("start and end need a time zone (UTC offset)")
    t0, t1 = start.timestamp(), end.timestamp()
    if not t0 < t1:
        raise QueryError(f"start {start.isoformat()} is not before end {end.isoformat()}")
    width = every.seconds
    estimate = (
        math.ceil(t1 / width) - math.floor(t0 / width)
        if width is not None
        else math.ceil((t1 - t0) / _SHORTEST_DAY_S) + 1
    )
    if estimate > MAX_POINTS + 1:
        raise _too_many(estimate, start, end, every)
    edges = bucket_edges(start, end, every)
    if edges.size - 1 > MAX_POINTS:
        raise _too_many(edges.size - 1, start, end, every)
    return edges


def _too_many(count: int, start: datetime, end: datetime, every: Every) -> QueryError:
    return QueryError(
        f"{start.isoformat()} to {end.isoformat()} in {every.value} buckets needs {count} points,"
        f" more than {MAX_POINTS}; choose a coarser 'every' or a shorter range"
    )


# -- small helpers ------------------------------------------------------------------------------


def _configure(conn: sqlite3.Connection, synchronous: str) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"could not switch {conn!r} to WAL (journal_mode is {mode})")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {_CHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")


def _rows_of(found: list[Record], codes: Sequence[int] | None = None) -> Rows:
    """``Rows`` from fetched ``(ts_ms, duration, laeq, lafmax, lafmin, ...)`` tuples."""
    if not found:
        empty_i = np.zeros(0, np.int64)
        empty_f = np.zeros(0, np.float64)
        return Rows(empty_i, empty_i, empty_i, empty_f, empty_f, empty_f)
    ts, durations, laeq, lafmax, lafmin = list(zip(*found, strict=True))[:5]
    ts_ms = np.array(ts, np.int64)
    code = np.zeros(ts_ms.size, np.int64) if codes is None else np.array(codes, np.int64)
    return Rows(
        code,
        ts_ms,
        ts_ms + duration_ms(np.array(durations, np.float64)),
        np.array(laeq, np.float64),
        np.array(lafmax, np.float64),
        np.array(lafmin, np.float64),
    )


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


def _none(value: float) -> float | None:
    """NaN (no value in an aggregate) as ``None``."""
    return None if math.isnan(value) else value


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
