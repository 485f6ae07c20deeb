"""Energetic aggregation of readings into time buckets: numpy in, numbers out.

A reading is an interval ``[ts, ts + duration)`` (Unix seconds, UTC; duration in s, 1 s by
default) over which its LAeq is taken as constant (``readings``). A bucket ``[a, b)`` receives
from each reading the part that overlaps it, so a reading crossing an edge is split in
proportion to the overlap:

* seconds: ``T = Σ overlapᵢ`` (s); coverage ``min(1, T / (b - a))`` with ``b - a`` the real
  length (23 h or 25 h for a daylight-saving day);
* energy: ``E = Σ overlapᵢ·10^(Lᵢ/10)``; ``LAeq = 10·log10(E / T)`` (dB), the energetic mean over
  the measured seconds (SPEC "Units and time");
* LAFmax: the largest LAFmax of the readings overlapping the bucket (a reading only says its
  maximum happened somewhere in its interval: for a split reading this is an upper bound);
* ``L10, L50, L90``: time-weighted nearest-rank exceedance levels of the overlapping readings'
  LAeq, weighted by overlap seconds, from 0.1 dB histograms by default or by sorting
  (``bucket_percentiles``).

``segments`` is the engine: energies and seconds of readings over any sorted edges, vectorised
and block-wise, in one pass over the readings that ``bucket_percentiles`` follows block by block
for the exceedance levels. ``resample`` adds the bucket edges, LAFmax and coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.bucket_percentiles import BucketExceedance
from noiselab.analysis.buckets import DEFAULT_TZ, Every, bucket_edges
from noiselab.analysis.readings import Readings
from noiselab.analysis.segments import Layout, segment_sums_over

__all__ = ["Percentiles", "Resampled", "resample"]

Percentiles = Literal["histogram", "exact"]
"""How ``resample`` computes L10/L50/L90: from 0.1 dB histograms (default) or by sorting."""


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
    layout = Layout.of(r, edges)
    found = BucketExceedance(r, layout, histogram=percentiles == "histogram")
    sums = segment_sums_over(r, layout, found)
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


def _bucket_lafmax(r: Readings, layout: Layout) -> FloatArray:
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
