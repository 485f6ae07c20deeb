"""The hourly and per-local-day roll-up tiers of the SQLite store.

``rollup_1h`` holds one row per ``(sensor_id, hour)``, ``hour = floor(t / 3600 s)`` (UTC), made
from the ``rollup_1m`` minutes of that hour; ``rollup_1d`` one row per ``(sensor_id, day)``,
``day`` the local date in the store's day zone (``store_settings.day_zone``, Europe/Copenhagen)
as days since 1970-01-01, made from the ``rollup_1h`` hours between its two local midnights:
23, 24 or 25 of them on daylight-saving days. A local day whose midnights do not fall on whole
UTC hours (a zone with a half-hour offset) has no daily row; queries then use hours and minutes.

Every row holds what the minute roll-up holds, summed exactly over its children: ``energy``
(Σ overlap_s·10^(LAeq/10)), ``seconds``, ``lafmax``/``lafmin`` (max/min, NULL when no reading
carried one), ``hist`` (the merged 0.1-dB histogram, the BLOB format of
:mod:`noiselab.store.sqlite_rollup`), plus ``l10``/``l50``/``l90`` computed from that
histogram when it is complete (NULL otherwise), so that a query whose buckets are single cells
reads no histogram at all.

Exactness: a cell is always recomputed from *all* its children, summed in key order with
``np.bincount``, so recomputing it gives the same bits; the ingest recomputes, in the write
transaction, every hour whose minutes changed and every day whose hours changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.store.sqlite_rollup import (
    decode_hists,
    encode_hists,
    hist_exceedance,
    merge_hists,
    nan_to_none,
    sum_by,
)

__all__ = [
    "HOUR_MS",
    "Cells",
    "Child",
    "Children",
    "TierRow",
    "Tiers",
    "day_of_hours",
    "day_zone",
    "local_day",
    "midnights",
    "tiers_from_minutes",
]

HOUR_MS = 3_600_000
_EPOCH = date(1970, 1, 1)

TierRow = tuple[
    str,
    int,
    float,
    float,
    float | None,
    float | None,
    float | None,
    float | None,
    float | None,
    bytes,
]
"""A cell of the hourly or daily tier: sensor_id, hour or day, energy, seconds, lafmax, lafmin,
l10, l50, l90 (the ``rollup_`` table's row) and hist (the ``hist_`` table's)."""


@dataclass(frozen=True, slots=True)
class Cells:
    """Aggregates of the tier cells ``keys`` (hours or days) of one sensor."""

    keys: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    exceedance: FloatArray
    hists: list[bytes]

    def rows(self, sensor_id: str) -> tuple[list[TierRow], list[tuple[str, int]]]:
        """Rows to upsert (cells with measured seconds) and keys to delete (cells without)."""
        puts: list[TierRow] = []
        drops: list[tuple[str, int]] = []
        columns = zip(
            self.keys.tolist(),
            self.energy.tolist(),
            self.seconds.tolist(),
            self.lafmax.tolist(),
            self.lafmin.tolist(),
            self.exceedance.tolist(),
            self.hists,
            strict=True,
        )
        for key, total, seconds, lafmax, lafmin, (l10, l50, l90), hist in columns:
            if seconds > 0:
                puts.append(
                    (
                        sensor_id,
                        key,
                        total,
                        seconds,
                        nan_to_none(lafmax),
                        nan_to_none(lafmin),
                        nan_to_none(l10),
                        nan_to_none(l50),
                        nan_to_none(l90),
                        hist,
                    )
                )
            else:
                drops.append((sensor_id, key))
        return puts, drops


def midnights(zone: ZoneInfo, first_day: int, last_day: int) -> IntArray:
    """UTC seconds of the local midnights starting days ``first_day..last_day + 1`` (days
    since 1970-01-01 in ``zone``): ``n + 1`` edges for ``n`` days."""
    start = _EPOCH + timedelta(days=first_day)
    out = np.empty(last_day - first_day + 2, dtype=np.int64)
    for i in range(out.size):
        day = start + timedelta(days=i)
        out[i] = round(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
    return out


def day_of_hours(hours: IntArray, zone: ZoneInfo) -> tuple[IntArray, IntArray]:
    """For UTC hours (sorted): the local day each starts in (days since 1970-01-01), or -1
    where that day's midnights are not whole UTC hours; and the midnights (UTC seconds) of
    days ``first..last + 1`` of the result, ``first`` being the returned ``days.min()``."""
    if hours.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first = local_day(int(hours[0]) * 3600, zone)
    last = local_day(int(hours[-1]) * 3600, zone)
    edges = midnights(zone, first, last)
    index = np.searchsorted(edges, hours * 3600, side="right") - 1
    whole = (edges % 3600 == 0)[index] & (edges % 3600 == 0)[index + 1]
    return np.where(whole, first + index, -1), edges


def day_zone(conn: sqlite3.Connection) -> ZoneInfo:
    """The zone of the file's local days (``store_settings.day_zone``)."""
    row = conn.execute("SELECT value FROM store_settings WHERE name = 'day_zone'").fetchone()
    return ZoneInfo(str(row[0]))


