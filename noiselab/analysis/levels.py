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

import math
from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_PERCENTS",
    "energetic_mean",
    "energy",
    "exceedance_levels",
    "exceedance_levels_by_group",
    "leq",
    "level_from_energy",
    "percentile_level",
    "relative_energy",
    "to_energy",
    "to_level",
]

FloatArray = npt.NDArray[np.float64]

DEFAULT_PERCENTS: tuple[float, ...] = (10.0, 50.0, 90.0)
"""L10, L50, L90: the exceedance levels reported by level queries."""

LN10_TENTH = math.log(10.0) / 10.0
"""``ln(10)/10``: ``10^(L/10) = exp(L·ln(10)/10)``, the form numpy evaluates fastest."""

CHUNK = 1 << 15
"""Values per block in the energy loops: 32,768 float64 (256 KiB) stay in a 2 MiB L2 cache."""


def _level_range(arr: FloatArray) -> tuple[float, float]:
    """``(min, max)`` of a non-empty array, or ``ValueError`` if any value is NaN or infinite.

    Two reductions instead of ``np.isfinite(arr).all()``: no temporary array (NaN propagates
    into both, an infinity shows in one of them)."""
    low, high = float(arr.min()), float(arr.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("levels must be finite numbers (dB)")
    return low, high


def _as_levels(levels: npt.ArrayLike) -> FloatArray:
    arr = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError("no levels given")
    _level_range(arr)
    return arr


def _as_durations(durations: npt.ArrayLike, size: int) -> FloatArray:
    arr = np.ascontiguousarray(durations, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{arr.size} durations for {size} levels")
    if size and not (float(arr.min()) > 0 and math.isfinite(float(arr.max()))):
        raise ValueError("durations must be finite and positive (s)")
    return arr


def energy(levels: npt.ArrayLike, durations: npt.ArrayLike) -> FloatArray:
    """Sound energy ``dᵢ·10^(Lᵢ/10)`` of each reading (dB, s -> s, relative to 20 µPa²).

    Energies add: the energy of a period is the sum over its readings, and its level is
    ``level_from_energy(sum, seconds)``.
    """
    lv = _as_levels(levels)
    return _as_durations(durations, lv.size) * np.power(10.0, lv / 10.0)


def to_energy(levels: npt.ArrayLike) -> FloatArray:
    """Relative energy (intensity ratio) ``10^(L/10)`` of each level in dB, no duration.

    ``to_energy(60) = 10^6``. The inverse of ``to_level``. Overflows to infinity above
    ≈ 3083 dB; ``leq`` avoids that by factoring out the loudest level.
    """
    return np.power(10.0, _as_levels(levels) / 10.0)


@overload
def to_level(energy: float) -> float: ...


@overload
def to_level(energy: FloatArray | Sequence[float]) -> FloatArray: ...


def to_level(energy: float | FloatArray | Sequence[float]) -> float | FloatArray:
    """Level ``10·log10(E)`` in dB of a relative energy ``E`` (``to_level(10^6) = 60``).

    A scalar gives a float, an array an array. Energies must be finite and positive (a zero
    energy has no level: ``ValueError`` rather than ``-inf``).
    """
    arr = np.asarray(energy, dtype=np.float64)
    if arr.size and not (float(arr.min()) > 0 and math.isfinite(float(arr.max()))):
        raise ValueError("energies must be finite and positive")
    result = 10.0 * np.log10(arr)
    return float(result) if result.ndim == 0 else result


def level_from_energy(energy_sum: float, seconds: float) -> float:
    """Equivalent continuous level ``10·log10(E / T)`` in dB of energy ``E`` over ``T`` seconds."""
    if not (seconds > 0 and energy_sum > 0):
        raise ValueError(f"need positive energy and seconds, got {energy_sum!r}, {seconds!r}")
    return float(10.0 * np.log10(energy_sum / seconds))


def relative_energy(levels: FloatArray, ref: float, out: FloatArray) -> FloatArray:
    """``10^((L - ref)/10)`` into ``out`` (same length as ``levels``), computed in place.

    ``ref`` (dB) is usually the loudest level, so nothing overflows and the loudest terms keep
    full precision; the energy relative to 20 µPa² is the result times ``10^(ref/10)``.
    """
    np.subtract(levels, ref, out=out)
    np.multiply(out, LN10_TENTH, out=out)
    return np.exp(out, out=out)


def _energy_sum(levels: FloatArray, ref: float, durations: FloatArray | None) -> float:
    """``Σ dᵢ·10^((Lᵢ - ref)/10)`` (``dᵢ = 1`` without durations), block by block.

    Each block's temporaries stay in cache, which makes this 3 to 4 times faster than the textbook
    ``np.sum(10**(levels/10))`` on a sensor-year and needs no array as large as the input.
    """
    buf = np.empty(min(CHUNK, levels.size), dtype=np.float64)
    total = 0.0
    for a in range(0, levels.size, CHUNK):
        part = relative_energy(levels[a : a + CHUNK], ref, buf[: min(CHUNK, levels.size - a)])
        total += float(part.sum() if durations is None else np.dot(durations[a : a + CHUNK], part))
    return total


def leq(levels: npt.ArrayLike, durations: npt.ArrayLike | None = None) -> float:
    """Equivalent continuous level (energetic mean) in dB: ``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)``.

    ``levels`` in dB; ``durations`` (s) weight each level, equal weights when omitted. This is
    ``L_eq,T`` of ISO 1996-1:2016 (clause 3, "equivalent continuous sound pressure level") when
    the readings tile the interval ``T``. Worked case from python-acoustics' tests: six 1-s
    levels 80, 80.3, 80.6, 80.4, 79.7, 76.9 dB give 79.806989166 dB; 60 and 70 dB for equal
    times give 67.40 dB. The loudest level is factored out, so levels far above 3000 dB do
    not overflow. Raises ``ValueError`` on no levels, non-finite levels or durations that are
    not positive.
    """
    lv = _as_levels(levels)
    top = float(lv.max())
    if durations is None:
        return top + 10.0 * math.log10(_energy_sum(lv, top, None) / lv.size)
    d = _as_durations(durations, lv.size)
    return top + 10.0 * math.log10(_energy_sum(lv, top, d) / float(d.sum()))


energetic_mean = leq
"""Former name of ``leq``, kept for existing callers."""


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
    lv = _as_levels(levels)
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
