"""Decibel arithmetic: energetic sums and means, and the 0.01 dB rounding of every answer.

The one place where levels become energies and back (python-acoustics' ``decibel.py`` is the
model). Levels are in dB (re 20 µPa), durations and weights in seconds (any consistent time unit
works for weights, the result does not depend on it). Decibels are never averaged arithmetically:

* sound energy of a reading: ``E = d·10^(L/10)`` (s, relative to the reference intensity);
* energetic mean (Leq): ``L = 10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)``;
* energetic sum (levels of sources that add): ``L = 10·log10(Σ 10^(Lᵢ/10))``.

Answers are rounded to 0.01 dB (``round_db``) where they leave the platform: two decimals are
finer than any class 1 meter's tolerance (IEC 61672-1: ±0.7 dB at 1 kHz) and keep energetic sums
of stored values reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray

__all__ = [
    "DB_DECIMALS",
    "as_durations",
    "as_levels",
    "energetic_sum",
    "energy",
    "leq",
    "leq_along",
    "level_from_energy",
    "relative_energy",
    "round_db",
    "round_db_or_none",
    "to_energy",
    "to_level",
]

DB_DECIMALS = 2
"""Decimals of every level the platform answers with: 0.01 dB."""

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


def as_levels(levels: npt.ArrayLike) -> FloatArray:
    """``levels`` as a contiguous 1-D float64 array; ``ValueError`` when empty or not finite."""
    arr = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise ValueError("no levels given")
    _level_range(arr)
    return arr


def as_durations(durations: npt.ArrayLike, size: int) -> FloatArray:
    """``durations`` (s) as a 1-D float64 array of ``size`` finite, positive values, else
    ``ValueError``."""
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
    lv = as_levels(levels)
    return as_durations(durations, lv.size) * np.power(10.0, lv / 10.0)


def to_energy(levels: npt.ArrayLike) -> FloatArray:
    """Relative energy (intensity ratio) ``10^(L/10)`` of each level in dB, no duration.

    ``to_energy(60) = 10^6``. The inverse of ``to_level``. Overflows to infinity above
    ≈ 3083 dB; ``leq`` avoids that by factoring out the loudest level.
    """
    return np.power(10.0, as_levels(levels) / 10.0)


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
    lv = as_levels(levels)
    top = float(lv.max())
    if durations is None:
        return top + 10.0 * math.log10(_energy_sum(lv, top, None) / lv.size)
    d = as_durations(durations, lv.size)
    return top + 10.0 * math.log10(_energy_sum(lv, top, d) / float(d.sum()))


def energetic_sum(levels: npt.ArrayLike) -> float:
    """Level in dB of sources that add: ``10·log10(Σ 10^(Lᵢ/10))``.

    Two equal levels add to 3.01 dB more (``energetic_sum([60, 60]) = 63.0103``); 60 and 70 dB
    give 70.41 dB. The loudest level is factored out, as in ``leq``.
    """
    lv = as_levels(levels)
    top = float(lv.max())
    return top + 10.0 * math.log10(_energy_sum(lv, top, None))


def leq_along(levels: npt.ArrayLike, axis: int = 0) -> FloatArray:
    """Energetic mean in dB along ``axis`` of an array of levels, equal weights:
    ``10·log10(mean(10^(L/10)))`` per remaining position (e.g. the combined hourly level of
    several sensors from a ``(sensors, hours)`` stack with ``axis=0``).

    ``[[60, 70], [70, 70]]`` along axis 0 gives ``[67.40, 70.0]``. NaN propagates (a missing
    level makes its column NaN); infinities are refused with ``ValueError``.
    """
    arr = np.asarray(levels, dtype=np.float64)
    if np.isinf(arr).any():
        raise ValueError("levels must be finite numbers (dB)")
    top = np.max(arr, axis=axis, keepdims=True)
    mean = np.mean(np.exp((arr - top) * LN10_TENTH), axis=axis, keepdims=True)
    result: FloatArray = np.squeeze(top + 10.0 * np.log10(mean), axis=axis)
    return result


def round_db(level: float) -> float:
    """``level`` (dB) rounded to 0.01 dB, as every answer of the platform reports it."""
    return round(level, DB_DECIMALS)


def round_db_or_none(level: float | None) -> float | None:
    """``round_db`` that passes ``None`` (no level: no data) through."""
    return None if level is None else round_db(level)
