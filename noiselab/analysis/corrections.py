"""Staff corrections of stored levels, applied to series on the way to an indicator: numpy in,
numbers out.

A correction names a half-open range ``[start, end)`` (Unix s, UTC) of one sensor and either
leaves the range's data out (``"exclude"``) or adds ``offset_db`` to every level in it
(``"offset"``, e.g. a calibration found to be off). The stored readings are never changed;
these functions give the corrected copy an indicator is computed from.

A row (an interval starting at ``ts`` with its LAeq in dB and its measured seconds) belongs to a
range when its start lies in it. Rows that never cross a range's edges are corrected exactly:
per-minute roll-up rows under ranges on whole minutes, hourly rows under ranges on whole hours.
Where a range edge cuts a coarser row, that row must be replaced by finer ones first
(:func:`partial_buckets` finds them). Several ranges may overlap: an exclusion wins, offsets
add.

Exclusions carry a ``cause`` (a staff correction, weather outside the measurement conditions, a
staff annotation): the rows they leave out are kept apart with the cause that took them
(:class:`ExcludedRows`), so an answer can say how many measured seconds each cause removed. Where
ranges of several causes cover a row, the first cause of :data:`EXCLUSION_ORDER` takes it.

Worked values (energetic means, SPEC "Units and time"): an hour at 60 dB whose first 30
minutes get -3 dB has ``10·log10(0.5·10^5.7 + 0.5·10^6.0) = 58.75 dB``; the same hour with its
first 30 minutes excluded has 60 dB over 1,800 measured seconds, coverage 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import BoolArray, FloatArray
from noiselab.analysis.decibels import to_energy, to_level

__all__ = [
    "EXCLUSION_ORDER",
    "CorrectedRows",
    "CorrectionKind",
    "ExcludedRows",
    "RangeCorrection",
    "apply_corrections",
    "correction_state",
    "cut_points",
    "interval_levels",
    "merge_rows",
    "partial_buckets",
    "range_state",
]

CorrectionKind = Literal["exclude", "offset"]
"""``"exclude"``: the range's data is left out; ``"offset"``: ``offset_db`` is added to it."""

EXCLUSION_ORDER: tuple[str, ...] = ("correction", "annotation", "weather")
"""Causes of exclusion, the deliberate staff decisions first: a row several causes exclude is
counted under the first of them."""
_CAUSE_INDEX = {cause: i for i, cause in enumerate(EXCLUSION_ORDER)}


@dataclass(frozen=True, slots=True)
class RangeCorrection:
    """One correction of one sensor: ``[start, end)`` in Unix s (UTC), its ``kind`` and, for
    ``"offset"``, the dB added to every level in the range (ignored for ``"exclude"``);
    ``cause`` says why (one of :data:`EXCLUSION_ORDER`)."""

    start: float
    end: float
    kind: CorrectionKind
    offset_db: float = 0.0
    cause: str = "correction"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end) and self.start < self.end):
            raise ValueError(f"a correction needs finite start < end, got {self.start}..{self.end}")
        if self.kind not in ("exclude", "offset"):
            raise ValueError(f"kind {self.kind!r} must be 'exclude' or 'offset'")
        if not math.isfinite(self.offset_db):
            raise ValueError("offset_db must be a finite number of dB")
        if self.cause not in EXCLUSION_ORDER:
            raise ValueError(f"cause {self.cause!r} must be one of {', '.join(EXCLUSION_ORDER)}")


@dataclass(frozen=True, slots=True)
class ExcludedRows:
    """The rows an exclusion left out: ``ts`` (Unix s, interval starts), ``duration`` (s) and
    ``cause`` (an index into :data:`EXCLUSION_ORDER`), in the input's order."""

    ts: FloatArray
    duration: FloatArray
    cause: npt.NDArray[np.intp]

    def seconds_by_cause(self) -> dict[str, float]:
        """Measured seconds left out per cause (every cause of :data:`EXCLUSION_ORDER`)."""
        sums = np.bincount(self.cause, weights=self.duration, minlength=len(EXCLUSION_ORDER))
        return {name: float(sums[i]) for i, name in enumerate(EXCLUSION_ORDER)}

    @staticmethod
    def empty() -> ExcludedRows:
        """No rows."""
        return ExcludedRows(np.zeros(0), np.zeros(0), np.zeros(0, np.intp))

    @staticmethod
    def concat(parts: Sequence[ExcludedRows]) -> ExcludedRows:
        """``parts`` one after the other."""
        if not parts:
            return ExcludedRows.empty()
        return ExcludedRows(
            np.concatenate([p.ts for p in parts]),
            np.concatenate([p.duration for p in parts]),
            np.concatenate([p.cause for p in parts]),
        )