def local_day(seconds: int, zone: ZoneInfo) -> int:
    """The local day (days since 1970-01-01 in ``zone``) containing Unix second ``seconds``."""
    return (datetime.fromtimestamp(seconds, UTC).astimezone(zone).date() - _EPOCH).days


_MINUTES = (
    "SELECT minute, energy, seconds, lafmax, lafmin, hist FROM rollup_1m"
    " WHERE sensor_id = ? AND minute >= ? AND minute < ? ORDER BY minute"
)
_HOURS = (
    "SELECT r.hour, r.energy, r.seconds, r.lafmax, r.lafmin, h.hist FROM rollup_1h AS r"
    " JOIN hist_1h AS h USING (sensor_id, hour)"
    " WHERE r.sensor_id = ? AND r.hour >= ? AND r.hour < ? ORDER BY r.hour"
)


@dataclass(frozen=True, slots=True)
class _Table:
    """The statements that keep one tier's two tables (sums and histograms)."""

    put: str
    put_hist: str
    drop: str
    drop_hist: str


_HOUR_TABLE = _Table(
    "INSERT OR REPLACE INTO rollup_1h VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT OR REPLACE INTO hist_1h VALUES (?, ?, ?)",
    "DELETE FROM rollup_1h WHERE sensor_id = ? AND hour = ?",
    "DELETE FROM hist_1h WHERE sensor_id = ? AND hour = ?",
)
_DAY_TABLE = _Table(
    "INSERT OR REPLACE INTO rollup_1d VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT OR REPLACE INTO hist_1d VALUES (?, ?, ?)",
    "DELETE FROM rollup_1d WHERE sensor_id = ? AND day = ?",
    "DELETE FROM hist_1d WHERE sensor_id = ? AND day = ?",
)


