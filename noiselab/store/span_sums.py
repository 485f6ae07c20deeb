"""The per-minute roll-up summed over many spans (``ReadingStore.minute_sums``), shared by the
SQLite and InfluxDB stores (numpy only, no I/O).

A span ``[start, end)`` (Unix s) holds the minutes that start in it; its sums are their energy
(Σ s·10^(L/10)), measured seconds and highest LAFmax, the same arithmetic as a roll-up cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.cut_pieces import rows_within
from noiselab.analysis.decibels import to_level
from noiselab.errors import QueryError
from noiselab.store.base import Series
from noiselab.store.sqlite_rollup import sum_by

__all__ = ["MAX_RUNS", "MAX_SPANS", "SpanSums", "checked_spans", "minute_bounds", "span_runs"]

MAX_SPANS = 1_000_000
"""Spans one ``minute_sums`` call takes at most (a year of minutes is 525,600)."""
MAX_RUNS = 64
"""Range reads :func:`span_runs` makes at most (InfluxDB: one Flux query each)."""


def checked_spans(starts: npt.ArrayLike, ends: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """``starts`` and ``ends`` as float arrays, or ``QueryError`` unless they are finite spans
    with ``start < end``, ascending and disjoint, at most :data:`MAX_SPANS` of them."""
    a = np.asarray(starts, dtype=np.float64).reshape(-1)
    b = np.asarray(ends, dtype=np.float64).reshape(-1)
    if a.size != b.size:
        raise QueryError(f"{a.size} span starts but {b.size} ends")
    if a.size > MAX_SPANS:
        raise QueryError(f"{a.size:,} spans, more than {MAX_SPANS:,} in one read")
    if not (np.isfinite(a).all() and np.isfinite(b).all() and (a < b).all()):
        raise QueryError("spans need finite starts before their ends")
    if (a[1:] < b[:-1]).any():
        raise QueryError("spans must be ascending and must not overlap")
    return a, b


def minute_bounds(starts: FloatArray, ends: FloatArray) -> tuple[IntArray, IntArray]:
    """The Unix minute numbers ``[first, end)`` of the minutes starting in each span."""
    return np.ceil(starts / 60.0).astype(np.int64), np.ceil(ends / 60.0).astype(np.int64)


def span_runs(
    starts: FloatArray, ends: FloatArray, gap_s: float, most: int = MAX_RUNS
) -> list[tuple[float, float]]:
    """The spans (ascending, disjoint) joined into runs ``[first start, last end)`` wherever
    the next starts at most ``gap_s`` after one ends, and where that leaves more than ``most``
    runs, across all but the ``most - 1`` widest gaps: one range read per run, at the cost of
    the minutes in the gaps, and never more than ``most`` reads."""
    if not starts.size:
        return []
    gaps = starts[1:] - ends[:-1]
    wide = np.flatnonzero(gaps > gap_s)
    if wide.size >= most:
        wide = np.sort(wide[np.argsort(gaps[wide], kind="stable")[wide.size - (most - 1) :]])
    breaks = wide + 1
    firsts = starts[np.r_[0, breaks]].tolist()
    lasts = ends[np.r_[breaks - 1, ends.size - 1]].tolist()
    return list(zip(firsts, lasts, strict=True))


@dataclass(frozen=True, slots=True)
class SpanSums:
    """Per span: ``energy`` (s·10^(L/10)), measured ``seconds`` and the highest ``lafmax``
    (dB, NaN: none)."""

    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray

    @classmethod
    def zeros(cls, n: int) -> SpanSums:
        """``n`` spans without data."""
        return cls(np.zeros(n), np.zeros(n), np.full(n, np.nan))

    @classmethod
    def of_minutes(
        cls,
        spans: tuple[FloatArray, FloatArray],
        minute_s: FloatArray,
        columns: tuple[FloatArray, FloatArray, FloatArray],
    ) -> SpanSums:
        """Sums of the minutes starting at ``minute_s`` (Unix s) with ``columns`` energy,
        seconds and LAFmax over ``spans`` (starts, ends); minutes in no span are ignored."""
        starts, ends = spans
        energy, seconds, lafmax = columns
        n = starts.size
        i = np.searchsorted(starts, minute_s, side="right") - 1
        ok = (i >= 0) & (minute_s < ends[np.maximum(i, 0)]) & (seconds > 0)
        i = i[ok]
        peak = np.full(n, np.nan)
        np.fmax.at(peak, i, lafmax[ok])
        return cls(sum_by(i, energy[ok], n), sum_by(i, seconds[ok], n), peak)

    def plus(self, other: SpanSums) -> SpanSums:
        """Both sums of the same spans together."""
        return SpanSums(
            self.energy + other.energy,
            self.seconds + other.seconds,
            np.fmax(self.lafmax, other.lafmax),
        )

    def series(self, starts: FloatArray, ends: FloatArray) -> Series:
        """One row per span with measured seconds (``ts`` its start), split into equal rows
        where they exceed the span's length (see ``ReadingStore.minute_sums``)."""
        has = self.seconds > 0
        row, seconds = rows_within(starts[has], self.seconds[has], (ends - starts)[has])
        laeq = to_level(self.energy[has] / self.seconds[has])
        return Series(
            starts[has][row],
            laeq[row],
            seconds,
            self.lafmax[has][row],
        )
