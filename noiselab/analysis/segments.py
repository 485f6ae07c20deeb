"""Energies and seconds of readings over the segments between sorted edges: the engine of
``resample`` (time buckets) and ``periods.lden`` (day, evening and night periods).

Edges are real instants (Unix s, UTC), sorted; segment ``k`` is ``[edges[k], edges[k + 1])``.
A segment receives from each reading (``readings.Readings``: an interval ``[ts, ts +
duration)`` with its LAeq constant over it) the part that overlaps it, so a reading crossing an
edge is split in proportion to the overlap:

* seconds: ``T = Σ overlapᵢ`` (s);
* energy: ``E = Σ overlapᵢ·10^((Lᵢ - ref)/10)`` (s), ``ref`` the loudest level (dB) factored
  out; ``LAeq = ref + 10·log10(E / T)`` (dB), the energetic mean over the measured seconds
  (SPEC "Units and time").

``segment_sums`` is vectorised and block-wise so a sensor-year of 1-s data needs no array as
large as the input beyond the input itself (when it is sorted). The edges are extended by
``-inf`` and ``inf`` (``Layout``): extended segment ``j`` is ``[edges_ext[j], edges_ext[j +
1])``, so segment ``k`` between the edges is extended segment ``k + 1``, and readings before
the first or after the last edge fall in a segment too. The pass reads blocks of whole
segments ``CHUNK`` readings at a time; a ``BlockObserver`` may follow it block by block
(``resample``'s exceedance levels, ``bucket_percentiles``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from noiselab.analysis.arrays import FloatArray, IndexArray, IntArray
from noiselab.analysis.decibels import CHUNK, relative_energy
from noiselab.analysis.readings import Readings

__all__ = [
    "BlockObserver",
    "Layout",
    "SegmentSums",
    "Split",
    "segment_sums",
    "segment_sums_over",
]

_GROUP_CHUNK = 1 << 20
"""Readings per block of whole segments; sorting levels within a block's buckets makes
temporaries of a few 8 MiB arrays."""
_MAX_GROUPS = (1 << 16) - 1
"""Buckets per block, so bucket numbers fit ``uint16`` and sort with numpy's radix sort."""


def _ranges(starts: IndexArray, counts: IndexArray) -> tuple[IndexArray, IndexArray]:
    """Concatenated ``arange(starts[k], starts[k] + counts[k])`` and the ``k`` of each item."""
    owner = np.repeat(np.arange(counts.size), counts)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + offset, owner


@dataclass(frozen=True, slots=True)
class Split:
    """Readings that cross the end of the segment they start in.

    ``first``/``first_seconds``: those readings and their overlap with their own segment;
    ``reading``/``segment``/``seconds``: their further pieces, sorted by segment (extended
    numbering: segment ``j`` is ``[edges_ext[j], edges_ext[j + 1])``)."""

    first: IndexArray
    first_seconds: FloatArray
    reading: IndexArray
    segment: IndexArray
    seconds: FloatArray


def _split(r: Readings, edges_ext: FloatArray, pos_ext: IndexArray) -> Split:
    """Find the readings that cross a segment edge and cut them into per-segment pieces.

    Only readings starting less than the longest duration before an edge can cross it, so the
    candidates are a few per edge for short readings (the test is exact for all of them); one
    very long reading among short ones makes every reading near an edge a candidate.
    """
    nxt = edges_ext[1:-1]
    low = np.maximum(np.searchsorted(r.ts, nxt - r.max_duration(), side="right"), pos_ext[:-2])
    counts = np.maximum(pos_ext[1:-1] - low, 0)
    index, segment = _ranges(low, counts)
    end = r.ends(index)
    crossing = end > nxt[segment]
    index, segment, end = index[crossing], segment[crossing], end[crossing]
    last = np.searchsorted(edges_ext, end, side="left") - 1
    offset, owner = _ranges(np.zeros_like(last), last - segment + 1)
    seg = segment[owner] + offset
    start = np.maximum(r.ts[index[owner]], edges_ext[seg])
    seconds = np.minimum(end[owner], edges_ext[seg + 1]) - start
    first = offset == 0
    rest = ~first & (seconds > 0)
    order = np.argsort(seg[rest], kind="stable")
    return Split(
        first=index,
        first_seconds=seconds[first],
        reading=index[owner][rest][order],
        segment=seg[rest][order],
        seconds=seconds[rest][order],
    )


