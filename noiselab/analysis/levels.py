"""Exceedance levels (L10, L50, L90): numpy in, numbers out.

Levels are in dB (re 20 µPa), durations and weights in seconds. Energetic means and sums live in
:mod:`noiselab.analysis.decibels`.

Exceedance levels ``L_N`` (the level exceeded ``N`` % of the measured time) use the
*time-weighted nearest-rank* convention: ``L_N`` is the lowest level ``x`` of the data such that
the levels at or below ``x`` account for at least ``100 - N`` % of the time, i.e.
``np.percentile(levels, 100 - N, weights=durations, method="inverted_cdf")``. No interpolation:
the result is always one of the input levels (``np.percentile(x, 10)`` would be L90, not L10).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.decibels import as_durations, as_levels

__all__ = [
    "DEFAULT_PERCENTS",
    "HISTOGRAM_MAX_DB",
    "HISTOGRAM_MAX_SECONDS",
    "HISTOGRAM_MIN_DB",
    "bin_levels",
    "exceedance_levels",
    "exceedance_levels_by_group",
    "exceedance_levels_from_histograms",
    "level_bins",
    "percentile_level",
]

DEFAULT_PERCENTS: tuple[float, ...] = (10.0, 50.0, 90.0)
"""L10, L50, L90: the exceedance levels reported by level queries."""

BINS_PER_DB = 10
"""Histogram bins per dB: bin ``round(L·10)`` stands for ``bin / 10`` dB."""
HISTOGRAM_MIN_DB = 0.0
"""Lowest level (dB) that fits a histogram bin (bin 0)."""
HISTOGRAM_MAX_DB = 6553.5
"""Highest level (dB) that fits a histogram bin (bin 65535, the store's ``uint16``)."""
HISTOGRAM_MAX_SECONDS = 1.0
"""Longest reading (s) whose level enters a histogram: the LAeq of a longer interval hides
the short-term distribution the exceedance levels describe (the store's 1,000 ms)."""


def _percentile_points(percents: Sequence[float]) -> FloatArray:
    """``100 - N`` for each exceedance percent ``N``: L10 is the 90th percentile."""
    pct = np.asarray(percents, dtype=np.float64).reshape(-1)
    if pct.size == 0 or not ((pct >= 0) & (pct <= 100)).all():
        raise ValueError(f"percents must be within 0..100, got {list(percents)}")
    return 100.0 - pct


def exceedance_levels(
    levels: npt.ArrayLike,
    weights: npt.ArrayLike,
    percents: Sequence[float] = DEFAULT_PERCENTS,
) -> tuple[float, ...]:
    """Time-weighted exceedance levels ``L_N`` (dB) for each ``N`` in ``percents``.

    ``L_N = np.percentile(levels, 100 - N, weights=weights, method="inverted_cdf")``: the lowest
    level whose cumulative weight (levels sorted ascending) reaches ``100 - N`` % of the total,
    nearest rank, no interpolation. ``weights`` are the seconds each level lasted. Example:
    levels 1..10 dB for 1 s each give L10 = 9, L50 = 5, L90 = 1.
    """
    lv = as_levels(levels)
    w = as_durations(weights, lv.size)
    points = _percentile_points(percents)
    result = np.percentile(lv, points, weights=w, method="inverted_cdf")
    return tuple(float(v) for v in result)


def percentile_level(
    levels: npt.ArrayLike, n: float, durations: npt.ArrayLike | None = None
) -> float:
    """``L_n`` in dB: the level exceeded for ``n`` % of the measured time (0 ≤ n ≤ 100).

    Definition: ISO 1996-1:2016, clause 3 (terms and definitions), "N percent exceedance
    level" (e.g. ``L_AF95,1h``): the level exceeded for N % of the time interval considered.
    ``durations`` (s) give each level its share of the time; equal shares when omitted.

    Interpolation: none. ``L_n`` is the lowest input level ``x`` such that the levels ≤ ``x``
    last at least ``100 - n`` % of the time (nearest rank on the time-weighted distribution,
    ``np.percentile(levels, 100 - n, weights=durations, method="inverted_cdf")``). Chosen
    because it stays exact for unequal durations (a level measured for 10 s counts as ten 1-s
    readings of it), always returns a level that was actually measured, and is what the
    store's roll-ups reproduce from their level histograms; linear interpolation between
    ranks has no time-weighted meaning. Example: 1..10 dB for 1 s each give L10 = 9 dB,
    L50 = 5 dB, L90 = 1 dB.
    """
    lv = as_levels(levels)
    d = np.ones_like(lv) if durations is None else durations
    return exceedance_levels(lv, d, (n,))[0]


def exceedance_levels_by_group(
    levels: npt.ArrayLike,
    weights: npt.ArrayLike,
    starts: npt.ArrayLike,
    percents: Sequence[float] = DEFAULT_PERCENTS,
) -> FloatArray:
    """``exceedance_levels`` for many groups at once: an array of shape ``(groups, percents)``.

    Group ``g`` is ``levels[starts[g]:starts[g+1]]`` (the last runs to the end); ``starts``
    begins at 0 and increases strictly, so no group is empty. Within each group ``levels`` must
    be sorted ascending and ``weights`` (s) positive. With integer-valued weights (e.g.
    milliseconds) the result equals ``exceedance_levels`` of each group exactly; with fractional
    weights it may differ where a cumulative weight ties a threshold within rounding.
    """
    lv = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
    w = np.ascontiguousarray(weights, dtype=np.float64).reshape(-1)
    first = np.asarray(starts, dtype=np.intp).reshape(-1)
    # The same arithmetic as np.percentile (q / 100, cumsum / total), so thresholds compare bit
    # for bit; with integer weights the cumulative sums are exact wherever a group starts.
    q = np.true_divide(_percentile_points(percents), 100)
    sizes = np.diff(np.append(first, lv.size))
    group = np.repeat(np.arange(first.size), sizes)
    cum = np.cumsum(w)
    within = cum - np.concatenate(([0.0], cum))[first][group]
    cdf = within / within[first + sizes - 1][group]
    result = np.empty((first.size, q.size), dtype=np.float64)
    for j, threshold in enumerate(q):
        below = np.add.reduceat((cdf < threshold).astype(np.intp), first)
        result[:, j] = lv[first + np.minimum(below, sizes - 1)]
    return result


def level_bins(levels: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Histogram bin of each level (dB): ``round(L·10)``, half to even (``np.rint``)."""
    lv = np.asarray(levels, dtype=np.float64)
    return np.rint(lv * BINS_PER_DB).astype(np.int64)


def bin_levels(levels: npt.ArrayLike) -> FloatArray:
    """The level (dB) of each level's histogram bin: ``round(L·10) / 10``, within 0.05 dB of
    ``L`` (up to the float rounding of ``L·10``). Applied to an exact nearest-rank ``L_N`` it
    gives what the histogram of the same data answers (see the module docstring)."""
    lv = np.asarray(levels, dtype=np.float64)
    return np.rint(lv * BINS_PER_DB) / BINS_PER_DB


def exceedance_levels_from_histograms(
    weights: npt.ArrayLike,
    low_bin: int,
    percents: Sequence[float] = DEFAULT_PERCENTS,
) -> FloatArray:
    """``L_N`` (dB) of each row of a dense histogram table: shape ``(rows, percents)``.

    ``weights[g, j] ≥ 0`` is the time (s, ms, or a count of equal readings) measured in group
    ``g`` at bin ``low_bin + j``, i.e. at ``(low_bin + j) / 10`` dB; a row without weight gives
    NaN. The answer is exactly ``exceedance_levels_by_group`` over the non-empty bins of each
    row (bin levels ascending, the same cumulative sums and float comparisons), found without
    listing the bins: one running sum over the whole table (integers stay integers, exact),
    then per row and percent a binary search for the first bin whose cumulative fraction
    reaches ``1 - N/100``. Integer weights make the result independent of the order in which
    the histogram was filled.
    """
    table = np.asarray(weights)
    if table.ndim != 2:
        raise ValueError(f"weights must be a (groups, bins) table, got shape {table.shape}")
    if table.dtype.kind not in "iu":
        table = table.astype(np.float64, copy=False)
    q = np.true_divide(_percentile_points(percents), 100)
    rows, width = table.shape
    out = np.full((rows, q.size), np.nan)
    if not table.size:
        return out
    cum = np.cumsum(table.reshape(-1))
    last = np.arange(1, rows + 1) * width - 1
    before = np.concatenate((np.zeros(1, cum.dtype), cum[last[:-1]]))
    has = np.flatnonzero(cum[last] > before)
    rank = _RankSearch(cum, before[has], has * width, last[has])
    first = np.searchsorted(cum, rank.base, side="right")  # the lowest non-empty bin
    for j, threshold in enumerate(q.tolist()):
        cell = np.maximum(rank.first_reaching(threshold), first)
        out[has, j] = (cell - rank.start + low_bin) / BINS_PER_DB
    return out


class _RankSearch:
    """Rows of a table flattened into one running sum ``cum``: row ``g`` occupies cells
    ``start[g]..stop[g]`` and its cumulative weights are ``cum[cell] - base[g]``, as
    ``exceedance_levels_by_group`` computes them (so the float arithmetic is identical)."""

    def __init__(
        self,
        cum: npt.NDArray[np.float64] | npt.NDArray[np.int64],
        base: npt.NDArray[np.float64] | npt.NDArray[np.int64],
        start: npt.NDArray[np.intp],
        stop: npt.NDArray[np.intp],
    ) -> None:
        self.cum, self.base, self.start, self.stop = cum, base, start, stop
        self.total = self._within(stop, np.arange(stop.size))

    def _within(self, cell: npt.NDArray[np.intp], row: npt.NDArray[np.intp]) -> FloatArray:
        return np.asarray(self.cum[cell] - self.base[row], dtype=np.float64)

    def _reaches(
        self, cell: npt.NDArray[np.intp], row: npt.NDArray[np.intp], threshold: float
    ) -> npt.NDArray[np.bool_]:
        # ``not (cdf < threshold)``: the test exceedance_levels_by_group (np.percentile) makes.
        return ~(self._within(cell, row) / self.total[row] < threshold)

    def first_reaching(self, threshold: float) -> npt.NDArray[np.intp]:
        """Per row, the first cell whose cumulative fraction reaches ``threshold``.

        The fraction grows with the cell, so a guess from the rounded target is corrected
        by jumping between distinct running sums until the cell reaches and its predecessor
        does not; the last cell always reaches (its fraction is 1)."""
        target = self.base + threshold * self.total
        cell = np.clip(
            np.searchsorted(self.cum, target.astype(self.cum.dtype), side="left"),
            self.start,
            self.stop,
        )
        everyone = np.arange(cell.size)
        while True:
            short = ~self._reaches(cell, everyone, threshold)
            prev = np.maximum(cell - 1, self.start)
            back = (cell > self.start) & ~short & self._reaches(prev, everyone, threshold)
            if not (short.any() or back.any()):
                return cell
            cell[short] = np.searchsorted(self.cum, self.cum[cell[short]], side="right")
            cell[back] = np.maximum(
                np.searchsorted(self.cum, self.cum[prev[back]], side="left"), self.start[back]
            )
