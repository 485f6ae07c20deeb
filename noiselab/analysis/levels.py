"""Energetic averaging and exceedance levels: numpy in, numbers out.

Levels are in dB (re 20 µPa), durations and weights in seconds (any consistent time unit works
for weights, the result does not depend on it). Decibels are never averaged arithmetically:

* sound energy of a reading: ``E = d·10^(L/10)`` (s, relative to the reference intensity);
* energetic mean (Leq): ``L = 10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)``.

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

__all__ = [
    "DEFAULT_PERCENTS",
    "energetic_mean",
    "energy",
    "exceedance_levels",
    "exceedance_levels_by_group",
    "level_from_energy",
]

FloatArray = npt.NDArray[np.float64]

DEFAULT_PERCENTS: tuple[float, ...] = (10.0, 50.0, 90.0)
"""L10, L50, L90: the exceedance levels reported by level queries."""


def _as_levels(levels: npt.ArrayLike) -> FloatArray:
    arr = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError("no levels given")
    if not np.isfinite(arr).all():
        raise ValueError("levels must be finite numbers (dB)")
    return arr


def _as_durations(durations: npt.ArrayLike, size: int) -> FloatArray:
    arr = np.ascontiguousarray(durations, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{arr.size} durations for {size} levels")
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError("durations must be finite and positive (s)")
    return arr


def energy(levels: npt.ArrayLike, durations: npt.ArrayLike) -> FloatArray:
    """Sound energy ``dᵢ·10^(Lᵢ/10)`` of each reading (dB, s -> s, relative to 20 µPa²).

    Energies add: the energy of a period is the sum over its readings, and its level is
    ``level_from_energy(sum, seconds)``.
    """
    lv = _as_levels(levels)
    return _as_durations(durations, lv.size) * np.power(10.0, lv / 10.0)


def level_from_energy(energy_sum: float, seconds: float) -> float:
    """Equivalent continuous level ``10·log10(E / T)`` in dB of energy ``E`` over ``T`` seconds."""
    if not (seconds > 0 and energy_sum > 0):
        raise ValueError(f"need positive energy and seconds, got {energy_sum!r}, {seconds!r}")
    return float(10.0 * np.log10(energy_sum / seconds))


def energetic_mean(levels: npt.ArrayLike, durations: npt.ArrayLike | None = None) -> float:
    """Energetic mean (Leq) in dB: ``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)``.

    ``durations`` (s) weight each level; equal weights when omitted. Worked case from
    python-acoustics' tests: six 1-s levels 80, 80.3, 80.6, 80.4, 79.7, 76.9 dB give
    79.806989166 dB. Raises ``ValueError`` on no levels, non-finite levels or durations that are
    not positive.
    """
    lv = _as_levels(levels)
    d = np.ones_like(lv) if durations is None else _as_durations(durations, lv.size)
    # Factor out the loudest level so 10^(L/10) cannot overflow and small terms keep precision.
    top = float(lv.max())
    ratio = float(np.dot(d, np.power(10.0, (lv - top) / 10.0)) / d.sum())
    return top + 10.0 * float(np.log10(ratio))


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
    lv = _as_levels(levels)
    w = _as_durations(weights, lv.size)
    points = _percentile_points(percents)
    result = np.percentile(lv, points, weights=w, method="inverted_cdf")
    return tuple(float(v) for v in result)


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
