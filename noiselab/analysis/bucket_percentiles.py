"""L10/L50/L90 of every bucket of ``resample``, found block by block during the segment-sum
pass over the readings (``segments.segment_sums_over``).

``L10, L50, L90``: time-weighted nearest-rank exceedance levels (dB) of the overlapping
readings' LAeq, weighted by overlap seconds (see ``noiselab.analysis.levels.exceedance_levels``);
a reading crossing a bucket edge counts its overlap on each side. With ``histogram``
(``resample``'s default, ``percentiles="histogram"``) from 0.1 dB histograms, the store's
convention: the time per (bucket, bin ``round(L·10)``), then the nearest rank over the bins; the
answer is the bin's level, the exact nearest-rank level rounded to its bin, so within 0.05 dB of
it. Only where a histogram is valid: a bucket holding a piece of a reading longer than 1 s, or a
level outside 0..6553.5 dB, gets the exact value (as ``percentiles="exact"`` does for every
bucket, by sorting each bucket's levels).

Buckets are the segments between the first and the last edge, numbered from 0 (bucket ``k`` is
the extended segment ``k + 1`` of ``segments.Layout``). The blocks of ``segments`` hold at most
65535 buckets, so bucket numbers within a block fit ``uint16`` and sort with numpy's radix sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import BoolArray, FloatArray, IndexArray, IntArray
from noiselab.analysis.decibels import CHUNK
from noiselab.analysis.levels import (
    BINS_PER_DB,
    DEFAULT_PERCENTS,
    HISTOGRAM_MAX_DB,
    HISTOGRAM_MAX_SECONDS,
    HISTOGRAM_MIN_DB,
    bin_levels,
    exceedance_levels_by_group,
    exceedance_levels_from_histograms,
    level_bins,
)
from noiselab.analysis.readings import Readings
from noiselab.analysis.segments import Layout, Split

__all__ = ["BucketExceedance"]

_LOOP_MIN_SIZE = 64
"""Mean bucket size from which sorting bucket by bucket beats one two-key sort."""
_DENSE_CELLS = 1 << 22
"""Most (bucket, bin) cells of one block's histogram table (32 MiB of float64)."""
_CELLS_PER_READING = 4
"""A block is counted into a histogram table only if the table has at most this many cells
per reading; sparser blocks (many small buckets, a wide level range) are sorted, then each
bucket's exact level is rounded to its bin, which is the same answer."""


class BucketExceedance:
    """L10/L50/L90 of every bucket (``levels``, NaN where empty), filled block by block
    during ``segments.segment_sums_over``' pass over the readings (a
    ``segments.BlockObserver``).

    A block gets a histogram table ``(bucket, bin)`` when ``histogram`` is asked for, every
    level fits a bin, every reading in the block lasts at most 1 s and the table is compact
    (``_DENSE_CELLS``, ``_CELLS_PER_READING``); each chunk of readings is then counted into
    it while in cache. Any other block is sorted once its chunks are done (``_sorted_block``),
    and with ``histogram`` its valid buckets get their exact level's bin: the same answer as
    a table."""

    def __init__(self, r: Readings, layout: Layout, *, histogram: bool) -> None:
        self.r, self.layout, self.histogram = r, layout, histogram
        self.levels = np.full((layout.buckets, len(DEFAULT_PERCENTS)), np.nan)
        self.bins = _bin_range(r) if histogram else None
        self.all_short = r.max_duration() <= HISTOGRAM_MAX_SECONDS
        self.buf = np.empty(CHUNK)

    def start(self, k0: int, k1: int) -> FloatArray | IntArray | None:
        """An empty table for buckets ``k0:k1`` (counts without durations, else seconds),
        or ``None`` if the block is to be sorted."""
        if self.bins is None:
            return None
        pos_ext = self.layout.pos_ext
        cells = (k1 - k0) * self.bins[1]
        fits = cells <= _DENSE_CELLS and cells <= _CELLS_PER_READING * int(
            pos_ext[k1 + 1] - pos_ext[k0 + 1]
        )
        if not (fits and (self.all_short or _block_short(self.r, self.layout, (k0, k1)))):
            return None
        return np.zeros(cells, dtype=np.int64) if self.r.durations is None else np.zeros(cells)

    def count(
        self, table: FloatArray | IntArray, chunk: tuple[int, int], row: int, bounds: IndexArray
    ) -> None:
        """Count the readings ``a:b`` into ``table``: they fill the table's rows ``row``,
        ``row + 1``, ... as ``bounds`` says (``segments.BlockObserver.count``); one
        ``np.bincount`` over ``local row·width + bin - low``, plain counts (exact integers) for
        1-s readings, else their durations."""
        assert self.bins is not None
        low, width = self.bins
        a, b = chunk
        counts = bounds[1:] - bounds[:-1]
        rows = counts.size
        offsets = np.repeat(_ROUNDER_BITS + low - np.arange(rows) * width, counts)
        key = _chunk_keys(self.r.levels[a:b], offsets, self.buf)
        w = None if self.r.durations is None else self.r.durations[a:b]
        table[row * width : (row + rows) * width] += np.bincount(
            key, weights=w, minlength=rows * width
        )

    def finish(self, k0: int, k1: int, table: FloatArray | IntArray | None) -> None:
        """The levels of buckets ``k0:k1`` from their table, corrected for the readings that
        cross a bucket edge, or by sorting when there is no table."""
        if table is None or self.bins is None:
            _sorted_block(self.r, self.layout, (k0, k1), self.levels, histogram=self.histogram)
            return
        low, width = self.bins
        table = _add_split_pieces(self.r, self.layout, (k0, k1), self.bins, table)
        self.levels[k0:k1] = exceedance_levels_from_histograms(
            table.reshape(k1 - k0, width), low, DEFAULT_PERCENTS
        )


