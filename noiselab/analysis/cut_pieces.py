"""Buckets that a range edge cuts, summed with as few per-minute rows as exactness allows
(numpy only, no I/O).

A coarse roll-up row (an hour) that an edge of a correction or exclusion range cuts cannot be
corrected whole. It is replaced by its *pieces*: the stretches between the edges inside it,
each in one correction state (:func:`~noiselab.analysis.corrections.range_state`), summed from
the finer roll-up. The bucket's own sums are known, though, so the pieces of one state need not
be read: their energy and seconds are the bucket's less those of the pieces read. The state
covering most of the bucket is the one left unread, so a year of short weather spans reads
about a quarter of the minutes of the hours they cut (docs/benchmarks.md).

Exactness: seconds and energies subtract with an error of a few 1e-16 of the bucket's sums,
so a remainder holding at least :data:`MIN_SHARE` of both is within 1e-10 dB; a smaller one is
marked ``unsure`` and must be read after all (:attr:`Remainder.unsure`). The remainder's
LAFmax is the bucket's when every piece read stays below it, else unknown (NaN).

Worked values: an hour at 60 dB (3,600 s, energy ``3600·10^6``) whose first 20 minutes are
excluded reads those 20 minutes (1,200 s at 60 dB) and gives the other 40 minutes as one row of
2,400 s with energy ``3600·10^6 - 1200·10^6``: 60 dB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import BoolArray, FloatArray, IntArray
from noiselab.analysis.corrections import RangeCorrection, cut_points, range_state
from noiselab.analysis.decibels import to_level

__all__ = ["MIN_SHARE", "CutPieces", "Remainder", "cut_pieces", "rows_within"]

MIN_SHARE = 1e-4
"""The least share of its bucket's seconds and energy a remainder found by subtraction may
hold: the rounding error of the subtraction, some 1e-15 of the bucket's energy, is then
below 1e-10 dB of it."""


@dataclass(frozen=True, slots=True)
class Remainder:
    """The pieces left unread, one row per bucket (Unix s, s, dB): ``ts`` the start of the
    bucket's first unread piece, ``energy`` (s·10^(L/10)), ``seconds``, ``lafmax`` (NaN when
    unknown). Rows without seconds are left out. ``unsure`` marks the buckets whose remainder
    is too small a share to subtract exactly (:data:`MIN_SHARE`): read their unread pieces."""

    ts: FloatArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    room: FloatArray
    unsure: BoolArray

    def levels(self) -> FloatArray:
        """LAeq of each row (dB)."""
        return np.asarray(to_level(self.energy / self.seconds), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class CutPieces:
    """The pieces of the cut buckets ``buckets`` (starts, Unix s, ascending) of ``width``
    seconds: ``starts``/``ends`` (Unix s, ascending, disjoint), the ``bucket`` (index into
    ``buckets``) of each, and ``unread``: the pieces of each bucket's largest state, whose sums
    are the bucket's less those read (only in buckets that were given as ``whole``)."""

    buckets: FloatArray
    width: float
    starts: FloatArray
    ends: FloatArray
    bucket: IntArray
    unread: BoolArray

    def to_read(self, unsure: BoolArray | None = None) -> tuple[FloatArray, FloatArray]:
        """The pieces to read: those not ``unread``, or with ``unsure`` (per bucket) the
        unread pieces of those buckets."""
        pick = ~self.unread if unsure is None else self.unread & unsure[self.bucket]
        return self.starts[pick], self.ends[pick]

    def bucket_of(self, ts: npt.ArrayLike) -> IntArray:
        """The index in ``buckets`` of the bucket holding each instant (``-1``: none)."""
        t = np.asarray(ts, dtype=np.float64).reshape(-1)
        i = np.searchsorted(self.buckets, t, side="right") - 1
        inside = (i >= 0) & (t < self.buckets[np.maximum(i, 0)] + self.width)
        found: IntArray = np.where(inside, i, -1).astype(np.int64)
        return found

    def remainder(
        self,
        whole: tuple[FloatArray, FloatArray, FloatArray],
        read: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    ) -> Remainder:
        """The unread pieces' sums per bucket: ``whole`` the buckets' ``(energy, seconds,
        lafmax)`` (aligned with ``buckets``), ``read`` the rows read ``(ts, energy, seconds,
        lafmax)``."""
        n = self.buckets.size
        energy, seconds, lafmax = (np.asarray(a, dtype=np.float64) for a in whole)
        ts, read_energy, read_seconds, read_max = read
        row = self.bucket_of(ts)
        ok = row >= 0
        got_energy = np.bincount(row[ok], weights=read_energy[ok], minlength=n)
        got_seconds = np.bincount(row[ok], weights=read_seconds[ok], minlength=n)
        got_max = np.full(n, -np.inf)
        np.fmax.at(got_max, row[ok], read_max[ok])
        first = np.full(n, np.inf)
        np.fmin.at(first, self.bucket[self.unread], self.starts[self.unread])
        left_energy, left_seconds = energy - got_energy, seconds - got_seconds
        has = np.isfinite(first)
        sure = (left_seconds >= MIN_SHARE * seconds) & (left_energy >= MIN_SHARE * energy)
        keep = has & sure & (left_seconds > 0)
        return Remainder(
            ts=first[keep],
            energy=left_energy[keep],
            seconds=left_seconds[keep],
            lafmax=np.where(lafmax > got_max, lafmax, np.nan)[keep],
            room=(self.buckets + self.width - first)[keep],
            unsure=has & ~sure & (seconds > 0),
        )


