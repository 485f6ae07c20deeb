"""Readings as validated arrays sorted by start, the input of every aggregation.

A reading is an interval ``[ts, ts + duration)`` (Unix seconds, UTC; duration in s, 1 s by
default) over which its LAeq (dB) is taken as constant; its LAFmax (dB, optional, NaN where
unknown) happened somewhere in that interval. ``Readings.of`` refuses non-finite timestamps,
levels and durations, non-positive durations and arrays of different lengths (``ValueError``),
and sorts by start unless the input already is sorted (then nothing is copied).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IndexArray
from noiselab.analysis.decibels import CHUNK

__all__ = ["Readings"]

_ORDER_CHUNK = 1 << 20
"""Timestamps compared per step when checking their order (a temporary mask of 1 MiB)."""


@dataclass(frozen=True, slots=True)
class Readings:
    """Readings sorted by start: ``ts`` (Unix s), ``levels`` (dB), ``durations`` (s; ``None``
    means 1 s each), ``lafmax`` (dB, NaN where unknown; ``None`` if not given); ``low`` and
    ``high``: the lowest and highest level (dB; NaN without readings)."""

    ts: FloatArray
    levels: FloatArray
    durations: FloatArray | None
    lafmax: FloatArray | None
    low: float
    high: float

    @classmethod
    def of(
        cls,
        ts: npt.ArrayLike,
        levels: npt.ArrayLike,
        durations: npt.ArrayLike | None = None,
        lafmax: npt.ArrayLike | None = None,
    ) -> Readings:
        """Validate, and sort by ``ts`` unless already sorted (no copy then)."""
        t = np.ascontiguousarray(ts, dtype=np.float64).reshape(-1)
        ordered = _is_sorted(t)
        # Sorted (NaN never is) and finite at both ends means finite throughout.
        _check_finite(t[[0, -1]] if ordered and t.size else t, "timestamps")
        lv = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
        low, high = _check_finite(lv, "levels")
        d = None if durations is None else _finite(durations, "durations")
        mx = None if lafmax is None else np.ascontiguousarray(lafmax, np.float64).reshape(-1)
        for name, arr in (("levels", lv), ("durations", d), ("lafmax", mx)):
            if arr is not None and arr.size != t.size:
                raise ValueError(f"{arr.size} {name} for {t.size} timestamps")
        if d is not None and d.size and not float(d.min()) > 0:
            raise ValueError("durations must be positive (s)")
        if ordered:
            return cls(t, lv, d, mx, low, high)
        order = np.argsort(t, kind="stable")
        return cls(
            t[order],
            lv[order],
            None if d is None else d[order],
            None if mx is None else mx[order],
            low,
            high,
        )

    @property
    def size(self) -> int:
        return int(self.ts.size)

    def max_duration(self) -> float:
        return 1.0 if self.durations is None or not self.size else float(self.durations.max())

    def ends(self, index: IndexArray) -> FloatArray:
        """End instants ``ts + duration`` of the readings ``index``."""
        t = self.ts[index]
        return t + 1.0 if self.durations is None else t + self.durations[index]

    def durations_of(self, index: IndexArray) -> FloatArray:
        """Durations (s) of the readings ``index``."""
        return np.ones(index.size) if self.durations is None else self.durations[index]

    def weights(self, a: int, b: int) -> FloatArray:
        """A writable copy of the durations of readings ``a:b``."""
        if self.durations is None:
            return np.ones(b - a, dtype=np.float64)
        return self.durations[a:b].copy()

    def span(self) -> tuple[float, float]:
        """First start and last end (Unix s) of non-empty readings."""
        if self.durations is None:
            return float(self.ts[0]), float(self.ts[-1]) + 1.0
        last = max(
            float((self.ts[a : a + CHUNK] + self.durations[a : a + CHUNK]).max())
            for a in range(0, self.size, CHUNK)
        )
        return float(self.ts[0]), last


def _check_finite(arr: FloatArray, name: str) -> tuple[float, float]:
    """``(min, max)`` of ``arr`` (NaN when empty); ``ValueError`` unless all are finite."""
    if not arr.size:
        return math.nan, math.nan
    low, high = float(arr.min()), float(arr.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name} must be finite numbers")
    return low, high


def _finite(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    _check_finite(arr, name)
    return arr


def _is_sorted(ts: FloatArray) -> bool:
    """``ts`` ascending, checked block by block (no temporary as large as the input)."""
    for a in range(0, max(ts.size - 1, 0), _ORDER_CHUNK):
        b = min(a + _ORDER_CHUNK, ts.size - 1)
        if not bool(np.all(ts[a + 1 : b + 1] >= ts[a:b])):
            return False
    return True
