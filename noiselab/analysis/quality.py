"""Data quality of a sensor's series: coverage, gaps, message-counter gaps, stuck values.

Numpy in, plain dataclasses out. Times are Unix seconds (UTC); a reading starting at ``tᵢ``
with duration ``dᵢ`` covers the half-open interval ``[tᵢ, tᵢ + dᵢ)`` (the MQTT contract's
``ts`` is the start of the measurement interval, ``duration`` defaults to 1 s).

One gap rule serves every function here and event detection: reading ``i + 1`` *continues*
the series unless it starts more than ``min_gap_s`` after the end of everything before it,
``tᵢ₊₁ - maxⱼ≤ᵢ(tⱼ + dⱼ) > min_gap_s``. The default ``min_gap_s`` is half the median reading
duration, so one missing 1-s reading (a 1-s hole) is a gap, while clock jitter below half a
reading is not. Equivalently: the next *start* comes later than 1.5 times the median interval,
the usual rule for regularly sampled data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray

__all__ = [
    "Gap",
    "SeqGap",
    "StuckRun",
    "coverage",
    "find_gaps",
    "find_stuck",
    "seq_gaps",
    "seq_resets",
]

BoolArray = npt.NDArray[np.bool_]

DEFAULT_GAP_FRACTION = 0.5
"""Default ``min_gap_s`` as a fraction of the median reading duration (see module docstring)."""

_DECIMAL_SLACK_DB = 1e-9
"""Added to ``tolerance_db`` so 50.1 - 50.0 (0.10000000000000142 in binary) counts as 0.1 dB."""


@dataclass(frozen=True, slots=True)
class Gap:
    """No data from ``start`` (end of a reading, Unix s) to ``end`` (start of the next)."""

    start: float
    end: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class SeqGap:
    """Message counters ``first_missing..last_missing`` (inclusive) never arrived.

    ``index`` is the position, in the series given, of the first reading after the gap.
    """

    index: int
    first_missing: int
    last_missing: int
    missing: int


@dataclass(frozen=True, slots=True)
class StuckRun:
    """``count`` readings from ``start`` to ``end`` (Unix s) all within tolerance of ``level``."""

    start: float
    end: float
    duration_s: float
    level: float
    count: int


def _as_series(values: npt.ArrayLike, name: str) -> FloatArray:
    """``values`` as a 1-D float64 array of finite numbers (``ValueError`` naming ``name``)."""
    arr = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite numbers")
    return arr


def _as_durations(durations: npt.ArrayLike | None, size: int) -> FloatArray:
    """Reading durations in seconds, 1 s each when ``None``; finite and positive."""
    if durations is None:
        return np.ones(size, dtype=np.float64)
    arr = np.ascontiguousarray(durations, dtype=np.float64).reshape(-1)
    if arr.size != size:
        raise ValueError(f"{arr.size} durations for {size} readings")
    if not (np.isfinite(arr).all() and (arr > 0).all()):
        raise ValueError("durations must be finite and positive (s)")
    return arr


def _as_increasing_times(ts: npt.ArrayLike) -> FloatArray:
    """Timestamps (Unix s) that must increase strictly, as the store returns them."""
    t = _as_series(ts, "ts")
    if t.size > 1 and not (np.diff(t) > 0).all():
        raise ValueError("ts must be strictly increasing")
    return t


def _default_min_gap(durations: FloatArray) -> float:
    """``DEFAULT_GAP_FRACTION`` times the median reading duration (s)."""
    return DEFAULT_GAP_FRACTION * float(np.median(durations))


def _gap_after(ts: FloatArray, durations: FloatArray, min_gap_s: float | None = None) -> BoolArray:
    """``gap[i]`` is True when reading ``i + 1`` does not continue the series (``ts`` sorted).

    The rule of the module docstring; the result has one element fewer than ``ts``.
    """
    if ts.size < 2:
        return np.zeros(0, dtype=np.bool_)
    limit = _default_min_gap(durations) if min_gap_s is None else min_gap_s
    covered_until = np.maximum.accumulate(ts + durations)[:-1]
    result: BoolArray = (ts[1:] - covered_until) > limit
    return result


def _first_where(
    values: FloatArray,
    lo: int,
    hi: int,
    test: Callable[[FloatArray], BoolArray],
    *,
    backwards: bool = False,
) -> int | None:
    """Index in ``[lo, hi)`` nearest ``lo`` (or ``hi - 1`` when ``backwards``) where ``test``.

    Scans outward in chunks that double in size, so the cost is proportional to the distance
    to the hit, not to the length of ``values``. ``None`` when no element passes.
    """
    width = 64
    while lo < hi:
        if backwards:
            start = max(lo, hi - width)
            hits = np.flatnonzero(test(values[start:hi]))
            if hits.size:
                return start + int(hits[-1])
            hi = start
        else:
            stop = min(hi, lo + width)
            hits = np.flatnonzero(test(values[lo:stop]))
            if hits.size:
                return lo + int(hits[0])
            lo = stop
        width *= 2
    return None


def coverage(ts: npt.ArrayLike, durations: npt.ArrayLike | None, start: float, end: float) -> float:
    """Fraction of ``[start, end)`` covered by readings: measured seconds / ``(end - start)``.

    Measured seconds are the length of the union of the intervals ``[tᵢ, tᵢ + dᵢ)`` clipped to
    the range, so overlapping or duplicated readings count once and the result is within
    0..1. ``durations`` default to 1 s. Example: readings at 0, 1, 1.5 (1 s each) and 5 (2 s)
    over ``[0, 10)`` cover ``[0, 2.5)`` and ``[5, 7)`` = 4.5 s, coverage 0.45.
    """
    if not end > start:
        raise ValueError(f"end ({end!r}) must be after start ({start!r})")
    t = _as_series(ts, "ts")
    d = _as_durations(durations, t.size)
    lo = np.clip(t, start, end)
    hi = np.clip(t + d, start, end)
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if lo.size == 0:
        return 0.0
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    # A new block of overlapping intervals starts where an interval begins after all before it.
    fresh = np.flatnonzero(lo[1:] > reach[:-1]) + 1
    starts = lo[np.concatenate(([0], fresh))]
    ends = reach[np.concatenate((fresh - 1, [lo.size - 1]))]
    return float(np.sum(ends - starts) / (end - start))


def find_gaps(
    ts: npt.ArrayLike,
    durations: npt.ArrayLike | None = None,
    *,
    min_gap_s: float | None = None,
) -> list[Gap]:
    """Holes in the data: from the end of one reading to the start of the next.

    Readings are taken in time order (sorted here); a gap is reported when the next reading
    starts more than ``min_gap_s`` after the end of all earlier readings (overlaps never make a
    gap). ``min_gap_s`` defaults to half the median duration, i.e. a next start later than
    1.5 times the median interval: with 1-s readings at 0, 1, 2, 5, 6 the one gap is ``[3, 5)``,
    2 s. Gaps before the first or after the last reading are outside this function's view.
    """
    t = _as_series(ts, "ts")
    d = _as_durations(durations, t.size)
    if min_gap_s is not None and not min_gap_s >= 0:
        raise ValueError(f"min_gap_s must be >= 0, got {min_gap_s!r}")
    order = np.argsort(t, kind="stable")
    t, d = t[order], d[order]
    if t.size < 2:
        return []
    gaps = _gap_after(t, d, min_gap_s)
    covered_until = np.maximum.accumulate(t + d)[:-1]
    return [
        Gap(
            start=float(covered_until[i]),
            end=float(t[i + 1]),
            duration_s=float(t[i + 1] - covered_until[i]),
        )
        for i in np.flatnonzero(gaps)
    ]


def _as_counters(seq: npt.ArrayLike) -> npt.NDArray[np.integer]:
    arr = np.asarray(seq).reshape(-1)
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"seq must be integers, got {arr.dtype}")
    if arr.size and arr.dtype.kind == "i" and (arr < 0).any():
        raise ValueError("seq counters must be >= 0")
    return arr


def seq_gaps(seq: npt.ArrayLike) -> list[SeqGap]:
    """Message counters that never arrived, from the ``seq`` field in time order.

    A step from ``a`` to ``b > a + 1`` means ``a + 1 … b - 1`` are missing. A repeat (``b = a``,
    a redelivery) is not a gap. A *decrease* (``b < a``) is a counter reset (sensor restart)
    or a wrap-around of a fixed-width counter; since the counter's width is unknown it is
    reported by ``seq_resets`` and never as a gap (a naive ``b - a`` on unsigned counters would
    claim ~2⁶⁴ lost messages). Comparisons are made before subtracting, so counters up to
    2⁶⁴ - 1 are safe. Example: 1, 2, 5, 6, 0, 1, 3 → gaps {3, 4} (index 2) and {2} (index 6).
    """
    s = _as_counters(seq)
    if s.size < 2:
        return []
    prev, nxt = s[:-1], s[1:]
    rising = np.flatnonzero(nxt > prev)
    steps = nxt[rising] - prev[rising]  # positive, so no wrap-around in the subtraction
    holes = rising[steps > 1]
    return [
        SeqGap(
            index=int(i) + 1,
            first_missing=int(s[i]) + 1,
            last_missing=int(s[i + 1]) - 1,
            missing=int(s[i + 1]) - int(s[i]) - 1,
        )
        for i in holes
    ]


def seq_resets(seq: npt.ArrayLike) -> list[int]:
    """Positions where the message counter went down (a restart or wrap), in the order given.

    Example: 1, 2, 5, 6, 0, 1 → ``[4]`` (the reading with counter 0).
    """
    s = _as_counters(seq)
    if s.size < 2:
        return []
    return [int(i) + 1 for i in np.flatnonzero(s[1:] < s[:-1])]


def find_stuck(
    ts: npt.ArrayLike,
    levels: npt.ArrayLike,
    *,
    durations: npt.ArrayLike | None = None,
    min_duration_s: float = 300.0,
    tolerance_db: float = 0.0,
) -> list[StuckRun]:
    """Frozen-sensor runs: a level unchanged (within ``tolerance_db``) for ``min_duration_s``.

    A run is a maximal stretch of contiguous readings (no gap, see the module docstring) in
    which every level lies within ``tolerance_db`` (plus 1e-9 dB for decimal rounding) of the
    run's first level, taken greedily from the left; it is reported when it lasts at least
    ``min_duration_s`` from the start of its first reading to the end of its last. Real
    ambient noise moves by tenths of a dB from second to second, so five minutes of identical
    1-s LAeq values means a frozen sensor or a stuck pipeline. Candidates are found
    vectorised (consecutive steps within tolerance); only long candidates are then split
    exactly. ``ts`` must increase strictly; durations default to 1 s. Example: 1-s readings of
    50.0 dB for 400 s inside varying noise → one run of 400 s at 50.0 dB.
    """
    t = _as_increasing_times(ts)
    lv = _as_series(levels, "levels")
    if lv.size != t.size:
        raise ValueError(f"{lv.size} levels for {t.size} timestamps")
    d = _as_durations(durations, t.size)
    if not tolerance_db >= 0:
        raise ValueError(f"tolerance_db must be >= 0, got {tolerance_db!r}")
    if t.size == 0:
        return []
    # Candidate stretches: consecutive steps within tolerance and no gap in between.
    allowed = tolerance_db + _DECIMAL_SLACK_DB
    joined = (np.abs(np.diff(lv)) <= allowed) & ~_gap_after(t, d)
    breaks = np.flatnonzero(~joined) + 1
    firsts = np.concatenate(([0], breaks))
    lasts = np.concatenate((breaks - 1, [t.size - 1]))
    long_enough = (t[lasts] + d[lasts] - t[firsts]) >= min_duration_s
    runs: list[StuckRun] = []
    for first, last in zip(firsts[long_enough], lasts[long_enough], strict=True):
        runs.extend(
            _split_stuck(
                t,
                lv,
                d,
                (int(first), int(last)),
                min_duration_s=min_duration_s,
                tolerance_db=tolerance_db,
            )
        )
    return runs


def _split_stuck(
    t: FloatArray,
    lv: FloatArray,
    d: FloatArray,
    span: tuple[int, int],
    *,
    min_duration_s: float,
    tolerance_db: float,
) -> list[StuckRun]:
    """Split candidate ``first..last`` into runs within ``tolerance_db`` of their first level."""
    first, last = span
    runs: list[StuckRun] = []
    i = first
    while i <= last:
        anchor = float(lv[i])

        def moved(x: FloatArray, anchor: float = anchor) -> BoolArray:
            result: BoolArray = np.abs(x - anchor) > tolerance_db + _DECIMAL_SLACK_DB
            return result

        away = _first_where(lv, i + 1, last + 1, moved)
        j = last if away is None else away - 1
        seconds = float(t[j] + d[j] - t[i])
        if seconds >= min_duration_s:
            runs.append(
                StuckRun(
                    start=float(t[i]),
                    end=float(t[j] + d[j]),
                    duration_s=seconds,
                    level=float(lv[i]),
                    count=j - i + 1,
                )
            )
        i = j + 1
    return runs
