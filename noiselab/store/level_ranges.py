"""Corrections and exclusion spans applied to the cells of a levels query (numpy only, no I/O).

A levels query with ranges (:class:`~noiselab.analysis.corrections.RangeCorrection`, on whole
minutes: staff corrections, and the exclusion spans of the weather and of annotations) reads
the same roll-up cells as one without, chosen against the bucket edges and the ranges' edges
together (:meth:`RangeCells.refined`), so that every cell lies in one bucket and one
correction state. Then, cell by cell, as :mod:`noiselab.corrections` does for indicators:

* an excluded cell leaves its bucket: its energy, seconds, LAFmax and histogram count nowhere,
  and its measured seconds are counted per bucket under the first cause of
  :data:`~noiselab.analysis.corrections.EXCLUSION_ORDER` that covers it;
* an offset cell's energy is multiplied by ``10^(o/10)`` and its LAFmax raised by ``o`` dB.

Exceedance levels: excluded cells leave the histograms merged for a bucket, so L10/L50/L90
describe the time kept (at the histograms' 0.1 dB, as always). An offset shifts them by exactly
``o`` where every cell kept in the bucket has the same offset. Where an offset begins or ends
inside a bucket, its cells' histograms would have to be shifted by ``o`` against the others',
which 0.1 dB bins allow only for whole tenths: that bucket's L10/L50/L90 are left out
(:attr:`RangeCells.mixed`). Raw 1-s buckets shift their levels before the exceedance levels
are found, so they are exact with any offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import BoolArray, FloatArray, IntArray
from noiselab.analysis.corrections import (
    EXCLUSION_ORDER,
    RangeCorrection,
    cut_points,
    range_state,
)

__all__ = ["CellStates", "RangeCells"]

_MINUTE_S = 60.0


@dataclass(frozen=True, slots=True)
class CellStates:
    """The state of each cell given to :meth:`RangeCells.apply`: ``kept`` (no exclusion
    covers it) and its summed ``offset`` (dB, 0 without one)."""

    kept: BoolArray
    offset: FloatArray

    def energies(self, energy: FloatArray) -> FloatArray:
        """The cells' energies with their offsets: ``E·10^(o/10)``."""
        scaled: FloatArray = energy * np.power(10.0, self.offset / 10.0)
        return scaled

    def levels(self, level: FloatArray) -> FloatArray:
        """The cells' levels (LAFmax, or raw LAeq) with their offsets added (dB)."""
        raised: FloatArray = level + self.offset
        return raised


class RangeCells:
    """The ranges of one levels query over ``n`` buckets, and what they left out: per bucket
    the measured seconds excluded by cause (``excluded``, shape ``(n, causes)`` in
    :data:`EXCLUSION_ORDER`), the offset that every kept cell of the bucket shares
    (``shift``) and whether its kept cells have different offsets (``mixed``)."""

    def __init__(self, ranges: Sequence[RangeCorrection], n: int) -> None:
        self.ranges = tuple(ranges)
        self.excluded = np.zeros((n, len(EXCLUSION_ORDER)))
        self.shift = np.zeros(n)
        self.mixed = np.zeros(n, dtype=bool)

    def refined(self, edges: FloatArray) -> FloatArray:
        """``edges`` (Unix s) with the ranges' edges inside them (floored to whole minutes)
        added: roll-up cells chosen against these lie in one bucket and one state."""
        inner = cut_points(self.ranges, float(edges[0]), float(edges[-1]))
        if not inner.size:
            return edges
        return np.union1d(edges, np.floor(inner / _MINUTE_S) * _MINUTE_S)

    def apply(self, bucket: IntArray, start_s: FloatArray, seconds: FloatArray) -> CellStates:
        """The state of cells starting at ``start_s`` (Unix s) in ``bucket`` with their
        measured ``seconds``; the excluded ones are counted, the kept ones' offsets noted."""
        if not self.ranges:
            return CellStates(np.ones(bucket.size, dtype=bool), np.zeros(bucket.size))
        cause, offset = range_state(start_s, self.ranges)
        kept = cause == len(EXCLUSION_ORDER)
        np.add.at(self.excluded, (bucket[~kept], cause[~kept]), seconds[~kept])
        n = self.shift.size
        low, high = np.full(n, np.inf), np.full(n, -np.inf)
        np.minimum.at(low, bucket[kept], offset[kept])
        np.maximum.at(high, bucket[kept], offset[kept])
        has = np.isfinite(low)
        self.mixed |= has & (low != high)
        self.shift[has & (low == high)] = low[has & (low == high)]
        return CellStates(kept, offset)

    def excluded_s(self) -> dict[str, float]:
        """The measured seconds left out over every bucket, per cause."""
        return dict(zip(EXCLUSION_ORDER, self.excluded.sum(axis=0).tolist(), strict=True))

    def exceedance(self, index: IntArray, exceedance: FloatArray) -> FloatArray:
        """The L10/L50/L90 rows of buckets ``index`` shifted by their offset; NaN where the
        offsets of a bucket's cells differ."""
        shifted: FloatArray = exceedance + self.shift[index, None]
        shifted[self.mixed[index]] = np.nan
        return shifted
