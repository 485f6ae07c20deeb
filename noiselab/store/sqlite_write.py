"""The write path of ``SqliteStore``: one ``write()`` inside its transaction.

``Batch`` turns the readings into columns (deduplicated, the first of a key kept, sorted by
sensor and ts); ``Writer`` reads back the stored rows around them, sorts the batch into new
readings, re-deliveries and conflicts (``noiselab.store.conflicts``), stores the new ones and
recomputes every minute they touch from all raw rows overlapping it (see
``noiselab.store.sqlite``). A stored row is never replaced.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.errors import ReadingRejected
from noiselab.model import Reading, Spectrum
from noiselab.store.base import WriteResult
from noiselab.store.conflicts import Conflict, same_reading
from noiselab.store.sqlite_chunks import thaw
from noiselab.store.sqlite_rollup import (
    KEY_SHIFT,
    MINUTE_MASK,
    MINUTE_MS,
    MinuteRollup,
    Rows,
    bins_fit,
    duration_ms,
    minute_key,
    minute_keys,
    nan_to_none,
    rollup_minutes,
    split_key,
)
from noiselab.store.sqlite_tiers import Tiers

__all__ = ["Batch", "Record", "RollupRow", "Writer", "reading_of", "rollup_changes", "rows_of"]

Record = tuple[Any, ...]
"""A row as sqlite3 takes or returns it."""

RollupRow = tuple[str, int, float, float, float | None, float | None, bytes]
"""A ``rollup_1m`` row: sensor_id, minute, energy, seconds, lafmax, lafmin, hist."""

_TS_SHIFT = 42  # reading keys are ``code << 42 | ts_ms``: ts_ms below 2**42 reaches year 2109
_TS_LIMIT = 1 << _TS_SHIFT

_INSERT = "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
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


@dataclass(frozen=True, slots=True)
class Batch:
    """The readings of one ``write()``, deduplicated (the first of a key kept) and sorted by
    sensor and ts.

    ``rows`` holds the numbers the roll-up needs; ``columns`` the ``readings`` table columns in
    arrival order, ``origin[i]`` being the arrival index of sorted row ``i``. Sensor ``code``
    ``c`` is ``sensor_ids[c]``. Rows are kept as columns, not tuples, so that a large batch does
    not set off the cyclic garbage collector. ``repeats`` pairs the arrival index of each later
    reading of a key already in the batch with the sorted row it repeats.
    """

    sensor_ids: list[str]
    rows: Rows
    duration_ms: IntArray
    origin: npt.NDArray[np.intp]
    columns: tuple[Sequence[Any], ...]
    received_at: float
    readings: Sequence[Reading]
    repeats: list[tuple[int, int]]

    @classmethod
    def of(cls, readings: Sequence[Reading], received_at: float) -> Batch:
        """Columns of ``readings``; ``ReadingRejected`` for a value the roll-up cannot take."""
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
        origin, repeats = _first_of_each_key(code, ts_ms)
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
        return cls(
            list(codes),
            rows.take(origin),
            dur_ms[origin],
            origin,
            columns,
            received_at,
            readings,
            repeats,
        )

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
            raise ReadingRejected(f"cannot store reading with {name} out of range: {reading!r}")
    return duration_ms(durations)


def _first_of_each_key(
    code: IntArray, ts_ms: IntArray
) -> tuple[npt.NDArray[np.intp], list[tuple[int, int]]]:
    """Indices sorting by ``(code, ts_ms)`` that keep only the first arrival of equal keys, and
    ``(arrival index, sorted row)`` of each later arrival of a kept key."""
    order = np.lexsort((ts_ms, code))  # stable: equal keys stay in arrival order
    c, t = code[order], ts_ms[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
    if first.all():
        return order, []
    row = np.cumsum(first) - 1
    later = ~first
    return order[first], list(zip(order[later].tolist(), row[later].tolist(), strict=True))


@dataclass(slots=True)
class _Stored:
    """Stored rows read back around a batch, sorted by ``(code, ts_ms)``; ``found`` holds them
    as fetched, ``(ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq)``."""

    rows: Rows
    found: list[Record]


class Writer:
    """One ``write()`` inside its transaction: classify, store, roll up."""

    def __init__(self, conn: sqlite3.Connection, batch: Batch, tiers: Tiers) -> None:
        self.conn = conn
        self.batch = batch
        self.tiers = tiers
        self.lookback = self._load_lookback()

    def run(self) -> WriteResult:
        rows = self.batch.rows
        stored, match = self._stored_and_match(rows.end_ms)
        new = match < 0
        same = self._same(stored, match)
        if new.any():
            self.conn.executemany(_INSERT, self.batch.records(new))
            self._roll_up(stored, new)
            self._update_state(new)
        conflicts = [
            Conflict(self._offered(i), self._stored(stored, int(match[i])))
            for i in np.flatnonzero(~new & ~same).tolist()
        ]
        repeated = 0
        for j, i in self.batch.repeats:
            kept = self._offered(i) if new[i] else self._stored(stored, int(match[i]))
            offered = self.batch.readings[j]
            if same_reading(kept, offered):
                repeated += 1
            else:
                conflicts.append(Conflict(offered, kept))
        return WriteResult(
            inserted=int(new.sum()),
            unchanged=int(same.sum()) + repeated,
            conflicts=tuple(conflicts),
        )

    def _offered(self, i: int) -> Reading:
        """The batch's reading of sorted row ``i``."""
        return self.batch.readings[int(self.batch.origin[i])]

    def _stored(self, stored: _Stored, k: int) -> Reading:
        """Stored row ``k`` as a reading."""
        return reading_of(self.batch.sensor_ids[int(stored.rows.code[k])], stored.found[k])

    def _load_lookback(self) -> IntArray:
        """Per sensor code: the longest stored duration (ms), -1 for a sensor never seen."""
        ids = self.batch.sensor_ids
        found = dict(self.conn.execute(_LOOKBACK, (json.dumps(ids),)).fetchall())
        return np.array([found.get(s, -1) for s in ids], dtype=np.int64)

    def _stored_and_match(self, ends: IntArray) -> tuple[_Stored, npt.NDArray[np.intp]]:
        """The stored rows around the batch, and for each batch row its stored twin or -1."""
        stored = self._fetch(
            _spans(self.batch.rows.code, self.batch.rows.ts_ms, ends, self.lookback)
        )
        return stored, _match(self.batch.rows, stored.rows)

    def _fetch(self, spans: list[tuple[int, int, int]]) -> _Stored:
        """The stored rows that may overlap the minutes of each ``(code, first, last)`` span,
        after thawing the compacted hours among them (``noiselab.store.sqlite_chunks``)."""
        codes: list[int] = []
        found: list[Record] = []
        for code, first, last in spans:
            lookback = int(self.lookback[code])
            sensor_id = self.batch.sensor_ids[code]
            begin, end = first * MINUTE_MS, (last + 1) * MINUTE_MS
            thaw(self.conn, sensor_id, begin - lookback, begin, end)
            got = self.conn.execute(_NEIGHBOURS, (sensor_id, begin - lookback, end)).fetchall()
            codes.extend(repeat(code, len(got)))
            found.extend(got)
        return _Stored(rows_of(found, codes), found)

    def _same(self, stored: _Stored, match: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        """Which batch rows repeat their stored row: identical, or equal at the store's
        precision (a compacted hour keeps levels at 0.01 dB)."""
        same = np.zeros(match.size, dtype=bool)
        for i in np.flatnonzero(match >= 0).tolist():
            k = int(match[i])
            same[i] = self.batch.values(i) == stored.found[k][1:] or same_reading(
                self._stored(stored, k), self._offered(i)
            )
        return same

    def _roll_up(self, stored: _Stored, new: npt.NDArray[np.bool_]) -> None:
        """Recompute every minute a new reading overlaps from the raw rows overlapping it."""
        rows = self.batch.rows
        keys = minute_keys(rows.code[new], rows.ts_ms[new], rows.end_ms[new])
        merged = _concat_sorted(stored.rows, rows.take(np.flatnonzero(new)))
        puts, drops = rollup_changes(rollup_minutes(merged, keys), self.batch.sensor_ids)
        self.conn.executemany(_PUT_ROLLUP, puts)
        if drops:
            self.conn.executemany(_DROP_ROLLUP, drops)
        code, minute = keys >> KEY_SHIFT, keys & MINUTE_MASK
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        for begin, end in zip(starts.tolist(), [*starts[1:].tolist(), keys.size], strict=True):
            self.tiers.minutes_changed(self.batch.sensor_ids[int(code[begin])], minute[begin:end])

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


def rollup_changes(
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
                (
                    sensor_ids[code],
                    minute,
                    total,
                    seconds,
                    nan_to_none(lafmax),
                    nan_to_none(lafmin),
                    hist,
                )
            )
        else:
            drops.append((sensor_ids[code], minute))
    return puts, drops


def reading_of(sensor_id: str, row: Record) -> Reading:
    """A stored ``(ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq)`` row as a reading."""
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


def rows_of(found: list[Record], codes: Sequence[int] | None = None) -> Rows:
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