def _extend(edges: FloatArray) -> FloatArray:
    return np.concatenate(([-np.inf], edges, [np.inf]))


@dataclass(frozen=True, slots=True)
class Layout:
    """Where readings fall among sorted edges: ``edges_ext`` (the edges between ``-inf`` and
    ``inf``: segment ``j`` is ``[edges_ext[j], edges_ext[j + 1])``), ``pos_ext[j]`` the first
    reading starting in segment ``j``, and the readings that cross an edge."""

    edges_ext: FloatArray
    pos_ext: IndexArray
    split: Split

    @classmethod
    def of(cls, r: Readings, edges: FloatArray) -> Layout:
        edges_ext = _extend(np.asarray(edges, dtype=np.float64))
        pos_ext = np.searchsorted(r.ts, edges_ext, side="left")
        return cls(edges_ext, pos_ext, _split(r, edges_ext, pos_ext))

    @property
    def buckets(self) -> int:
        """Segments between the first and the last edge."""
        return int(self.edges_ext.size) - 3


@dataclass(frozen=True, slots=True)
class SegmentSums:
    """Per segment ``[edges[k], edges[k+1])``: ``energy = Σ overlap·10^((L - ref)/10)`` (s) and
    ``seconds = Σ overlap`` (s). ``ref`` (dB) is the loudest level, factored out."""

    energy: FloatArray
    seconds: FloatArray
    ref: float

    def levels(self) -> FloatArray:
        """``ref + 10·log10(energy / seconds)`` (dB); NaN where a segment has no data."""
        out = np.full(self.seconds.size, np.nan)
        has = self.seconds > 0
        out[has] = self.ref + 10.0 * np.log10(self.energy[has] / self.seconds[has])
        return out


class BlockObserver(Protocol):
    """Follows ``segment_sums_over``' pass over the readings block by block, as
    ``bucket_percentiles.BucketExceedance`` does to find each bucket's exceedance levels.

    Blocks are whole buckets ``k0:k1`` (segments between the first and the last edge, numbered
    from 0). ``start`` opens a block and may give a table, ``count`` then sees each chunk of
    the block's readings while it is in cache, and ``finish`` closes the block."""

    def start(self, k0: int, k1: int) -> FloatArray | IntArray | None:
        """A table for buckets ``k0:k1`` to count the block's chunks into, or ``None`` (then
        ``count`` is not called for the block)."""
        ...

    def count(
        self, table: FloatArray | IntArray, chunk: tuple[int, int], row: int, bounds: IndexArray
    ) -> None:
        """The readings ``a:b`` (``chunk``) of the block start in its buckets ``row``, ``row +
        1``, ... (local numbers): bucket ``row + i`` holds the readings ``a + bounds[i]:a +
        bounds[i + 1]``."""
        ...

    def finish(self, k0: int, k1: int, table: FloatArray | IntArray | None) -> None:
        """Every reading starting in buckets ``k0:k1`` has been read; ``table`` is ``start``'s
        answer for the block."""
        ...


def segment_sums(r: Readings, edges: FloatArray) -> SegmentSums:
    """Energy and seconds of the readings ``r`` over the segments between sorted ``edges``.

    ``edges`` are real instants (Unix s); readings outside ``[edges[0], edges[-1])`` count
    only for their overlapping part. Split readings are cut by overlap (module docstring).
    Runs block by block over the readings: one pass, ``≈ CHUNK`` values of temporaries.
    """
    if not r.size:
        n = max(np.asarray(edges).size - 1, 0)
        return SegmentSums(np.zeros(n), np.zeros(n), 0.0)
    return segment_sums_over(r, Layout.of(r, edges))


