"""Energetic aggregation of readings into time buckets or periods: numpy in, numbers out.

A reading is an interval ``[ts, ts + duration)`` (Unix seconds, UTC; duration in s, 1 s by
default) over which its LAeq is taken as constant. A bucket (or period) ``[a, b)`` receives from
each reading the part that overlaps it, so a reading crossing an edge is split in proportion
to the overlap:

* seconds: ``T = Σ overlapᵢ`` (s); coverage ``min(1, T / (b - a))`` with ``b - a`` the real
  length (23 h or 25 h for a daylight-saving day);
* energy: ``E = Σ overlapᵢ·10^(Lᵢ/10)``; ``LAeq = 10·log10(E / T)`` (dB), the energetic mean over
  the measured seconds (SPEC "Units and time");
* LAFmax: the largest LAFmax of the readings overlapping the bucket (a reading only says its
  maximum happened somewhere in its interval: for a split reading this is an upper bound);
* ``L10, L50, L90``: time-weighted nearest-rank exceedance levels of the overlapping readings'
  LAeq, weighted by overlap seconds (see ``noiselab.analysis.levels.exceedance_levels``).
  By default (``percentiles="histogram"``) from 0.1 dB histograms, the store's convention: the
  time per (bucket, bin ``round(L·10)``), then the nearest rank over the bins; the answer is
  the bin's level, the exact nearest-rank level rounded to its bin, so within 0.05 dB of it.
  Only where a histogram is valid: a bucket holding a piece of a reading longer than 1 s, or
  a level outside 0..6553.5 dB, gets the exact value (as ``percentiles="exact"`` does for
  every bucket, by sorting each bucket's levels).

``segment_sums`` is the engine: energies and seconds of readings over any sorted edges (real
instants), vectorised and block-wise so a sensor-year of 1-s data needs no array as large as
the input beyond the input itself (when it is sorted). ``resample`` adds LAFmax and percentiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.analysis.decibels import CHUNK, relative_energy
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

__all__ = ["Percentiles", "Readings", "Resampled", "SegmentSums", "resample", "segment_sums"]

IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

Percentiles = Literal["histogram", "exact"]
"""How ``resample`` computes L10/L50/L90: from 0.1 dB histograms (default) or by sorting."""

DEFAULT_TZ = "Europe/Copenhagen"
"""Local zone of the Vallensbæk sensors (SPEC "Units and time")."""

_GROUP_CHUNK = 1 << 20
"""Readings per block when sorting levels within buckets (temporaries of a few 8 MiB arrays)."""
_MAX_GROUPS = (1 << 16) - 1
"""Buckets per block, so bucket numbers fit ``uint16`` and sort with numpy's radix sort."""
_LOOP_MIN_SIZE = 64
"""Mean bucket size from which sorting bucket by bucket beats one two-key sort."""
_DENSE_CELLS = 1 << 22
"""Most (bucket, bin) cells of one block's histogram table (32 MiB of float64)."""
_CELLS_PER_READING = 4
"""A block is counted into a histogram table only if the table has at most this many cells
per reading; sparser blocks (many small buckets, a wide level range) are sorted, then each
bucket's exact level is rounded to its bin, which is the same answer."""


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
    for a in range(0, max(ts.size - 1, 0), _GROUP_CHUNK):
        b = min(a + _GROUP_CHUNK, ts.size - 1)
        if not bool(np.all(ts[a + 1 : b + 1] >= ts[a:b])):
            return False
    return True


def _ranges(starts: IndexArray, counts: IndexArray) -> tuple[IndexArray, IndexArray]:
    """Concatenated ``arange(starts[k], starts[k] + counts[k])`` and the ``k`` of each item."""
    owner = np.repeat(np.arange(counts.size), counts)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + offset, owner


@dataclass(frozen=True, slots=True)
class _Split:
    """Readings that cross the end of the segment they start in.

    ``first``/``first_seconds``: those readings and their overlap with their own segment;
    ``reading``/``segment``/``seconds``: their further pieces, sorted by segment (extended
    numbering: segment ``j`` is ``[edges_ext[j], edges_ext[j + 1])``)."""

    first: IndexArray
    first_seconds: FloatArray
    reading: IndexArray
    segment: IndexArray
    seconds: FloatArray


def _split(r: Readings, edges_ext: FloatArray, pos_ext: IndexArray) -> _Split:
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
    return _Split(
        first=index,
        first_seconds=seconds[first],
        reading=index[owner][rest][order],
        segment=seg[rest][order],
        seconds=seconds[rest][order],
    )