@dataclass(frozen=True, slots=True)
class CorrectedRows:
    """Rows after correction, in the input's order: ``ts`` (Unix s), ``laeq`` (dB),
    ``duration`` (s), ``lafmax`` (dB, NaN where unknown; ``None`` when not given), excluded
    rows removed; ``excluded_s`` the seconds left out and ``excluded`` those rows with the
    cause of each."""

    ts: FloatArray
    laeq: FloatArray
    duration: FloatArray
    lafmax: FloatArray | None
    excluded_s: float
    excluded: ExcludedRows


def correction_state(
    ts: npt.ArrayLike, corrections: Sequence[RangeCorrection]
) -> tuple[BoolArray, FloatArray]:
    """For each instant of ``ts`` (Unix s): whether an exclusion covers it, and the sum (dB)
    of the offsets of the ranges that cover it."""
    cause, offset = range_state(ts, corrections)
    return cause < len(EXCLUSION_ORDER), offset


def range_state(
    ts: npt.ArrayLike, corrections: Sequence[RangeCorrection]
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Per instant of ``ts`` (Unix s) the index in :data:`EXCLUSION_ORDER` of the first cause
    excluding it (``len(EXCLUSION_ORDER)`` when none does) and the summed offsets (dB)."""
    t = np.asarray(ts, dtype=np.float64).reshape(-1)
    none = len(EXCLUSION_ORDER)
    cause = np.full(t.size, none, dtype=np.intp)
    offset = np.zeros(t.size, dtype=np.float64)
    excluding: list[tuple[float, float, int]] = []
    for c in corrections:  # staff offsets are few: summed in the given order, as always
        if c.kind == "exclude":
            excluding.append((c.start, c.end, _CAUSE_INDEX[c.cause]))
        else:
            offset[(t >= c.start) & (t < c.end)] += c.offset_db
    spans = np.array(excluding, dtype=np.float64).reshape(-1, 3)
    for index in range(none - 1, -1, -1):  # the first cause of EXCLUSION_ORDER last: it wins
        own = spans[spans[:, 2] == index]
        if own.size:
            cause[_covered(t, own[:, 0], own[:, 1])] = index
    return cause, offset


def _covered(t: FloatArray, starts: FloatArray, ends: FloatArray) -> BoolArray:
    """Whether each instant of ``t`` lies in one of the half-open spans ``[starts, ends)``
    (any order, may overlap): ``O((n + k) log k)`` for ``n`` instants and ``k`` spans, where
    testing span by span cost ``O(n·k)`` (thousands of weather spans over a year of rows)."""
    order = np.argsort(starts, kind="stable")
    reach = np.maximum.accumulate(ends[order])  # the furthest end of the spans begun so far
    last = np.searchsorted(starts[order], t, side="right") - 1
    covered: BoolArray = (last >= 0) & (reach[np.maximum(last, 0)] > t)
    return covered


def apply_corrections(
    ts: npt.ArrayLike,
    laeq: npt.ArrayLike,
    duration: npt.ArrayLike,
    corrections: Sequence[RangeCorrection],
    lafmax: npt.ArrayLike | None = None,
) -> CorrectedRows:
    """Rows ``ts`` (Unix s, interval starts), ``laeq`` (dB), ``duration`` (s) and optionally
    ``lafmax`` (dB) with ``corrections`` applied: a row whose start an exclusion covers is
    dropped, every other row gets the offsets of the ranges covering its start added to its
    levels (module docstring).

    Without corrections the rows come back unchanged (as float64 arrays)."""
    t = np.asarray(ts, dtype=np.float64).reshape(-1)
    lv = np.asarray(laeq, dtype=np.float64).reshape(-1)
    d = np.asarray(duration, dtype=np.float64).reshape(-1)
    mx = None if lafmax is None else np.asarray(lafmax, dtype=np.float64).reshape(-1)
    if not t.size == lv.size == d.size or (mx is not None and mx.size != t.size):
        raise ValueError(f"{t.size} timestamps, {lv.size} levels and {d.size} durations")
    cause, offset = range_state(t, corrections)
    excluded = cause < len(EXCLUSION_ORDER)
    keep = ~excluded
    return CorrectedRows(
        ts=t[keep],
        laeq=lv[keep] + offset[keep],
        duration=d[keep],
        lafmax=None if mx is None else mx[keep] + offset[keep],
        excluded_s=float(d[excluded].sum()),
        excluded=ExcludedRows(t[excluded], d[excluded], cause[excluded]),
    )


def cut_points(corrections: Sequence[RangeCorrection], start: float, end: float) -> FloatArray:
    """The range edges (Unix s) strictly inside ``(start, end)``, sorted, each once: between two
    consecutive ones (and ``start``/``end``) every instant has the same correction state."""
    edges = np.array([(c.start, c.end) for c in corrections], dtype=np.float64).reshape(-1)
    return np.unique(edges[(edges > start) & (edges < end)])


def partial_buckets(
    corrections: Sequence[RangeCorrection], start: float, end: float, width: float
) -> FloatArray:
    """Starts (Unix s) of the buckets of ``width`` seconds (aligned to the Unix epoch, as the
    store's hourly roll-up is) within ``[start, end)`` that a range edge cuts: an edge strictly
    inside the bucket. Rows of these buckets need finer rows to be corrected exactly; every
    other bucket has one correction state throughout."""
    edges = cut_points(corrections, start, end)
    cut = edges[np.mod(edges, width) != 0]
    return np.unique(np.floor(cut / width) * width)


def interval_levels(
    ts: npt.ArrayLike,
    laeq: npt.ArrayLike,
    duration: npt.ArrayLike,
    starts: npt.ArrayLike,
    width: float,
) -> tuple[FloatArray, FloatArray]:
    """Per interval ``[starts[i], starts[i] + width)`` (sorted, not overlapping): the energetic
    mean ``10·log10(Σ dⱼ·10^(Lⱼ/10) / Σ dⱼ)`` (dB, NaN without data) of the rows starting in it,
    and their seconds ``Σ dⱼ``. Rows are ``ts`` (Unix s), ``laeq`` (dB), ``duration`` (s);
    rows starting in no interval are ignored."""
    t = np.asarray(ts, dtype=np.float64).reshape(-1)
    lv = np.asarray(laeq, dtype=np.float64).reshape(-1)
    d = np.asarray(duration, dtype=np.float64).reshape(-1)
    s = np.asarray(starts, dtype=np.float64).reshape(-1)
    seconds = np.zeros(s.size)
    levels = np.full(s.size, np.nan)
    if not t.size or not s.size:
        return levels, seconds
    i = np.searchsorted(s, t, side="right") - 1
    inside = (i >= 0) & (t < s[np.maximum(i, 0)] + width) & (d > 0)
    if not inside.any():
        return levels, seconds
    i = i[inside]
    energy = _sums(i, d[inside] * to_energy(lv[inside]), s.size)
    seconds = _sums(i, d[inside], s.size)
    has = seconds > 0
    levels[has] = to_level(energy[has] / seconds[has])
    return levels, seconds


def merge_rows(
    t: npt.ArrayLike, levels: npt.ArrayLike, seconds: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Rows of equal ``t`` merged: ``t`` (sorted, each once), per column the energetic mean of
    the merged rows' ``levels`` (dB, shape ``(rows, columns)``, e.g. band levels) weighted by
    their ``seconds``, and the summed seconds. Rows without seconds are dropped."""
    tt = np.asarray(t, dtype=np.float64).reshape(-1)
    lv = np.asarray(levels, dtype=np.float64)
    sec = np.asarray(seconds, dtype=np.float64).reshape(-1)
    keep = sec > 0
    tt, lv, sec = tt[keep], lv[keep], sec[keep]
    if not tt.size:
        return tt, lv.reshape(0, lv.shape[1] if lv.ndim == 2 else 0), sec
    unique, row = np.unique(tt, return_inverse=True)
    energy = np.zeros((unique.size, lv.shape[1]))
    np.add.at(energy, row, to_energy(lv).reshape(lv.shape) * sec[:, None])
    total = _sums(row, sec, unique.size)
    merged = np.asarray(to_level(energy / total[:, None]), dtype=np.float64).reshape(energy.shape)
    return unique, merged, total


def _sums(groups: npt.NDArray[np.intp], values: FloatArray, size: int) -> FloatArray:
    """``values`` summed per group number ``0..size-1``."""
    return np.asarray(np.bincount(groups, weights=values, minlength=size), dtype=np.float64)