def segment_sums_over(
    r: Readings, layout: Layout, observer: BlockObserver | None = None
) -> SegmentSums:
    """``segment_sums`` of non-empty readings over a computed layout; ``observer``, when
    given, follows the same pass block by block (``resample`` finds the exceedance levels of
    its buckets so).

    Blocks of whole segments (``_blocks``) are read ``CHUNK`` readings at a time; the energy of
    each chunk is ``decibels.relative_energy`` in a cache-sized buffer, as ``leq`` computes
    it, and ``observer`` counts the same chunk into its table while it is in cache."""
    pos_ext, split = layout.pos_ext, layout.split
    n = layout.edges_ext.size - 1
    energy, seconds = np.zeros(n), np.zeros(n)
    ref = r.high
    buf = np.empty(CHUNK, dtype=np.float64)
    cuts = _blocks(pos_ext[1:-1]) if layout.buckets > 0 else np.zeros(1, dtype=np.intp)
    for k0, k1 in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        table = None if observer is None else observer.start(k0, k1)
        end = int(pos_ext[k1 + 1])
        for a in range(int(pos_ext[k0 + 1]), end, CHUNK):
            b = min(a + CHUNK, end)
            j0, bounds = _chunk_segments(pos_ext, a, b)
            e = relative_energy(r.levels[a:b], ref, buf[: b - a])
            w = _block_weights(r, split, a, b)
            if w is not None:
                e *= w
            _add_chunk((energy, seconds), j0, bounds, e, w)
            if table is not None and observer is not None:
                observer.count(table, (a, b), j0 - (k0 + 1), bounds)
        if observer is not None:
            observer.finish(k0, k1, table)
    if split.reading.size:
        piece = split.seconds * relative_energy(
            r.levels[split.reading], ref, np.empty_like(split.seconds)
        )
        energy += np.bincount(split.segment, weights=piece, minlength=n)
        seconds += np.bincount(split.segment, weights=split.seconds, minlength=n)
    return SegmentSums(energy[1:-1], seconds[1:-1], ref)


def _block_weights(r: Readings, split: Split, a: int, b: int) -> FloatArray | None:
    """Seconds each reading ``a:b`` spends in its own segment; ``None`` when all are 1 s."""
    lo, hi = np.searchsorted(split.first, [a, b])
    if r.durations is None and lo == hi:
        return None
    w = r.weights(a, b)
    w[split.first[lo:hi] - a] = split.first_seconds[lo:hi]
    return w


def _chunk_segments(pos_ext: IndexArray, a: int, b: int) -> tuple[int, IndexArray]:
    """``(j0, bounds)``: readings ``a:b`` fall in the segments ``j0, j0 + 1, ...`` (extended
    numbering); segment ``j0 + i`` holds the readings ``a + bounds[i]:a + bounds[i + 1]``."""
    j0 = int(np.searchsorted(pos_ext, a, side="right")) - 1
    j1 = int(np.searchsorted(pos_ext, b, side="left"))
    return j0, np.clip(pos_ext[j0 : j1 + 1], a, b) - a


def _add_chunk(
    sums: tuple[FloatArray, FloatArray],
    j0: int,
    bounds: IndexArray,
    e: FloatArray,
    w: FloatArray | None,
) -> None:
    """Add a chunk of readings (energies ``e``, seconds ``w`` or 1 each), laid out over the
    segments as ``_chunk_segments`` says, to ``sums = (energy, seconds)``."""
    energy, seconds = sums
    nonempty = np.flatnonzero(bounds[1:] > bounds[:-1])
    starts = bounds[nonempty]
    energy[j0 + nonempty] += np.add.reduceat(e, starts)
    if w is None:
        seconds[j0 + nonempty] += (bounds[nonempty + 1] - starts).astype(np.float64)
    else:
        seconds[j0 + nonempty] += np.add.reduceat(w, starts)


def _blocks(starts: IndexArray) -> IndexArray:
    """Bucket numbers cutting ``len(starts) - 1`` buckets into blocks of about
    ``_GROUP_CHUNK`` readings and at most ``_MAX_GROUPS`` buckets; ``starts[k]`` is the first
    reading of bucket ``k``."""
    n = starts.size - 1
    targets = np.arange(starts[0], starts[-1], _GROUP_CHUNK)
    by_size = np.searchsorted(starts, targets, side="right") - 1
    return np.unique(np.concatenate((by_size, np.arange(0, n, _MAX_GROUPS), [n])))