def cut_pieces(
    ranges: Sequence[RangeCorrection],
    buckets: npt.ArrayLike,
    width: float,
    span: tuple[float, float],
    whole: npt.ArrayLike,
) -> CutPieces:
    """The pieces of the ``buckets`` (starts, Unix s, ascending, each cut by an edge of
    ``ranges``) of ``width`` seconds, clipped to ``span`` (Unix s). ``whole`` (per bucket)
    says whose own sums are known (the bucket lies inside ``span`` and has a roll-up row):
    only there are the pieces of the largest state (by length; the first on ties) left unread."""
    b = np.asarray(buckets, dtype=np.float64).reshape(-1)
    lo, hi = span
    inner = cut_points(ranges, lo, hi)
    edges = np.union1d(
        np.clip(np.concatenate((b, b + width)), lo, hi),
        inner[np.isin(np.floor(inner / width) * width, b)],
    )
    starts, ends = edges[:-1], edges[1:]
    bucket = np.searchsorted(b, starts, side="right") - 1
    inside = (bucket >= 0) & (starts < b[np.maximum(bucket, 0)] + width)
    starts, ends, bucket = starts[inside], ends[inside], bucket[inside]
    unread = _largest_state(ranges, starts, ends, bucket) & np.asarray(whole, bool)[bucket]
    return CutPieces(b, width, starts, ends, bucket.astype(np.int64), unread)


def _largest_state(
    ranges: Sequence[RangeCorrection], starts: FloatArray, ends: FloatArray, bucket: IntArray
) -> BoolArray:
    """Per piece: whether it is in the state covering the most of its bucket."""
    if not starts.size:
        return np.zeros(0, dtype=bool)
    cause, offset = range_state(starts, ranges)
    order = np.lexsort((offset, cause, bucket))
    b, c, o = bucket[order], cause[order], offset[order]
    new = np.r_[True, (b[1:] != b[:-1]) | (c[1:] != c[:-1]) | (o[1:] != o[:-1])]
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1  # one number per (bucket, state)
    length = np.bincount(group, weights=ends - starts)
    owner = b[new]  # the bucket of each group, ascending
    longest = np.lexsort((-length, owner))  # per bucket its longest group first
    chosen = np.zeros(length.size, dtype=bool)
    chosen[longest[np.r_[True, owner[longest[1:]] != owner[longest[:-1]]]]] = True
    picked: BoolArray = chosen[group]
    return picked


def rows_within(
    ts: FloatArray, seconds: FloatArray, room: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Rows of ``seconds`` measured from ``ts`` that must not reach past ``ts + room`` (their
    piece or bucket; overlapping readings can measure more seconds than that): each becomes
    ``k = ceil(seconds / room)`` equal rows from ``ts``. The row index of each output row, and
    its seconds."""
    pieces = np.maximum(np.ceil(seconds / room), 1).astype(np.int64)
    index = np.repeat(np.arange(ts.size), pieces)
    return index, (seconds / pieces)[index]