class Tiers:
    """Keeps ``rollup_1h`` and ``rollup_1d`` of one connection equal to recomputation from
    ``rollup_1m`` (inside the caller's transaction)."""

    def __init__(self, conn: sqlite3.Connection, zone: ZoneInfo) -> None:
        self.conn = conn
        self.zone = zone

    def minutes_changed(self, sensor_id: str, minutes: IntArray) -> None:
        """Recompute the hours of the changed ``minutes`` (any order), then their days."""
        hours = np.unique(minutes // 60)
        self.hours_changed(sensor_id, hours)

    def hours_changed(self, sensor_id: str, hours: IntArray) -> None:
        """Recompute ``hours`` (sorted unique) from their minutes, then the days they are in."""
        if hours.size == 0:
            return
        cells = self.hour_cells(sensor_id, hours)
        self._store(cells.rows(sensor_id), _HOUR_TABLE)
        days, edges = day_of_hours(hours, self.zone)
        wanted = np.unique(days[days >= 0])
        if wanted.size:
            self._store(self.day_cells(sensor_id, wanted, edges).rows(sensor_id), _DAY_TABLE)

    def hour_cells(self, sensor_id: str, hours: IntArray) -> Cells:
        """``hours`` (sorted unique) aggregated from the stored minutes."""
        children = Children.of(self._children(_MINUTES, sensor_id, hours * 60, (hours + 1) * 60))
        return children.aggregate(hours, np.searchsorted(hours, children.key // 60))

    def day_cells(self, sensor_id: str, days: IntArray, edges: IntArray) -> Cells:
        """``days`` (sorted unique, whole-hour midnights) aggregated from the stored hours;
        ``edges`` are the midnights (UTC s) from ``days[0]`` on, as ``day_of_hours`` gives
        them (they may start earlier)."""
        first = local_day(int(edges[0]), self.zone)
        begin = edges[days - first] // 3600
        end = edges[days - first + 1] // 3600
        children = Children.of(self._children(_HOURS, sensor_id, begin, end))
        return children.aggregate(days, np.searchsorted(begin, children.key, side="right") - 1)

    def _children(self, query: str, sensor_id: str, begin: IntArray, end: IntArray) -> list[Child]:
        """Child rows with keys in the union of ``[begin[i], end[i])`` (ascending, disjoint),
        read one run of adjoining ranges at a time, in key order."""
        rows: list[Child] = []
        breaks = np.flatnonzero(begin[1:] != end[:-1]) + 1
        for lo, hi in zip(
            begin[np.r_[0, breaks]].tolist(),
            end[np.r_[breaks - 1, end.size - 1]].tolist(),
            strict=True,
        ):
            rows.extend(self.conn.execute(query, (sensor_id, lo, hi)).fetchall())
        return rows

    def _store(self, changes: tuple[list[TierRow], list[tuple[str, int]]], table: _Table) -> None:
        puts, drops = changes
        if puts:
            self.conn.executemany(table.put, [row[:9] for row in puts])
            self.conn.executemany(table.put_hist, [(row[0], row[1], row[9]) for row in puts])
        if drops:
            self.conn.executemany(table.drop, drops)
            self.conn.executemany(table.drop_hist, drops)


Child = tuple[int, float, float, float | None, float | None, bytes]


@dataclass(frozen=True, slots=True)
class Children:
    """Child rows (minutes of hours, hours of days) as columns, in key order."""

    key: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    hists: Sequence[bytes]

    @classmethod
    def of(cls, found: list[Child]) -> Children:
        if not found:
            nothing = np.zeros(0)
            return cls(np.zeros(0, np.int64), nothing, nothing, nothing, nothing, [])
        key, energies, seconds, lafmax, lafmin, hists = zip(*found, strict=True)
        return cls(
            np.array(key, np.int64),
            np.array(energies, np.float64),
            np.array(seconds, np.float64),
            np.array(lafmax, np.float64),
            np.array(lafmin, np.float64),
            hists,
        )

    def aggregate(self, keys: IntArray, cell: IntArray) -> Cells:
        """The cells ``keys`` from these children: ``cell[i]`` is the index in ``keys`` of
        child ``i`` (the sums add the children one by one in key order). A cell without
        children gets zero seconds."""
        n = keys.size
        item, bins, ms = decode_hists(self.hists)
        group, merged_bins, merged_ms = merge_hists(cell[item], bins, ms, n)
        total_s = sum_by(cell, self.seconds, n)
        peak = np.full(n, np.nan)
        np.fmax.at(peak, cell, self.lafmax)
        low = np.full(n, np.nan)
        np.fmin.at(low, cell, self.lafmin)
        return Cells(
            keys=keys,
            energy=sum_by(cell, self.energy, n),
            seconds=total_s,
            lafmax=peak,
            lafmin=low,
            exceedance=hist_exceedance(n, group, merged_bins, merged_ms, total_s),
            hists=encode_hists(n, group, merged_bins, merged_ms),
        )


def tiers_from_minutes(
    sensor_id: str, minutes: Children, zone: ZoneInfo
) -> tuple[list[TierRow], list[TierRow]]:
    """The ``rollup_1h`` and ``rollup_1d`` rows of one sensor computed afresh from all its
    minutes, days being local days in ``zone``."""
    hours = np.unique(minutes.key // 60)
    cells = minutes.aggregate(hours, np.searchsorted(hours, minutes.key // 60))
    hour_rows, _ = cells.rows(sensor_id)
    days, _ = day_of_hours(hours, zone)
    valid = days >= 0
    wanted = np.unique(days[valid])
    in_days = Children(
        hours[valid],
        cells.energy[valid],
        cells.seconds[valid],
        cells.lafmax[valid],
        cells.lafmin[valid],
        [hist for hist, keep in zip(cells.hists, valid.tolist(), strict=True) if keep],
    )
    day_rows, _ = in_days.aggregate(wanted, np.searchsorted(wanted, days[valid])).rows(sensor_id)
    return hour_rows, day_rows
