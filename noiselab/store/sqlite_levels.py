"""Levels in buckets of a minute or more from the SQLite store's roll-up tiers.

:func:`tier_buckets` reads the cells :func:`noiselab.store.tier_plan.plan` picks — local days
from ``rollup_1d``, UTC hours from ``rollup_1h``, minutes from ``rollup_1m`` and from the
compacted hours' chunks — and sums them per bucket. A bucket made of a single day or hour takes
that cell's stored L10/L50/L90; any other bucket merges its cells' histograms, which gives the
same levels as merging its minutes (histograms add exactly). Energy sums differ from summing
the minutes only in the last bits of a float.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.store.chunk_codec import MinuteRow
from noiselab.store.level_buckets import Buckets
from noiselab.store.level_ranges import RangeCells
from noiselab.store.sqlite_chunks import chunk_minutes
from noiselab.store.sqlite_rollup import decode_hists, hist_exceedance, merge_hists, sum_by
from noiselab.store.sqlite_tiers import local_day, midnights
from noiselab.store.tier_plan import plan

__all__ = ["minute_rows", "tier_buckets"]

_MINUTES = (
    "SELECT minute, energy, seconds, lafmax, lafmin, hist FROM rollup_1m"
    " WHERE sensor_id = ? AND minute >= ? AND minute < ? ORDER BY minute"
)
_CELLS = {
    "hour": "SELECT hour, energy, seconds, lafmax, l10, l50, l90 FROM rollup_1h"
    " WHERE sensor_id = ? AND hour >= ? AND hour < ? ORDER BY hour",
    "day": "SELECT day, energy, seconds, lafmax, l10, l50, l90 FROM rollup_1d"
    " WHERE sensor_id = ? AND day >= ? AND day < ? ORDER BY day",
}
_HISTS = {
    "hour": "SELECT hist FROM hist_1h WHERE sensor_id = ?"
    " AND hour IN (SELECT value FROM json_each(?)) ORDER BY hour",
    "day": "SELECT hist FROM hist_1d WHERE sensor_id = ?"
    " AND day IN (SELECT value FROM json_each(?)) ORDER BY day",
}


def minute_rows(conn: sqlite3.Connection, sensor_id: str, first: int, end: int) -> list[MinuteRow]:
    """The roll-up minutes ``first <= minute < end`` of one sensor, hot and compacted, by
    minute."""
    hot: list[MinuteRow] = conn.execute(_MINUTES, (sensor_id, first, end)).fetchall()
    cold = chunk_minutes(conn, sensor_id, first, end)
    if not cold:
        return hot
    if not hot:
        return cold
    return sorted(hot + cold, key=lambda row: row[0])


@dataclass(frozen=True, slots=True)
class _Cells:
    """Day or hour cells read for a query, aligned: start (UTC s), key, sums, stored levels."""

    start: IntArray
    key: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    exceedance: FloatArray

    @classmethod
    def read(
        cls,
        conn: sqlite3.Connection,
        tier: str,
        sensor_id: str,
        keys: IntArray,
        start_of: IntArray,
    ) -> _Cells:
        """The stored cells among ``keys`` (ascending), ``start_of[i]`` the start of
        ``keys[i]``."""
        rows: list[tuple[int, float, float, float | None, float | None, float | None, float | None]]
        rows = []
        for lo, hi in _runs(keys):
            rows.extend(conn.execute(_CELLS[tier], (sensor_id, lo, hi)).fetchall())
        if not rows:
            none = np.zeros(0, np.int64)
            return cls(none, none, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros((0, 3)))
        arr = np.array(rows, dtype=np.float64)  # NULL becomes NaN
        key = arr[:, 0].astype(np.int64)
        return cls(
            start_of[np.searchsorted(keys, key)],
            key,
            arr[:, 1],
            arr[:, 2],
            arr[:, 3],
            arr[:, 4:7],
        )


def tier_buckets(  # noqa: PLR0917 - the query's parts, each named
    conn: sqlite3.Connection,
    sensor_id: str,
    edges: FloatArray,
    zone: ZoneInfo,
    day_zone: ZoneInfo,
    ranges: RangeCells | None = None,
) -> Buckets:
    """Buckets ``[edges[i], edges[i+1])`` (whole minutes, UTC s) from the roll-up tiers;
    days only when ``zone`` is the daily tier's ``day_zone``. With ``ranges``, their
    corrections and exclusions apply (:mod:`noiselab.store.level_ranges`): the cells are
    chosen within one correction state each."""
    lo, hi = int(edges[0]), int(edges[-1])
    first_day = local_day(lo, day_zone)
    day_starts = (
        midnights(day_zone, first_day, local_day(hi, day_zone)) if zone == day_zone else None
    )
    cells = plan(edges if ranges is None else ranges.refined(edges), day_starts)
    days = _Cells.read(
        conn,
        "day",
        sensor_id,
        cells.days + first_day,
        day_starts[cells.days] if day_starts is not None else np.zeros(0, np.int64),
    )
    hours = _Cells.read(conn, "hour", sensor_id, cells.hours, cells.hours * 3600)
    minutes: list[MinuteRow] = []
    for first, end in cells.minute_runs:
        minutes.extend(minute_rows(conn, sensor_id, first, end))
    sums = _BucketSums(conn, sensor_id, edges, days=days, hours=hours, minutes=minutes)
    if ranges is None:
        return sums.buckets()
    sums.apply(ranges)
    return sums.buckets().ranged(ranges)


class _BucketSums:
    """The cells of one query summed per bucket."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        sensor_id: str,
        edges: FloatArray,
        *,
        days: _Cells,
        hours: _Cells,
        minutes: Sequence[MinuteRow],
    ) -> None:
        self.conn = conn
        self.sensor_id = sensor_id
        self.n = edges.size - 1
        self.tiers = (("day", days), ("hour", hours))
        minute = np.array([row[0] for row in minutes], np.int64)
        self.minute_hists = [row[5] for row in minutes]
        columns = np.array([row[1:4] for row in minutes], np.float64).reshape(-1, 3)
        start = np.concatenate((days.start, hours.start, minute * 60))
        self.bucket = np.searchsorted(edges, start, side="right") - 1
        self.energy = np.concatenate((days.energy, hours.energy, columns[:, 0]))
        self.seconds = np.concatenate((days.seconds, hours.seconds, columns[:, 1]))
        self.lafmax = np.concatenate((days.lafmax, hours.lafmax, columns[:, 2]))
        self.first_minute = days.key.size + hours.key.size
        self.start = start.astype(np.float64)
        self.kept = np.ones(self.bucket.size, dtype=bool)

    def apply(self, ranges: RangeCells) -> None:
        """Leave out the cells an exclusion covers (their energy and seconds zeroed, not
        counted) and add the offsets to the others."""
        states = ranges.apply(self.bucket, self.start, self.seconds)
        self.kept = states.kept
        self.energy = np.where(self.kept, states.energies(self.energy), 0.0)
        self.seconds = np.where(self.kept, self.seconds, 0.0)
        self.lafmax = np.where(self.kept, states.levels(self.lafmax), np.nan)

    def buckets(self) -> Buckets:
        if not self.kept.any():
            return Buckets.empty()
        n, bucket = self.n, self.bucket
        count = np.bincount(bucket[self.kept], minlength=n)
        index = np.flatnonzero(count)
        total_s = sum_by(bucket, self.seconds, n)
        peak = np.full(n, np.nan)
        np.fmax.at(peak, bucket, self.lafmax)
        exceedance = np.full((n, 3), np.nan)
        offset = 0
        for _, cells in self.tiers:  # a bucket that is one day or hour takes its stored levels
            own = bucket[offset : offset + cells.key.size]
            alone = (count[own] == 1) & self.kept[offset : offset + cells.key.size]
            exceedance[own[alone]] = cells.exceedance[alone]
            offset += cells.key.size
        merged = count > 1
        minutes = self.kept[self.first_minute :]
        merged[bucket[self.first_minute :][minutes]] = True  # minutes merge their histograms
        if merged.any():
            exceedance[merged] = self._merged_levels(merged, total_s)[merged]
        return Buckets(
            index=index,
            energy=sum_by(bucket, self.energy, n)[index],
            seconds=total_s[index],
            lafmax=peak[index],
            exceedance=exceedance[index],
        )

    def _merged_levels(self, merged: npt.NDArray[np.bool_], total_s: FloatArray) -> FloatArray:
        """Exceedance levels per bucket from the histograms of the ``merged`` buckets' cells."""
        wanted = merged[self.bucket] & self.kept
        hists: list[bytes] = []
        groups: list[IntArray] = []
        offset = 0
        for tier, cells in self.tiers:
            own = wanted[offset : offset + cells.key.size]
            if own.any():
                keys = json.dumps(cells.key[own].tolist())
                found = self.conn.execute(_HISTS[tier], (self.sensor_id, keys)).fetchall()
                hists.extend(row[0] for row in found)
                groups.append(self.bucket[offset : offset + cells.key.size][own])
            offset += cells.key.size
        minutes = self.kept[self.first_minute :]
        hists.extend(h for h, kept in zip(self.minute_hists, minutes, strict=True) if kept)
        groups.append(self.bucket[self.first_minute :][minutes])
        item, bins, ms = decode_hists(hists)
        group, merged_bins, merged_ms = merge_hists(np.concatenate(groups)[item], bins, ms, self.n)
        return hist_exceedance(self.n, group, merged_bins, merged_ms, total_s)


def _runs(keys: IntArray) -> list[tuple[int, int]]:
    """``[first, end)`` runs of consecutive keys (ascending)."""
    if keys.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(keys) != 1) + 1
    firsts = keys[np.r_[0, breaks]]
    lasts = keys[np.r_[breaks - 1, keys.size - 1]]
    return [(a, b + 1) for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True)]
