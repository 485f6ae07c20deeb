"""Which roll-up cells answer a levels query exactly (numpy only, no I/O).

A bucket's energy, seconds, LAFmax and histogram are sums over any set of cells that tiles it,
so a query may read, for each bucket, whole local days from the daily tier, whole UTC hours
from the hourly tier and minutes for the rest. :func:`plan` picks the coarsest cells that lie
wholly inside one bucket: a year in ``1h`` buckets reads 8,760 hourly cells instead of 525,600
minutes, a year in ``1d`` buckets 365 daily cells; a ``1d`` bucket in another zone than the
daily tier's reads hours (and minutes where the zone's midnight is not on a whole UTC hour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray

__all__ = ["TierPlan", "plan"]


@dataclass(frozen=True, slots=True)
class TierPlan:
    """Cells to read: ``days`` (indices into the midnights given to :func:`plan`), ``hours``
    (UTC hour numbers) and ``minute_runs`` (``[first, end)`` Unix minute ranges), each
    ascending and together tiling the query range exactly once."""

    days: IntArray
    hours: IntArray
    minute_runs: list[tuple[int, int]]


def plan(edges: FloatArray, midnights: IntArray | None = None) -> TierPlan:
    """The cells answering buckets ``[edges[i], edges[i+1])`` (UTC s, whole minutes).

    ``midnights`` are the daily tier's day starts (UTC s, ascending; day ``k`` is
    ``[midnights[k], midnights[k+1])``), or ``None`` to use no days. A day or hour is used
    when it lies wholly inside one bucket; a day only when both its midnights are whole hours.
    """
    lo, hi = int(edges[0]), int(edges[-1])
    covered_start: list[IntArray] = []
    covered_end: list[IntArray] = []
    days = np.zeros(0, np.int64)
    if midnights is not None and midnights.size > 1:
        start, end = midnights[:-1], midnights[1:]
        whole = (start % 3600 == 0) & (end % 3600 == 0)
        usable = whole & (start >= lo) & (end <= hi) & _one_bucket(edges, start, end)
        days = np.flatnonzero(usable).astype(np.int64)
        covered_start.append(start[days])
        covered_end.append(end[days])
    first_hour, end_hour = -(-lo // 3600), hi // 3600
    hours = np.arange(first_hour, max(first_hour, end_hour), dtype=np.int64)
    usable = _one_bucket(edges, hours * 3600, (hours + 1) * 3600)
    if days.size:
        inside = np.searchsorted(covered_start[0], hours * 3600, side="right") - 1
        in_day = (inside >= 0) & (hours * 3600 < covered_end[0][np.maximum(inside, 0)])
        usable &= ~in_day
    hours = hours[usable]
    covered_start.append(hours * 3600)
    covered_end.append((hours + 1) * 3600)
    return TierPlan(days, hours, _gaps(lo, hi, covered_start, covered_end))


def _one_bucket(edges: FloatArray, start: IntArray, end: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each ``[start, end)`` lies in a single bucket."""
    first = np.searchsorted(edges, start, side="right")
    last = np.searchsorted(edges, end, side="left")
    return np.asarray(first == last)


def _gaps(lo: int, hi: int, starts: list[IntArray], ends: list[IntArray]) -> list[tuple[int, int]]:
    """Minute runs of ``[lo, hi)`` not covered by the disjoint ``[start, end)`` intervals."""
    start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
    end = np.concatenate(ends) if ends else np.zeros(0, np.int64)
    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    gap_start = np.concatenate(([lo], end))
    gap_end = np.concatenate((start, [hi]))
    keep = gap_end > gap_start
    return [
        (a // 60, b // 60)
        for a, b in zip(gap_start[keep].tolist(), gap_end[keep].tolist(), strict=True)
    ]
