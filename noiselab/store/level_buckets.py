"""Levels in buckets from roll-up cells (minutes, hours) or raw readings (numpy only, no I/O).

Shared by the SQLite and InfluxDB stores, so both answer ``levels()`` with the same arithmetic:
energy and seconds summed per bucket, LAFmax the highest reported, L10/L50/L90 from the 0.1 dB
histograms (roll-up buckets, within ±0.05 dB of the raw values) or the raw levels weighted by
their milliseconds (1-s buckets). Exceedance levels come from readings of at most 1 s only; a
bucket that holds any longer reading has none (``None``): they cannot be computed from
interval averages.

An hourly roll-up cell holds exactly the sums, extremes and merged histogram of its minutes, so
a bucket gives the same answer from its whole hours as from their minutes (energies summed in
another grouping differ in the last bits only; histograms merge exactly). ``RollupTiers`` says
which UTC hours lie wholly inside one bucket, to be read from the hourly tier, and which minutes
are left for the minute tier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.analysis.corrections import EXCLUSION_ORDER
from noiselab.analysis.decibels import energy
from noiselab.analysis.levels import exceedance_levels_by_group
from noiselab.errors import QueryError
from noiselab.store.base import LevelPoint, Series, ValidLevels
from noiselab.store.level_ranges import RangeCells
from noiselab.store.sqlite_rollup import (
    PERCENTILE_MAX_MS,
    Rows,
    decode_hist,
    merge_hists,
    spread,
    sum_by,
)
from noiselab.store.tier_plan import plan

__all__ = [
    "MAX_POINTS",
    "Buckets",
    "RollupTiers",
    "cells_within_width",
    "checked_edges",
    "minute_buckets",
    "parse_every",
    "rollup_buckets",
    "rollup_tiers",
    "second_buckets",
    "valid_levels",
]

MAX_POINTS = 100_000
"""Most buckets one ``levels()`` query may return."""


_SHORTEST_DAY_S = 23 * 3600
_HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class Buckets:
    """Aggregates of the non-empty buckets ``index`` of a query."""

    index: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    exceedance: FloatArray

    @classmethod
    def empty(cls) -> Buckets:
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
    ) -> Buckets:
        """From per-item bucket numbers and values; ``levels`` is ``(bucket, level, weight_ms)``
        sorted by bucket then level, for the exceedance levels. A bucket gets exceedance levels
        only when ``levels`` covers all of its seconds (see ``PERCENTILE_MAX_MS``), else NaN."""
        index = np.flatnonzero(np.bincount(bucket, minlength=n))  # buckets with any item
        total_s = sum_by(bucket, seconds, n)
        exceedance = np.full((index.size, 3), np.nan)
        group, level, weight = levels
        if group.size:
            starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
            present = group[starts]
            measured_ms = np.add.reduceat(weight, starts)
            complete = measured_ms + 0.5 >= np.rint(total_s[present] * 1000.0)
            found = exceedance_levels_by_group(level, weight, starts)
            exceedance[np.searchsorted(index, present[complete])] = found[complete]
        peak = np.full(n, np.nan)
        np.fmax.at(peak, bucket, lafmax)
        return cls(
            index,
            sum_by(bucket, energies, n)[index],
            total_s[index],
            peak[index],
            exceedance,
        )

    def ranged(self, cells: RangeCells) -> Buckets:
        """These buckets' exceedance levels shifted by the offsets ``cells`` found (NaN where
        they differ within a bucket; :mod:`noiselab.store.level_ranges`)."""
        shifted = cells.exceedance(self.index, self.exceedance)
        return Buckets(self.index, self.energy, self.seconds, self.lafmax, shifted)

    def points(self, edges: FloatArray, cells: RangeCells | None = None) -> list[LevelPoint]:
        """The non-empty buckets as points, with the measured seconds ``cells`` left out of
        each; coverage is capped at 1 (readings overlapping in time could exceed it). The
        arithmetic runs on whole arrays: a year of hours is 8,760 points."""
        starts = edges[self.index]
        laeq = 10.0 * np.log10(self.energy / self.seconds)  # every bucket has measured seconds
        coverage = np.minimum(1.0, self.seconds / (edges[self.index + 1] - starts))
        nullable = np.column_stack((self.lafmax, self.exceedance)).astype(object)
        nullable[np.isnan(np.column_stack((self.lafmax, self.exceedance)))] = None
        left_out = (
            np.zeros(self.index.size) if cells is None else cells.excluded[self.index].sum(axis=1)
        )
        columns = zip(
            starts.tolist(),
            laeq.tolist(),
            nullable.tolist(),
            coverage.tolist(),
            left_out.tolist(),
            strict=True,
        )
        return [
            LevelPoint(
                t=datetime.fromtimestamp(t, UTC),
                laeq=level,
                lafmax=lafmax,
                l10=l10,
                l50=l50,
                l90=l90,
                coverage=cover,
                excluded_s=excluded,
            )
            for t, level, (lafmax, l10, l50, l90), cover, excluded in columns
        ]


def minute_buckets(
    edges: FloatArray,
    *,
    minute: IntArray,
    energies: FloatArray,
    seconds: FloatArray,
    lafmax: FloatArray,
    hists: Sequence[bytes],
) -> Buckets:
    """Buckets from roll-up minutes (Unix minute numbers, energy, seconds, LAFmax and the
    histogram records of each); ``edges`` are whole minutes."""
    if minute.size == 0:
        return Buckets.empty()
    minute_edges = (edges // 60).astype(np.int64)
    bucket = np.searchsorted(minute_edges, minute, side="right") - 1
    return _cell_buckets(
        edges.size - 1, bucket, energies=energies, seconds=seconds, lafmax=lafmax, hists=hists
    )


def rollup_buckets(
    edges: FloatArray,
    *,
    start_s: FloatArray,
    energies: FloatArray,
    seconds: FloatArray,
    lafmax: FloatArray,
    hists: Sequence[bytes],
    cells: RangeCells | None = None,
) -> Buckets:
    """Buckets from roll-up cells of any width (minutes, hours), like ``minute_buckets`` with
    each cell's start in Unix seconds: a cell counts in the bucket its start falls in, so each
    cell must lie wholly inside one bucket (``rollup_tiers`` chooses such cells). Cells are
    summed in the order given (pass them by start time); cells outside the edges are ignored.
    Pass ``RollupTiers.grid`` as ``edges`` to count cells exactly as ``minute_buckets`` does.
    With ``cells``, their ranges apply (:mod:`noiselab.store.level_ranges`): pass the cells
    ``rollup_tiers(edges, cells)`` chose."""
    bucket = np.searchsorted(edges, start_s, side="right") - 1
    inside = (bucket >= 0) & (bucket < edges.size - 1)
    if cells is not None and inside.any():
        states = cells.apply(bucket[inside], start_s[inside], seconds[inside])
        keep = np.zeros(inside.size, dtype=bool)
        keep[np.flatnonzero(inside)[states.kept]] = True
        energies, lafmax = energies.copy(), lafmax.copy()
        energies[inside] = states.energies(energies[inside])
        lafmax[inside] = states.levels(lafmax[inside])
        inside = keep
    if not inside.any():
        return Buckets.empty()
    if not inside.all():
        picked = np.flatnonzero(inside)
        bucket, energies, seconds, lafmax = (
            bucket[picked],
            energies[picked],
            seconds[picked],
            lafmax[picked],
        )
        hists = [hists[i] for i in picked.tolist()]
    return _cell_buckets(
        edges.size - 1, bucket, energies=energies, seconds=seconds, lafmax=lafmax, hists=hists
    )


def _cell_buckets(
    n: int,
    bucket: IntArray,
    *,
    energies: FloatArray,
    seconds: FloatArray,
    lafmax: FloatArray,
    hists: Sequence[bytes],
) -> Buckets:
    bins, ms = decode_hist(b"".join(hists))
    counts = np.fromiter(map(len, hists), np.int64, len(hists)) // 6
    group, bins, ms = merge_hists(np.repeat(bucket, counts), bins, ms, n)
    return Buckets.of(
        n,
        bucket=bucket,
        energies=energies,
        seconds=seconds,
        lafmax=lafmax,
        levels=(group, bins / 10.0, ms),
    )


@dataclass(frozen=True, slots=True)
class RollupTiers:
    """Which roll-up cells answer the buckets of a ``levels()`` query.

    ``grid`` holds the bucket edges floored to whole minutes (the roll-up's resolution; a cell
    counts in the bucket of ``grid`` its start falls in, as in ``minute_buckets``). ``hours``
    are the UTC hours (Unix hour numbers, ascending) that lie wholly inside one bucket: they are
    read from the hourly roll-up, from ``hour_span`` (Unix s, ``[start, stop)``, ``None`` when
    there is none). Every other minute of ``[grid[0], grid[-1])`` is read from the minute
    roll-up, found in ``minute_span`` (which may also hold minutes of whole hours: filter them
    with ``wanted_minutes``); ``minute_runs`` are its ``[start, stop)`` stretches (Unix s), few
    for levels without ranges, scattered over the range where corrections or exclusions cut
    hours (read those run by run rather than the whole span).
    """

    grid: FloatArray
    hours: IntArray
    hour_span: tuple[float, float] | None
    minute_span: tuple[float, float] | None
    minute_runs: tuple[tuple[float, float], ...] = ()

    def wanted_hours(self, start_s: FloatArray) -> npt.NDArray[np.bool_]:
        """Which hourly cells (by start, Unix s) answer the query."""
        hour, offset = np.divmod(start_s, _HOUR_S)
        wanted: npt.NDArray[np.bool_] = (offset == 0) & np.isin(hour.astype(np.int64), self.hours)
        return wanted

    def wanted_minutes(self, start_s: FloatArray) -> npt.NDArray[np.bool_]:
        """Which minute cells (by start, Unix s) answer the query: those inside the grid and
        outside the whole hours."""
        inside = (start_s >= self.grid[0]) & (start_s < self.grid[-1])
        hour = (start_s // _HOUR_S).astype(np.int64)
        wanted: npt.NDArray[np.bool_] = inside & ~np.isin(hour, self.hours)
        return wanted


def rollup_tiers(edges: FloatArray, ranges: RangeCells | None = None) -> RollupTiers:
    """The ``RollupTiers`` of buckets with ``edges`` (Unix s): the hours
    :func:`noiselab.store.tier_plan.plan` picks (those wholly inside one bucket: all of ``1h``,
    and ``1d`` in a zone whose offsets are whole hours) and the minutes of the rest; with
    ``ranges``, hours wholly inside one correction state too (the others are read per
    minute)."""
    grid = (edges // 60) * 60
    cells = plan(grid if ranges is None else ranges.refined(grid))
    hours, runs = cells.hours, cells.minute_runs
    return RollupTiers(
        grid=grid,
        hours=hours,
        hour_span=(
            (float(hours[0] * _HOUR_S), float((hours[-1] + 1) * _HOUR_S)) if hours.size else None
        ),
        minute_span=(float(runs[0][0] * 60), float(runs[-1][1] * 60)) if runs else None,
        minute_runs=tuple((float(a * 60), float(b * 60)) for a, b in runs),
    )


def cells_within_width(cells: Series, width_s: float) -> Series:
    """Roll-up cells (minutes, hours) of ``width_s`` as readings that never reach past their
    cell (both stores give their ``minute_series`` and ``hour_series`` this way).

    Overlapping readings (re-sent with jittered timestamps) can give a cell more measured
    seconds than its width; as one reading from the cell's start it would reach into the next
    cell, perhaps the next day period. Such a cell becomes ``k = ceil(seconds / width)`` equal
    readings starting at the cell: the same energy and seconds, none past the cell's end.
    """
    pieces = np.ceil(cells.duration / width_s).astype(np.int64)
    if cells.ts.size == 0 or pieces.max() <= 1:
        return cells
    rows = np.repeat(np.arange(cells.ts.size), pieces)
    return Series(
        cells.ts[rows],
        cells.laeq[rows],
        (cells.duration / pieces)[rows],
        cells.lafmax[rows],
    )


def second_buckets(edges: FloatArray, rows: Rows, cells: RangeCells | None = None) -> Buckets:
    """1-s buckets from the raw readings ``rows`` (of one sensor), each spread over the seconds
    it overlaps like the roll-up; ``rows`` must include readings that start before ``edges[0]``
    and reach into it. With ``cells``, their ranges apply to each second: an offset shifts the
    readings' levels before the exceedance levels are found, which stay exact."""
    first_s = int(edges[0])
    row, cell, ms = spread(rows.ts_ms, rows.end_ms, 1000)
    bucket = cell - first_s
    inside = (bucket >= 0) & (bucket < edges.size - 1)
    row, bucket, ms = row[inside], bucket[inside], ms[inside]
    laeq, peak = rows.laeq[row], rows.lafmax[row]
    if cells is not None and row.size:
        states = cells.apply(bucket, edges[bucket], ms / 1000.0)
        laeq, peak = states.levels(laeq)[states.kept], states.levels(peak)[states.kept]
        row, bucket, ms = row[states.kept], bucket[states.kept], ms[states.kept]
    if row.size == 0:
        return Buckets.empty()
    short = (rows.end_ms - rows.ts_ms)[row] <= PERCENTILE_MAX_MS
    order = np.lexsort((laeq[short], bucket[short]))
    return Buckets.of(
        edges.size - 1,
        bucket=bucket,
        energies=energy(laeq, ms / 1000.0),
        seconds=ms / 1000.0,
        lafmax=peak,
        levels=(bucket[short][order], laeq[short][order], ms[short][order]),
    )