def _extend(edges: FloatArray) -> FloatArray:
    return np.concatenate(([-np.inf], edges, [np.inf]))


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where readings fall among sorted edges: ``edges_ext`` (the edges between ``-inf`` and
    ``inf``: segment ``j`` is ``[edges_ext[j], edges_ext[j + 1])``), ``pos_ext[j]`` the first
    reading starting in segment ``j``, and the readings that cross an edge."""

    edges_ext: FloatArray
    pos_ext: IndexArray
    split: _Split

    @classmethod
    def of(cls, r: Readings, edges: FloatArray) -> _Layout:
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


def segment_sums(r: Readings, edges: FloatArray) -> SegmentSums:
    """Energy and seconds of the readings ``r`` over the segments between sorted ``edges``.

    ``edges`` are real instants (Unix s); readings outside ``[edges[0], edges[-1])`` count
    only for their overlapping part. Split readings are cut by overlap (module docstring).
    Runs block by block over the readings: one pass, ``≈ CHUNK`` values of temporaries.
    """
    if not r.size:
        n = max(np.asarray(edges).size - 1, 0)
        return SegmentSums(np.zeros(n), np.zeros(n), 0.0)
    return _segment_sums(r, _Layout.of(r, edges))


def _segment_sums(
    r: Readings, layout: _Layout, percentiles: _Exceedance | None = None
) -> SegmentSums:
    """``segment_sums`` of non-empty readings over a computed layout, and the exceedance
    levels of its segments in the same pass when ``percentiles`` is given (``resample``).

    Blocks of whole segments (``_blocks``) are read ``CHUNK`` readings at a time; the energy of
    each chunk is ``decibels.relative_energy`` in a cache-sized buffer, as ``leq`` computes
    it, and ``percentiles`` counts the same chunk into its histogram table while it is in
    cache."""
    pos_ext, split = layout.pos_ext, layout.split
    n = layout.edges_ext.size - 1
    energy, seconds = np.zeros(n), np.zeros(n)
    ref = r.high
    buf = np.empty(CHUNK, dtype=np.float64)
    cuts = _blocks(pos_ext[1:-1]) if layout.buckets > 0 else np.zeros(1, dtype=np.intp)
    for k0, k1 in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        table = None if percentiles is None else percentiles.start(k0, k1)
        end = int(pos_ext[k1 + 1])
        for a in range(int(pos_ext[k0 + 1]), end, CHUNK):
            b = min(a + CHUNK, end)
            j0, bounds = _chunk_segments(pos_ext, a, b)
            e = relative_energy(r.levels[a:b], ref, buf[: b - a])
            w = _block_weights(r, split, a, b)
            if w is not None:
                e *= w
            _add_chunk((energy, seconds), j0, bounds, e, w)
            if table is not None and percentiles is not None:
                percentiles.count(table, (a, b), j0 - (k0 + 1), bounds)
        if percentiles is not None:
            percentiles.finish(k0, k1, table)
    if split.reading.size:
        piece = split.seconds * relative_energy(
            r.levels[split.reading], ref, np.empty_like(split.seconds)
        )
        energy += np.bincount(split.segment, weights=piece, minlength=n)
        seconds += np.bincount(split.segment, weights=split.seconds, minlength=n)
    return SegmentSums(energy[1:-1], seconds[1:-1], ref)


def _block_weights(r: Readings, split: _Split, a: int, b: int) -> FloatArray | None:
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


@dataclass(frozen=True, slots=True)
class Resampled:
    """Non-empty buckets, oldest first; every field is an array with one value per bucket.

    ``t``: bucket start (Unix s, UTC); ``laeq``: energetic mean over the measured seconds (dB);
    ``lafmax``: largest LAFmax of the readings overlapping the bucket (dB, NaN where none was
    given); ``l10``/``l50``/``l90``: time-weighted exceedance levels (dB; with
    ``percentiles="histogram"`` a 0.1 dB bin level wherever a histogram is valid, see
    ``resample``); ``seconds``: measured seconds in the bucket (s); ``coverage``: ``seconds``
    over the bucket's real length, capped at 1 (overlapping readings would count twice).
    """

    t: FloatArray
    laeq: FloatArray
    lafmax: FloatArray
    l10: FloatArray
    l50: FloatArray
    l90: FloatArray
    coverage: FloatArray
    seconds: FloatArray

    def __len__(self) -> int:
        return int(self.t.size)


def resample(  # noqa: PLR0917 - the positional signature issue 3 specifies
    ts: npt.ArrayLike,
    levels: npt.ArrayLike,
    durations: npt.ArrayLike | None = None,
    every: Every | str = "1h",
    tz: str | ZoneInfo = DEFAULT_TZ,
    lafmax: npt.ArrayLike | None = None,
    *,
    percentiles: Percentiles = "histogram",
) -> Resampled:
    """Aggregate readings into buckets: LAeq, max LAFmax, L10/L50/L90, coverage per bucket.

    ``ts``: interval starts (Unix s, any order); ``levels``: LAeq of each interval (dB);
    ``durations``: interval lengths (s, default 1 s); ``lafmax``: per reading (dB, optional,
    NaN allowed). ``every``: ``1s 1m 5m 15m 1h`` (aligned to the Unix epoch, hence to local
    hours in whole-hour zones) or ``1d`` (local midnight in ``tz``: 23 h and 25 h buckets on
    daylight-saving days), as ``noiselab.analysis.buckets.bucket_edges`` defines them.

    Formulas per bucket ``[a, b)`` (overlap = seconds of a reading inside it; a reading crossing
    an edge is split in proportion to its overlap, level constant within it):
    ``LAeq = 10·log10(Σ overlapᵢ·10^(Lᵢ/10) / Σ overlapᵢ)`` (SPEC "Units and time");
    ``L_N`` time-weighted nearest rank, weights = overlap (``levels.exceedance_levels``);
    ``coverage = min(1, Σ overlapᵢ / (b - a))``. Buckets without data are omitted.

    ``percentiles``: ``"histogram"`` (default) counts each bucket's overlap seconds per 0.1 dB
    bin ``round(L·10)`` (half to even), as the store's roll-up does, and answers the nearest
    rank over the bins: the bin level ``bin / 10`` holding the exact nearest-rank level, so
    within 0.05 dB of it (the exact level rounded to its bin). Valid, hence used, for buckets
    whose readings all last at most 1 s and whose levels lie within 0..6553.5 dB; any other
    bucket gets the exact level. ``"exact"`` sorts every bucket's levels (several times
    slower on long series); both give the same LAeq, LAFmax, seconds and coverage.
    """
    if percentiles not in {"histogram", "exact"}:
        raise ValueError(f"percentiles must be 'histogram' or 'exact', not {percentiles!r}")
    r = Readings.of(ts, levels, durations, lafmax)
    if not r.size:
        nothing = np.zeros(0)
        return Resampled(*(nothing,) * 8)
    edges = _edges(r, Every(every), ZoneInfo(tz) if isinstance(tz, str) else tz)
    layout = _Layout.of(r, edges)
    found = _Exceedance(r, layout, histogram=percentiles == "histogram")
    sums = _segment_sums(r, layout, found)
    keep = np.flatnonzero(sums.seconds > 0)
    seconds = sums.seconds[keep]
    exceedance = found.levels
    return Resampled(
        t=edges[keep],
        laeq=sums.ref + 10.0 * np.log10(sums.energy[keep] / seconds),
        lafmax=_bucket_lafmax(r, layout)[keep],
        l10=exceedance[keep, 0],
        l50=exceedance[keep, 1],
        l90=exceedance[keep, 2],
        coverage=np.minimum(1.0, seconds / np.diff(edges)[keep]),
        seconds=seconds,
    )


def _edges(r: Readings, every: Every, zone: ZoneInfo) -> FloatArray:
    """Bucket edges covering all readings (a margin of 1 ms at most adds an empty bucket)."""
    first, last = r.span()
    start = datetime.fromtimestamp(first - 1e-3, UTC)
    end = datetime.fromtimestamp(last + 1e-3, UTC)
    return bucket_edges(start, end, every, zone)


def _bucket_lafmax(r: Readings, layout: _Layout) -> FloatArray:
    """Largest LAFmax of the readings overlapping each bucket (NaN where none is known)."""
    n = layout.buckets
    out = np.full(n, np.nan)
    if r.lafmax is None:
        return out
    starts = layout.pos_ext[1:-1]
    nonempty = np.flatnonzero(starts[1:] > starts[:-1])
    if nonempty.size:
        out[nonempty] = np.fmax.reduceat(r.lafmax[: starts[-1]], starts[nonempty])
    split = layout.split
    bucket = split.segment - 1
    inside = (bucket >= 0) & (bucket < n)
    np.fmax.at(out, bucket[inside], r.lafmax[split.reading[inside]])
    return out


class _Exceedance:
    """L10/L50/L90 of every bucket (``levels``, NaN where empty), filled block by block
    during ``_segment_sums``' pass over the readings.

    A block gets a histogram table ``(bucket, bin)`` when ``histogram`` is asked for, every
    level fits a bin, every reading in the block lasts at most 1 s and the table is compact
    (``_DENSE_CELLS``, ``_CELLS_PER_READING``); each chunk of readings is then counted into
    it while in cache. Any other block is sorted once its chunks are done (``_sorted_block``),
    and with ``histogram`` its valid buckets get their exact level's bin: the same answer as
    a table."""

    def __init__(self, r: Readings, layout: _Layout, *, histogram: bool) -> None:
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
        ``row + 1``, ... as ``bounds`` (``_chunk_segments``) says; one ``np.bincount`` over
        ``local row·width + bin - low``, plain counts (exact integers) for 1-s readings, else
        their durations."""
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


def _block_short(r: Readings, layout: _Layout, block: tuple[int, int]) -> bool:
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
    layout: _Layout,
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


def _blocks(starts: IndexArray) -> IndexArray:
    """Bucket numbers cutting ``len(starts) - 1`` buckets into blocks of about
    ``_GROUP_CHUNK`` readings and at most ``_MAX_GROUPS`` buckets; ``starts[k]`` is the first
    reading of bucket ``k``."""
    n = starts.size - 1
    targets = np.arange(starts[0], starts[-1], _GROUP_CHUNK)
    by_size = np.searchsorted(starts, targets, side="right") - 1
    return np.unique(np.concatenate((by_size, np.arange(0, n, _MAX_GROUPS), [n])))


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
    def of(cls, r: Readings, split: _Split, pos_ext: IndexArray, block: tuple[int, int]) -> _Block:
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
    layout: _Layout,
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