def _bin_range(r: Readings) -> tuple[int, int] | None:
    """``(lowest bin, bins)`` spanned by all levels, or ``None`` if some level does not fit a
    histogram bin (below 0 or above 6553.5 dB)."""
    if not (r.low >= HISTOGRAM_MIN_DB and r.high <= HISTOGRAM_MAX_DB):
        return None
    low, high = (int(v) for v in np.rint(np.array([r.low, r.high]) * BINS_PER_DB))
    return low, high - low + 1


def _block_short(r: Readings, layout: Layout, block: tuple[int, int]) -> bool:
    """Every reading with a piece in buckets ``k0:k1`` lasts at most 1 s."""
    if r.durations is None:
        return True
    k0, k1 = block
    a, b = int(layout.pos_ext[k0 + 1]), int(layout.pos_ext[k1 + 1])
    split = layout.split
    lo, hi = np.searchsorted(split.segment, [k0 + 1, k1 + 1])
    longest = max(
        float(r.durations[a:b].max()) if b > a else 0.0,
        float(r.durations[split.reading[lo:hi]].max()) if hi > lo else 0.0,
    )
    return longest <= HISTOGRAM_MAX_SECONDS


_ROUNDER = 1.5 * 2.0**52
"""``x + _ROUNDER`` rounds ``x`` (``|x| < 2^51``) to an integer, half to even like ``np.rint``:
floats between ``2^52`` and ``2^53`` are the integers, and the sum is rounded to the nearest
one, ties to the even one (``_ROUNDER`` is even). The integer is then the sum's bit pattern
minus ``_ROUNDER_BITS``."""
_ROUNDER_BITS = int(np.array(_ROUNDER).view(np.int64))


def _chunk_keys(levels: FloatArray, offsets: IntArray, buf: FloatArray) -> IntArray:
    """``round(L·10) - offsets`` of up to ``CHUNK`` levels, in the buffer ``buf`` (viewed as
    int64). ``round`` is ``levels.level_bins``' (half to even), in two passes instead of
    ``np.rint`` and a cast; ``offsets`` include ``_ROUNDER_BITS``. Levels must lie within
    ``0..6553.5`` dB."""
    f = buf[: levels.size]
    np.multiply(levels, BINS_PER_DB, out=f)
    np.add(f, _ROUNDER, out=f)
    key = f.view(np.int64)
    np.subtract(key, offsets, out=key)
    return key


def _add_split_pieces(
    r: Readings,
    layout: Layout,
    block: tuple[int, int],
    bins: tuple[int, int],
    table: FloatArray | IntArray,
) -> FloatArray | IntArray:
    """Correct a block's histogram table for the readings that cross a bucket edge: each
    counts its overlap with its own bucket instead of its duration, and its further pieces
    count their overlaps in later buckets. A table of counts stays one if nothing crosses,
    else becomes seconds (float)."""
    k0, k1 = block
    low, width = bins
    split = layout.split
    bounds = layout.pos_ext[k0 + 1 : k1 + 2]
    lo, hi = np.searchsorted(split.first, [bounds[0], bounds[-1]])
    lo2, hi2 = np.searchsorted(split.segment, [k0 + 1, k1 + 1])
    if hi == lo and hi2 == lo2:
        return table
    table = table.astype(np.float64, copy=False)
    if hi > lo:
        index = split.first[lo:hi]
        row = np.searchsorted(bounds, index, side="right") - 1
        key = row * width + level_bins(r.levels[index]) - low
        np.subtract.at(table, key, r.durations_of(index))
        np.add.at(table, key, split.first_seconds[lo:hi])
    if hi2 > lo2:
        index = split.reading[lo2:hi2]
        key = (split.segment[lo2:hi2] - (k0 + 1)) * width + level_bins(r.levels[index]) - low
        np.add.at(table, key, split.seconds[lo2:hi2])
    return table