def valid_levels(buckets: Buckets, edges: FloatArray, cells: RangeCells | None) -> ValidLevels:
    """The answer of ``ReadingStore.valid_levels`` from the buckets ``cells`` applied to (or
    none)."""
    if cells is None:
        return ValidLevels(buckets.points(edges), dict.fromkeys(EXCLUSION_ORDER, 0.0))
    return ValidLevels(
        buckets.points(edges, cells),
        cells.excluded_s(),
        int(cells.mixed[buckets.index].sum()),
    )


def parse_every(every: Every | str) -> Every:
    """``every`` as an ``Every``; ``QueryError`` listing the choices otherwise."""
    try:
        return Every(every)
    except ValueError:
        choices = ", ".join(e.value for e in Every)
        raise QueryError(f"every must be one of {choices}, not {every!r}") from None


def checked_edges(start: datetime, end: datetime, every: Every, zone: ZoneInfo) -> FloatArray:
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
    edges = bucket_edges(start, end, every, zone)
    if edges.size - 1 > MAX_POINTS:
        raise _too_many(edges.size - 1, start, end, every)
    return edges


def _too_many(count: int, start: datetime, end: datetime, every: Every) -> QueryError:
    return QueryError(
        f"{start.isoformat()} to {end.isoformat()} in {every.value} buckets needs {count} points,"
        f" more than {MAX_POINTS}; choose a coarser 'every' or a shorter range"
    )
