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
    "exceedance_levels",
    "exceedance_levels_by_group",
    "percentile_level",
]

DEFAULT_PERCENTS: tuple[float, ...] = (10.0, 50.0, 90.0)
"""L10, L50, L90: the exceedance levels reported by level queries."""


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
