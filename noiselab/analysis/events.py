"""Pass-by events (trains, heavy vehicles) in a series of short LAeq readings.

Method, after the event detection of ISO 20906:2009 "Acoustics - Unattended monitoring of
aircraft sound in the vicinity of airports" (sound events are stretches where the level
exceeds a threshold for at least a minimum time, the threshold either fixed or set relative
to the residual sound) and the event quantities of ISO 1996-1:2016 / ISO 1996-2:2017:

1. **Background** (residual sound): the running exceedance level ``L90`` (by default) of the
   readings in a trailing window of ``background_window_s`` (600 s). It is evaluated on a
   grid of steps of one tenth of the window, aligned to the Unix epoch: a reading in step ``k``
   gets the ``L_N`` (time-weighted nearest rank, as ``levels.exceedance_levels``) of all
   readings that start in steps ``k - 9 .. k``, i.e. the window ends at the end of the
   reading's step. A pass-by of up to 10 % of the window cannot raise an L90.
2. **Threshold**: ``background + margin_db`` (10 dB), or the absolute ``threshold`` if given.
3. **Runs**: maximal runs of contiguous readings with ``LAeq > threshold``. Missing data (a gap,
   see ``quality``) ends a run. Runs at most ``merge_gap_s`` apart (end of one to start of
   the next, no missing data between) are merged into one event, readings between included;
   merged events shorter than ``min_duration`` are dropped.
4. **Event quantities** over the event's readings ``i``:
   ``SEL = LAE = 10·log10(Σ dᵢ·10^(Lᵢ/10) / 1 s)`` (dB re 20 µPa and 1 s), equal to
   ``Leq + 10·log10(T / 1 s)`` with ``T = Σ dᵢ``; ``Lmax`` is the highest LAFmax when the
   sensor sends it, else the highest LAeq (the 1-s LAeq underestimates LAFmax of a short
   pass-by); the **10-dB-down duration** is the contiguous span around the loudest LAeq
   reading in which ``LAeq ≥ LAeq,peak - 10 dB`` (it may extend beyond the threshold crossings,
   never across missing data); this is the 10-dB-down time base long used for single-event
   levels (e.g. the duration of the EPNL integration in ICAO Annex 16, Volume I).

Times are Unix seconds; ``ts`` is the start of each reading, which lasts ``durations`` seconds
(1 s by default), so an event runs from the start of its first reading to the end of its last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.levels import exceedance_levels_by_group
from noiselab.analysis.quality import (
    _as_durations,
    _as_increasing_times,
    _as_series,
    _first_where,
    _gap_after,
)

__all__ = [
    "DOWN_DB",
    "Event",
    "detect_events",
    "number_above",
    "running_background",
    "time_above",
]


BACKGROUND_STEPS = 10
"""The background window is evaluated every ``window / BACKGROUND_STEPS`` seconds."""

DOWN_DB = 10.0
"""The 10-dB-down convention: event duration where the level is within 10 dB of its peak."""


@dataclass(frozen=True, slots=True)
class Event:
    """One pass-by. Times in Unix seconds, levels in dB re 20 µPa (A-weighted).

    ``sel`` is the sound exposure level LAE (re 1 s) and ``leq`` the LAeq over
    ``start..end``; ``lmax`` is the top LAFmax if ``lmax_is_fast``, else the top LAeq;
    ``background`` and ``threshold`` are the values in force at the event's first reading;
    ``t10_start..t10_end`` is the 10-dB-down span, ``duration_10db`` its length in seconds;
    all three are ``None`` when the peak is less than 10 dB above the background, where the
    span would be bounded by the data rather than by the event.
    """

    start: float
    end: float
    duration_s: float
    lmax: float
    lmax_is_fast: bool
    sel: float
    leq: float
    background: float
    threshold: float
    t10_start: float | None
    t10_end: float | None
    duration_10db: float | None


def running_background(
    ts: npt.ArrayLike,
    levels: npt.ArrayLike,
    durations: npt.ArrayLike | None = None,
    *,
    window_s: float = 600.0,
    percent: float = 90.0,
) -> FloatArray:
    """Running background ``L_percent`` (dB) in force at each reading: one value per reading.

    ``L_N`` (exceeded ``N`` % of the time, time-weighted nearest rank) of the readings that
    start within the ``BACKGROUND_STEPS`` steps of ``window_s / BACKGROUND_STEPS`` seconds
    ending with the reading's own step (steps aligned to the Unix epoch): a trailing window of
    ``window_s`` that reaches at most one step ahead. Vectorised: each reading is counted in
    the windows of the ten steps it belongs to and all windows are ranked in one sort, so a
    sensor-day of 86,400 one-second readings costs well under a second. ``ts`` must increase
    strictly. Example: 50 dB throughout with a 10-s pass-by at 80 dB → 50 dB everywhere.
    """
    t = _as_increasing_times(ts)
    lv = _as_series(levels, "levels")
    if lv.size != t.size:
        raise ValueError(f"{lv.size} levels for {t.size} timestamps")
    d = _as_durations(durations, t.size)
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    if t.size == 0:
        return np.zeros(0, dtype=np.float64)
    step = window_s / BACKGROUND_STEPS
    block = np.floor(t / step).astype(np.int64)
    steps, reading_step = np.unique(block, return_inverse=True)
    # Reading i belongs to the windows of steps block[i] .. block[i] + BACKGROUND_STEPS - 1;
    # keep the windows of steps that hold readings (the others are never asked for).
    wanted = block[:, None] + np.arange(BACKGROUND_STEPS, dtype=np.int64)
    where = np.searchsorted(steps, wanted)
    member = where < steps.size
    member[member] = steps[where[member]] == wanted[member]
    window = where[member]
    reading = np.broadcast_to(np.arange(t.size)[:, None], wanted.shape)[member]
    # One sort orders the memberships by window, then by level.
    rank = np.empty(t.size, dtype=np.int64)
    rank[np.argsort(lv, kind="stable")] = np.arange(t.size)
    order = np.argsort(window.astype(np.int64) * t.size + rank[reading])
    window, reading = window[order], reading[order]
    starts = np.searchsorted(window, np.arange(steps.size))
    per_step = exceedance_levels_by_group(lv[reading], d[reading], starts, (percent,))[:, 0]
    result: FloatArray = per_step[reading_step]
    return result


def detect_events(
    ts: npt.ArrayLike,
    laeq: npt.ArrayLike,
    *,
    lafmax: npt.ArrayLike | None = None,
    durations: npt.ArrayLike | None = None,
    threshold: float | None = None,
    background_window_s: float = 600.0,
    background_percentile: float = 90.0,
    margin_db: float = 10.0,
    min_duration: float = 3.0,
    merge_gap_s: float = 2.0,
) -> list[Event]:
    """Pass-by events in a LAeq series (dB), by the method of the module docstring.

    ``ts`` (Unix s, strictly increasing) are reading starts, ``durations`` (s, default 1)
    their lengths; ``lafmax`` (dB) the per-reading LAFmax when the sensor sends it (NaN for
    readings without one; an event none of whose readings has one falls back to LAeq). The
    detection threshold is ``background + margin_db``, the background being the running
    ``L{background_percentile}`` over ``background_window_s`` (``running_background``), unless
    an absolute ``threshold`` (dB) is given. Worked case: 50 dB background with one 10-s
    pass-by at 80 dB gives one event of 10 s with ``SEL = 80 + 10·log10(10) = 90.0 dB``,
    ``Leq = Lmax = 80 dB``, background 50 dB, threshold 60 dB, 10-dB-down duration 10 s.
    Returns the events in time order; no readings, no events.
    """
    t = _as_increasing_times(ts)
    lv = _as_series(laeq, "laeq")
    if lv.size != t.size:
        raise ValueError(f"{lv.size} levels for {t.size} timestamps")
    d = _as_durations(durations, t.size)
    fast = None if lafmax is None else np.asarray(lafmax, dtype=np.float64).reshape(-1)
    if fast is not None and fast.size != t.size:
        raise ValueError(f"{fast.size} lafmax values for {t.size} timestamps")
    if fast is not None and np.isinf(fast).any():
        raise ValueError("lafmax must be finite numbers, or NaN where a reading has none")
    if t.size == 0:
        return []
    background = running_background(
        t, lv, d, window_s=background_window_s, percent=background_percentile
    )
    limit = background + margin_db if threshold is None else np.full(t.size, float(threshold))
    gap = _gap_after(t, d)
    first, last = _merged_runs(t, d, lv > limit, gap, merge_gap_s)
    keep = (t[last] + d[last] - t[first]) >= min_duration
    first, last = first[keep], last[keep]
    if first.size == 0:
        return []
    sel, seconds, lmax, is_fast = _event_sums(lv, d, fast, first, last)
    segment_first, segment_last = _segments(gap)
    events: list[Event] = []
    for k in range(first.size):
        a, b = int(first[k]), int(last[k])
        peak = a + int(np.argmax(lv[a : b + 1]))
        span = None
        if lv[peak] - DOWN_DB > background[a]:
            lo, hi = _down_span(lv, peak, segment_first, segment_last)
            span = (float(t[lo]), float(t[hi] + d[hi]))
        events.append(
            Event(
                start=float(t[a]),
                end=float(t[b] + d[b]),
                duration_s=float(t[b] + d[b] - t[a]),
                lmax=float(lmax[k]),
                lmax_is_fast=bool(is_fast[k]),
                sel=float(sel[k]),
                leq=float(sel[k] - 10.0 * np.log10(seconds[k])),
                background=float(background[a]),
                threshold=float(limit[a]),
                t10_start=None if span is None else span[0],
                t10_end=None if span is None else span[1],
                duration_10db=None if span is None else span[1] - span[0],
            )
        )
    return events


def _merged_runs(
    t: FloatArray,
    d: FloatArray,
    above: npt.NDArray[np.bool_],
    gap: npt.NDArray[np.bool_],
    merge_gap_s: float,
) -> tuple[IntArray, IntArray]:
    """First and last reading of each run of ``above``, runs split by gaps, close runs merged."""
    joined = np.concatenate(([False], above[1:] & above[:-1] & ~gap))
    first = np.flatnonzero(above & ~joined)
    last = np.flatnonzero(above & ~np.concatenate((joined[1:], [False])))
    if first.size < 2:
        return first, last
    # Gaps between reading a and b (a < b) are gap[a:b]: difference of a cumulative count.
    gaps_before = np.concatenate(([0], np.cumsum(gap)))
    apart = t[first[1:]] - (t[last[:-1]] + d[last[:-1]])
    merge = (apart <= merge_gap_s) & (gaps_before[first[1:]] == gaps_before[last[:-1]])
    new = np.concatenate(([True], ~merge))
    ends = np.concatenate((~merge, [True]))
    return first[new], last[ends]


def _event_sums(
    lv: FloatArray,
    d: FloatArray,
    fast: FloatArray | None,
    first: IntArray,
    last: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """SEL (dB re 1 s), measured seconds, Lmax and whether Lmax is a LAFmax, per event.

    Event ``k`` is readings ``first[k]..last[k]``. Lmax is the highest LAFmax among the
    event's readings that have one (NaN = none), else the highest LAeq.
    """
    # reduceat over [first, last + 1) pairs; a trailing zero keeps last + 1 a valid index.
    bounds = np.column_stack((first, last + 1)).reshape(-1)
    energy = np.append(d * np.power(10.0, lv / 10.0), 0.0)
    seconds = np.add.reduceat(np.append(d, 0.0), bounds)[::2]
    sel = 10.0 * np.log10(np.add.reduceat(energy, bounds)[::2])
    lmax = np.maximum.reduceat(np.append(lv, -np.inf), bounds)[::2]
    if fast is None:
        return sel, seconds, lmax, np.zeros(first.size, dtype=np.bool_)
    # fmax skips NaN, so an event's LAFmax is NaN only when none of its readings has one.
    fast_max = np.fmax.reduceat(np.append(fast, np.nan), bounds)[::2]
    is_fast = ~np.isnan(fast_max)
    return sel, seconds, np.where(is_fast, fast_max, lmax), is_fast


def _segments(gap: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """For each reading, the first and last reading of its contiguous segment."""
    size = gap.size + 1
    segment = np.concatenate(([0], np.cumsum(gap)))
    starts = np.concatenate(([0], np.flatnonzero(gap) + 1))
    ends = np.concatenate((np.flatnonzero(gap), [size - 1]))
    return starts[segment], ends[segment]


def _down_span(
    lv: FloatArray, peak: int, segment_first: IntArray, segment_last: IntArray
) -> tuple[int, int]:
    """First and last reading of the span around ``peak`` with ``L ≥ L[peak] - DOWN_DB``."""
    floor = float(lv[peak]) - DOWN_DB

    def below(x: FloatArray) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = x < floor
        return result

    lo_limit, hi_limit = int(segment_first[peak]), int(segment_last[peak])
    left = _first_where(lv, lo_limit, peak, below, backwards=True)
    right = _first_where(lv, peak + 1, hi_limit + 1, below)
    return (lo_limit if left is None else left + 1), (hi_limit if right is None else right - 1)


def number_above(event_lmax: npt.ArrayLike, threshold: float = 65.0) -> int:
    """Number of events whose maximum level exceeds ``threshold`` (dB): the "N-above" count.

    ``NA65 = #{events : Lmax > 65 dB}``. The N-above family (N70, N65, N60) comes from the
    Australian Department of Transport and Regional Services, "Expanding Ways to Describe and
    Assess Aircraft Noise" (2000), chapter 4, and is used around airports to report how many
    loud events occur in a day (or night); here it counts pass-bys. Strictly greater than the
    threshold ("exceeding"). Example: Lmax 64, 65, 65.1, 80 → NA65 = 2.
    """
    lmax = _as_series(event_lmax, "event_lmax")
    return int(np.count_nonzero(lmax > threshold))


def time_above(
    levels: npt.ArrayLike, threshold: float, durations: npt.ArrayLike | None = None
) -> float:
    """Seconds during which the level exceeds ``threshold`` (dB): ``TA = Σ dᵢ [Lᵢ > threshold]``.

    The "time above" companion of the N-above metrics (same source as ``number_above``),
    counted per reading: a reading above the threshold counts for its whole duration
    (1 s by default). Example: 1-s levels 60, 66, 70, 64 with threshold 65 → 2.0 s.
    """
    lv = _as_series(levels, "levels")
    d = _as_durations(durations, lv.size)
    return float(np.sum(d[lv > threshold]))