@dataclass(frozen=True, slots=True)
class _Block:
    """The pieces falling into buckets ``k0:k0 + n`` of one block, grouped by bucket
    (``group`` ascending, local numbers): level (dB), seconds, and whether the reading lasts
    over 1 s (``long``; ``None`` when no durations were given). ``uniform``: every piece lasts
    1 s (no durations given, nothing split)."""

    group: IndexArray
    level: FloatArray
    weight: FloatArray
    long: BoolArray | None
    uniform: bool

    @classmethod
    def of(cls, r: Readings, split: Split, pos_ext: IndexArray, block: tuple[int, int]) -> _Block:
        k0, k1 = block
        a, b = int(pos_ext[k0 + 1]), int(pos_ext[k1 + 1])
        group = np.repeat(np.arange(k1 - k0), np.diff(pos_ext[k0 + 1 : k1 + 2]))
        weight = r.weights(a, b)
        lo, hi = np.searchsorted(split.first, [a, b])
        weight[split.first[lo:hi] - a] = split.first_seconds[lo:hi]
        uniform = r.durations is None and lo == hi
        long = None if r.durations is None else r.durations[a:b] > HISTOGRAM_MAX_SECONDS
        lo, hi = np.searchsorted(split.segment, [k0 + 1, k1 + 1])
        if lo == hi:
            return cls(group, r.levels[a:b], weight, long, uniform)
        extra = split.reading[lo:hi]
        group = np.concatenate((group, split.segment[lo:hi] - (k0 + 1)))
        order = np.argsort(group.astype(np.uint16), kind="stable")
        return cls(
            group[order],
            np.concatenate((r.levels[a:b], r.levels[extra]))[order],
            np.concatenate((weight, split.seconds[lo:hi]))[order],
            None
            if long is None or r.durations is None
            else np.concatenate((long, r.durations[extra] > HISTOGRAM_MAX_SECONDS))[order],
            uniform=False,
        )


def _sorted_block(
    r: Readings,
    layout: Layout,
    block: tuple[int, int],
    out: FloatArray,
    *,
    histogram: bool,
) -> None:
    """L10/L50/L90 of buckets ``k0:k1`` by sorting each bucket's levels; with ``histogram``,
    buckets whose histogram is valid (readings ≤ 1 s, levels within 0..6553.5 dB) get the
    exact level's bin, which is what their histogram answers."""
    items = _Block.of(r, layout.split, layout.pos_ext, block)
    if not items.group.size:
        return
    group = items.group
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    level, weight = _sorted_within(items, starts)
    found = exceedance_levels_by_group(level, weight, starts, DEFAULT_PERCENTS)
    if histogram:
        last = np.append(starts[1:], group.size) - 1
        valid = (level[starts] >= HISTOGRAM_MIN_DB) & (level[last] <= HISTOGRAM_MAX_DB)
        if items.long is not None:
            valid &= ~np.logical_or.reduceat(items.long, starts)
        found[valid] = bin_levels(found[valid])
    out[block[0] + group[starts]] = found


def _sorted_within(items: _Block, starts: IndexArray) -> tuple[FloatArray, FloatArray]:
    """Levels and their weights sorted by level within each group (groups stay in place).

    Large groups are sorted one by one (cache friendly; values only when all weights are
    equal); many small groups with one sort by level, then a stable radix sort by group.
    """
    n = items.group.size
    if n < _LOOP_MIN_SIZE * starts.size:
        by_level = np.argsort(items.level)
        order = by_level[np.argsort(items.group[by_level].astype(np.uint16), kind="stable")]
        return items.level[order], items.weight[order]
    bounds = zip(starts.tolist(), [*starts[1:].tolist(), n], strict=True)
    if items.uniform:
        level = np.empty_like(items.level)
        for s, e in bounds:
            level[s:e] = np.sort(items.level[s:e])
        return level, items.weight
    order = np.empty(n, dtype=np.intp)
    for s, e in bounds:
        order[s:e] = s + np.argsort(items.level[s:e])
    return items.level[order], items.weight[order]
