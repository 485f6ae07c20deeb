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

``segment_sums`` is the engine: energies and seconds of readings over any sorted edges (real
instants), vectorised and block-wise so a sensor-year of 1-s data needs no array as large as
the input beyond the input itself (when it is sorted). ``resample`` adds LAFmax and percentiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.analysis.decibels import CHUNK, relative_energy
from noiselab.analysis.levels import DEFAULT_PERCENTS, exceedance_levels_by_group

__all__ = ["Readings", "Resampled", "SegmentSums", "resample", "segment_sums"]

IndexArray = npt.NDArray[np.intp]

DEFAULT_TZ = "Europe/Copenhagen"
"""Local zone of the Vallensbæk sensors (SPEC "Units and time")."""

_GROUP_CHUNK = 1 << 20
"""Readings per block when sorting levels within buckets (temporaries of a few 8 MiB arrays)."""
_MAX_GROUPS = (1 << 16) - 1
"""Buckets per block, so bucket numbers fit ``uint16`` and sort with numpy's radix sort."""
_LOOP_MIN_SIZE = 64
"""Mean bucket size from which sorting bucket by bucket beats one two-key sort."""


@dataclass(frozen=True, slots=True)
class Readings:
    """Readings sorted by start: ``ts`` (Unix s), ``levels`` (dB), ``durations`` (s; ``None``
    means 1 s each), ``lafmax`` (dB, NaN where unknown; ``None`` if not given)."""

    ts: FloatArray
    levels: FloatArray
    durations: FloatArray | None
    lafmax: FloatArray | None

    @classmethod
    def of(
        cls,
        ts: npt.ArrayLike,
        levels: npt.ArrayLike,
        durations: npt.ArrayLike | None = None,
        lafmax: npt.ArrayLike | None = None,
    ) -> Readings:
        """Validate, and sort by ``ts`` unless already sorted (no copy then)."""
        t = _finite(ts, "timestamps")
        lv = _finite(levels, "levels")
        d = None if durations is None else _finite(durations, "durations")
        mx = None if lafmax is None else np.ascontiguousarray(lafmax, np.float64).reshape(-1)
        for name, arr in (("levels", lv), ("durations", d), ("lafmax", mx)):
            if arr is not None and arr.size != t.size:
                raise ValueError(f"{arr.size} {name} for {t.size} timestamps")
        if d is not None and d.size and not float(d.min()) > 0:
            raise ValueError("durations must be positive (s)")
        if _is_sorted(t):
            return cls(t, lv, d, mx)
        order = np.argsort(t, kind="stable")
        return cls(
            t[order],
            lv[order],
            None if d is None else d[order],
            None if mx is None else mx[order],
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


def _finite(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    if arr.size and not (math.isfinite(float(arr.min())) and math.isfinite(float(arr.max()))):
        raise ValueError(f"{name} must be finite numbers")
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
    edges_ext = _extend(np.asarray(edges, dtype=np.float64))
    n = edges_ext.size - 1
    energy, seconds = np.zeros(n), np.zeros(n)
    if not r.size:
        return SegmentSums(energy[1:-1], seconds[1:-1], 0.0)
    ref = float(r.levels.max())
    pos_ext = np.searchsorted(r.ts, edges_ext, side="left")
    split = _split(r, edges_ext, pos_ext)
    buf = np.empty(CHUNK, dtype=np.float64)
    for a in range(int(pos_ext[1]), int(pos_ext[-2]), CHUNK):
        b = min(a + CHUNK, int(pos_ext[-2]))
        e = relative_energy(r.levels[a:b], ref, buf[: b - a])
        w = _block_weights(r, split, a, b)
        if w is not None:
            e *= w
        _add_block((energy, seconds), pos_ext, (a, b), e, w)
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


def _add_block(
    sums: tuple[FloatArray, FloatArray],
    pos_ext: IndexArray,
    block: tuple[int, int],
    e: FloatArray,
    w: FloatArray | None,
) -> None:
    """Add the block ``a:b`` (energies ``e``, seconds ``w`` or 1 each) to its segments'
    ``sums = (energy, seconds)``."""
    energy, seconds = sums
    a, b = block
    j0 = int(np.searchsorted(pos_ext, a, side="right")) - 1
    j1 = int(np.searchsorted(pos_ext, b, side="left"))
    bounds = np.clip(pos_ext[j0 : j1 + 1], a, b) - a
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
    given); ``l10``/``l50``/``l90``: time-weighted exceedance levels (dB); ``seconds``: measured
    seconds in the bucket (s); ``coverage``: ``seconds`` over the bucket's real length, capped
    at 1 (overlapping readings would count twice).
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


@dataclass(frozen=True, slots=True)
class _Totals:
    """Accumulators over all buckets, filled block by block."""

    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    exceedance: FloatArray

    @classmethod
    def zeros(cls, n: int) -> _Totals:
        return cls(np.zeros(n), np.zeros(n), np.full(n, np.nan), np.full((n, 3), np.nan))


def resample(  # noqa: PLR0917 - the positional signature issue 3 specifies
    ts: npt.ArrayLike,
    levels: npt.ArrayLike,
    durations: npt.ArrayLike | None = None,
    every: Every | str = "1h",
    tz: str | ZoneInfo = DEFAULT_TZ,
    lafmax: npt.ArrayLike | None = None,
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
    """
    r = Readings.of(ts, levels, durations, lafmax)
    if not r.size:
        nothing = np.zeros(0)
        return Resampled(*(nothing,) * 8)
    edges = _edges(r, Every(every), ZoneInfo(tz) if isinstance(tz, str) else tz)
    totals = _bucket_totals(r, edges)
    keep = np.flatnonzero(totals.seconds > 0)
    seconds = totals.seconds[keep]
    ref = float(r.levels.max())
    return Resampled(
        t=edges[keep],
        laeq=ref + 10.0 * np.log10(totals.energy[keep] / seconds),
        lafmax=totals.lafmax[keep],
        l10=totals.exceedance[keep, 0],
        l50=totals.exceedance[keep, 1],
        l90=totals.exceedance[keep, 2],
        coverage=np.minimum(1.0, seconds / np.diff(edges)[keep]),
        seconds=seconds,
    )


def _edges(r: Readings, every: Every, zone: ZoneInfo) -> FloatArray:
    """Bucket edges covering all readings (a margin of 1 ms at most adds an empty bucket)."""
    first, last = r.span()
    start = datetime.fromtimestamp(first - 1e-3, UTC)
    end = datetime.fromtimestamp(last + 1e-3, UTC)
    return bucket_edges(start, end, every, zone)


def _bucket_totals(r: Readings, edges: FloatArray) -> _Totals:
    """Energy, seconds, LAFmax and exceedance levels of every bucket."""
    edges_ext = _extend(edges)
    pos_ext = np.searchsorted(r.ts, edges_ext, side="left")
    split = _split(r, edges_ext, pos_ext)
    totals = _Totals.zeros(edges.size - 1)
    ref = float(r.levels.max())
    cuts = _blocks(pos_ext[1:-1])
    for k0, k1 in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        _bucket_block(r, split, pos_ext, (k0, k1), ref=ref, totals=totals)
    return totals


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
    (``group`` ascending, local numbers): level (dB), seconds, LAFmax (dB, or ``None``).
    ``uniform``: every piece lasts 1 s (no durations given, nothing split)."""

    group: IndexArray
    level: FloatArray
    weight: FloatArray
    lafmax: FloatArray | None
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
        mx = None if r.lafmax is None else r.lafmax[a:b]
        lo, hi = np.searchsorted(split.segment, [k0 + 1, k1 + 1])
        if lo == hi:
            return cls(group, r.levels[a:b], weight, mx, uniform)
        extra = split.reading[lo:hi]
        group = np.concatenate((group, split.segment[lo:hi] - (k0 + 1)))
        order = np.argsort(group.astype(np.uint16), kind="stable")
        return cls(
            group[order],
            np.concatenate((r.levels[a:b], r.levels[extra]))[order],
            np.concatenate((weight, split.seconds[lo:hi]))[order],
            None
            if mx is None or r.lafmax is None
            else np.concatenate((mx, r.lafmax[extra]))[order],
            uniform=False,
        )


def _bucket_block(
    r: Readings,
    split: _Split,
    pos_ext: IndexArray,
    block: tuple[int, int],
    *,
    ref: float,
    totals: _Totals,
) -> None:
    """Fill ``totals`` for buckets ``k0:k1`` from their readings and the split pieces."""
    items = _Block.of(r, split, pos_ext, block)
    if not items.group.size:
        return
    group = items.group
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    bucket = block[0] + group[starts]
    e = relative_energy(items.level, ref, np.empty_like(items.level))
    if not items.uniform:
        e *= items.weight
    totals.energy[bucket] = np.add.reduceat(e, starts)
    totals.seconds[bucket] = np.add.reduceat(items.weight, starts)
    if items.lafmax is not None:
        totals.lafmax[bucket] = np.fmax.reduceat(items.lafmax, starts)
    level, weight = _sorted_within(items, starts)
    totals.exceedance[bucket] = exceedance_levels_by_group(level, weight, starts, DEFAULT_PERCENTS)


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
