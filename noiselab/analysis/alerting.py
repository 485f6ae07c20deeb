"""Pure pieces of alert evaluation: levels over sliding windows, local-hour masks, how long
a condition has held, the quarantine rate.

Times are Unix seconds (UTC); levels dB re 20 µPa; every mean is energetic,
``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)`` with ``dᵢ`` the measured seconds of row ``i``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray

__all__ = ["held_throughout", "local_hours_mask", "quarantine_rate", "window_levels"]

BoolArray = npt.NDArray[np.bool_]


def window_levels(
    ts: npt.ArrayLike,
    laeq: npt.ArrayLike,
    seconds: npt.ArrayLike,
    lafmax: npt.ArrayLike,
    *,
    ends: npt.ArrayLike,
    window_s: float,
) -> tuple[FloatArray, FloatArray]:
    """LAeq and LAFmax over ``[e - window_s, e)`` for every ``e`` in ``ends``.

    Rows (e.g. minute roll-ups) count when their start ``tᵢ`` lies in the window. LAeq is
    energetic over the measured ``seconds``; LAFmax the highest non-NaN value. Both are NaN
    for a window without rows. Example: minutes at 60 dB and 70 dB, 60 s each, in one
    window give 10·log10((10^6 + 10^7) / 2) = 67.40 dB.
    """
    t = np.asarray(ts, dtype=np.float64).reshape(-1)
    level = np.asarray(laeq, dtype=np.float64).reshape(-1)
    weight = np.asarray(seconds, dtype=np.float64).reshape(-1)
    peak = np.asarray(lafmax, dtype=np.float64).reshape(-1)
    if not t.size == level.size == weight.size == peak.size:
        raise ValueError("ts, laeq, seconds and lafmax must have the same length")
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    e = np.asarray(ends, dtype=np.float64).reshape(-1)
    order = np.argsort(t, kind="stable")
    t, level, weight, peak = t[order], level[order], weight[order], peak[order]
    # Energy relative to the loudest row keeps the sums finite for any level.
    ref = float(level.max()) if level.size else 0.0
    energy = np.concatenate(([0.0], np.cumsum(weight * 10.0 ** ((level - ref) / 10.0))))
    measured = np.concatenate(([0.0], np.cumsum(weight)))
    lo = np.searchsorted(t, e - window_s, side="left")
    hi = np.searchsorted(t, e, side="left")
    sums, secs = energy[hi] - energy[lo], measured[hi] - measured[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        leq = np.where(secs > 0, ref + 10.0 * np.log10(sums / np.where(secs > 0, secs, 1)), np.nan)
    highest = np.full(e.size, np.nan)
    for k, (a, b) in enumerate(zip(lo, hi, strict=True)):
        chunk = peak[a:b]
        chunk = chunk[~np.isnan(chunk)]
        if chunk.size:
            highest[k] = float(chunk.max())
    return leq.astype(np.float64), highest


def local_hours_mask(ts: npt.ArrayLike, zone: ZoneInfo, hours: tuple[int, int]) -> BoolArray:
    """Whether each instant ``ts`` falls in the local hours ``[from, to)`` of ``zone``.

    ``from > to`` crosses midnight: ``(22, 7)`` is 22:00-07:00, the Danish night. Local time
    is taken per instant, so daylight-saving changes are exact: 05:30 UTC is 06:30 (inside)
    in winter and 07:30 (outside) in summer in Europe/Copenhagen.
    """
    start, end = hours
    t = np.asarray(ts, dtype=np.float64).reshape(-1)
    local = np.array([datetime.fromtimestamp(x, zone).hour for x in t.tolist()], dtype=np.int64)
    inside = (local >= start) & (local < end) if start < end else (local >= start) | (local < end)
    result: BoolArray = np.asarray(inside, dtype=np.bool_)
    return result


def held_throughout(holds: npt.ArrayLike) -> bool:
    """Whether a condition checked at regular steps held at every one of them (and there was
    at least one check)."""
    h = np.asarray(holds, dtype=np.bool_).reshape(-1)
    return bool(h.size and h.all())


def quarantine_rate(quarantined: int, stored: int) -> float | None:
    """``quarantined / (stored + quarantined)``: the share of a sensor's readings rejected;
    ``None`` when nothing arrived at all."""
    if quarantined < 0 or stored < 0:
        raise ValueError("counts must be >= 0")
    total = quarantined + stored
    return None if total == 0 else quarantined / total
