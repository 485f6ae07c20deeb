"""Per-minute energetic roll-ups computed from raw readings (numpy only, no I/O).

A reading covers ``[ts_ms, ts_ms + duration_ms)`` on the millisecond grid (the duration rounded
to whole milliseconds, at least 1 ms) and is assumed to hold its LAeq constant over that
interval. It contributes to every grid cell (a minute for the roll-up, a second for ``1s``
queries) in proportion to the overlap:

* ``energy = Σ overlap_s·10^(LAeq/10)`` and ``seconds = Σ overlap_s`` (so the cell's
  LAeq is ``10·log10(energy / seconds)``);
* ``lafmax``/``lafmin`` = max/min of the LAFmax/LAFmin of the readings overlapping the cell.
  A reading only says its maximum happened *somewhere* in its interval, so for a reading that
  spans several cells this is an upper bound (resp. lower bound) of the cell's true value;
* ``hist``: overlap milliseconds per 0.1 dB bin of LAeq (``bin = round(LAeq·10)``), from which
  L10/L50/L90 follow to within ±0.05 dB. Only readings of at most
  :data:`PERCENTILE_MAX_MS` (1 s) enter it: exceedance levels describe the distribution of
  short-term levels, and the LAeq of a longer interval (a Sensor.Community DNMS reading covers
  about 145 s, a CESVA TA120 ``-N`` one a minute) hides it. A minute whose histogram holds
  fewer milliseconds than its ``seconds`` therefore has no valid exceedance levels.

Exactness: the roll-up of a minute is always computed from *all* readings overlapping it, in
``ts`` order, with sequential sums (``np.bincount``) and integer millisecond weights, so
recomputing it from the raw rows reproduces it bit for bit (on the same numpy build).

Histogram BLOB format: packed little-endian records ``(bin: uint16, ms: uint32)``, 6 bytes each,
sorted by bin, one record per non-empty bin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.decibels import energy
from noiselab.analysis.levels import exceedance_levels_by_group

__all__ = [
    "HIST_DTYPE",
    "KEY_SHIFT",
    "MINUTE_MASK",
    "MINUTE_MS",
    "PERCENTILE_MAX_MS",
    "MinuteRollup",
    "Rows",
    "bins_fit",
    "decode_hist",
    "decode_hists",
    "duration_ms",
    "encode_hists",
    "hist_bins",
    "hist_exceedance",
    "merge_hists",
    "minute_key",
    "minute_keys",
    "nan_to_none",
    "rollup_minutes",
    "split_key",
    "spread",
    "sum_by",
]


MINUTE_MS = 60_000
PERCENTILE_MAX_MS = 1000
"""Longest reading (ms) whose LAeq enters the exceedance-level histograms."""
HIST_DTYPE = np.dtype([("bin", "<u2"), ("ms", "<u4")])
"""One histogram record: LAeq bin (0.1 dB steps) and the milliseconds measured at that level."""

KEY_SHIFT = 32  # minute keys are ``code << 32 | minute`` (Unix minutes fit 32 bits until 10136)
MINUTE_MASK = (1 << KEY_SHIFT) - 1
_BIN_LIMIT = int(np.iinfo(np.uint16).max)
_DENSE_CELLS = 1 << 22  # merge histograms in a dense (bucket x bin) table up to 4 M cells


@dataclass(frozen=True, slots=True)
class Rows:
    """Readings as columns, sorted by ``(code, ts_ms)``; ``code`` numbers the sensors.

    ``lafmax``/``lafmin`` hold NaN where a reading carried none.
    """

    code: IntArray
    ts_ms: IntArray
    end_ms: IntArray
    laeq: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray

    def take(self, index: npt.NDArray[np.intp]) -> Rows:
        """The rows at ``index`` (which must keep them sorted)."""
        return Rows(
            self.code[index],
            self.ts_ms[index],
            self.end_ms[index],
            self.laeq[index],
            self.lafmax[index],
            self.lafmin[index],
        )


@dataclass(frozen=True, slots=True)
class MinuteRollup:
    """Aggregates per minute key (``code << 32 | minute``), aligned with ``keys``."""

    keys: IntArray
    energy: FloatArray
    seconds: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    hists: list[bytes]


def duration_ms(duration_s: npt.ArrayLike) -> IntArray:
    """Durations in whole milliseconds (rounded half to even, at least 1 ms)."""
    ms = np.rint(np.asarray(duration_s, dtype=np.float64) * 1000.0).astype(np.int64)
    return np.maximum(ms, 1)


def hist_bins(laeq: FloatArray) -> IntArray:
    """Histogram bin of each LAeq: ``round(LAeq·10)`` (0.1 dB steps, half to even)."""
    return np.rint(laeq * 10.0).astype(np.int64)


def spread(
    start_ms: IntArray, end_ms: IntArray, width_ms: int
) -> tuple[npt.NDArray[np.intp], IntArray, IntArray]:
    """Pairs (row, cell) of each interval with the grid cells ``[k·w, (k+1)·w)`` it overlaps.

    Returns ``(row, cell, overlap_ms)``, row-major: the pairs of row 0 first, cells ascending.
    """
    first = start_ms // width_ms
    counts = (end_ms - 1) // width_ms - first + 1
    row = np.repeat(np.arange(start_ms.size), counts)
    offset = np.arange(row.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    cell = first[row] + offset
    low = np.maximum(start_ms[row], cell * width_ms)
    high = np.minimum(end_ms[row], (cell + 1) * width_ms)
    return row, cell, high - low


def minute_key(code: IntArray, minute: IntArray) -> IntArray:
    """Keys ordering minutes by sensor code, then time: ``code << 32 | minute``."""
    return (code << KEY_SHIFT) | minute


def minute_keys(code: IntArray, first_ms: IntArray, end_ms: IntArray) -> IntArray:
    """Sorted unique minute keys of the minutes the intervals overlap."""
    row, minute, _ = spread(first_ms, end_ms, MINUTE_MS)
    return np.unique(minute_key(code[row], minute))


def split_key(key: int) -> tuple[int, int]:
    """``(code, minute)`` of a minute key."""
    return key >> KEY_SHIFT, key & MINUTE_MASK


def rollup_minutes(rows: Rows, keys: IntArray) -> MinuteRollup:
    """Roll-ups of the minutes ``keys`` (sorted unique) from ``rows``.

    ``rows`` must hold every reading that overlaps those minutes (more do no harm). A minute no
    reading overlaps gets zero seconds (the caller deletes it).
    """
    row, minute, overlap = spread(rows.ts_ms, rows.end_ms, MINUTE_MS)
    pair_key = minute_key(rows.code[row], minute)
    slot = np.searchsorted(keys, pair_key)
    inside = slot < keys.size
    inside[inside] = keys[slot[inside]] == pair_key[inside]
    row, slot, overlap = row[inside], slot[inside], overlap[inside]
    n = keys.size
    terms = energy(rows.laeq[row], overlap / 1000.0) if row.size else np.zeros(0)
    short = ((rows.end_ms - rows.ts_ms) <= PERCENTILE_MAX_MS)[row]
    return MinuteRollup(
        keys=keys,
        energy=sum_by(slot, terms, n),
        seconds=sum_by(slot, overlap, n) / 1000.0,
        lafmax=_reduce_at(np.fmax, n, slot, rows.lafmax[row]),
        lafmin=_reduce_at(np.fmin, n, slot, rows.lafmin[row]),
        hists=encode_hists(n, slot[short], hist_bins(rows.laeq[row[short]]), overlap[short]),
    )


def sum_by(slot: npt.ArrayLike, values: npt.ArrayLike, n: int) -> FloatArray:
    """Sum of ``values`` per slot ``0..n-1``, added one by one in input order (reproducible)."""
    return np.asarray(np.bincount(slot, weights=values, minlength=n), dtype=np.float64)


def _reduce_at(
    ufunc: np.ufunc, n: int, slot: npt.NDArray[np.intp], values: FloatArray
) -> FloatArray:
    out = np.full(n, np.nan)
    ufunc.at(out, slot, values)
    return out


def encode_hists(n: int, slot: npt.NDArray[np.intp], bins: IntArray, ms: IntArray) -> list[bytes]:
    """Histogram BLOB of each slot ``0..n-1`` from ``(slot, bin, ms)`` triples in any order."""
    slot_of, bin_of, total = merge_hists(slot.astype(np.int64), bins, ms, n)
    records = np.empty(bin_of.size, dtype=HIST_DTYPE)
    records["bin"] = bin_of
    records["ms"] = total
    data = records.tobytes()
    bounds = np.searchsorted(slot_of, np.arange(n + 1)) * HIST_DTYPE.itemsize
    return [data[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]


def merge_hists(
    group: IntArray, bins: IntArray, ms: IntArray, groups: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Sum ``ms`` per ``(group, bin)``: returns ``(group, bin, ms)`` sorted by group then bin.

    Integer arithmetic throughout, so the result does not depend on the input order.
    """
    if bins.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    low = int(bins.min())
    width = int(bins.max()) - low + 1
    if groups * width <= _DENSE_CELLS:
        table = np.bincount(group * width + (bins - low), weights=ms, minlength=groups * width)
        cell = np.flatnonzero(table)
        return cell // width, cell % width + low, table[cell].astype(np.int64)
    key, inverse = np.unique(group * width + (bins - low), return_inverse=True)
    total = np.bincount(inverse, weights=ms).astype(np.int64)
    return key // width, key % width + low, total


def decode_hists(hists: Sequence[bytes]) -> tuple[IntArray, IntArray, IntArray]:
    """``(item, bins, ms)`` of many histogram BLOBs, ``item`` numbering them in order."""
    bins, ms = decode_hist(b"".join(hists))
    counts = np.fromiter(map(len, hists), np.int64, len(hists)) // HIST_DTYPE.itemsize
    return np.repeat(np.arange(len(hists), dtype=np.int64), counts), bins, ms


def hist_exceedance(
    n: int, group: IntArray, bins: IntArray, ms: IntArray, seconds: FloatArray
) -> FloatArray:
    """L10/L50/L90 (dB, shape ``(n, 3)``) of groups ``0..n-1`` from merged histogram records
    ``(group, bins, ms)`` sorted by group then bin (as ``merge_hists`` returns them).

    A group gets levels only when its histogram holds all of its measured ``seconds`` (within
    half a millisecond), i.e. every reading in it lasted at most ``PERCENTILE_MAX_MS``; NaN
    otherwise. Levels are bin centres: within ±0.05 dB of the exceedance levels of the raw
    readings.
    """
    result = np.full((n, 3), np.nan)
    if group.size == 0:
        return result
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    present = group[starts]
    measured_ms = np.add.reduceat(ms, starts)
    complete = measured_ms + 0.5 >= np.rint(seconds[present] * 1000.0)
    found = exceedance_levels_by_group(bins / 10.0, ms, starts)
    result[present[complete]] = found[complete]
    return result


def decode_hist(blob: bytes) -> tuple[IntArray, IntArray]:
    """``(bins, ms)`` of a histogram BLOB; a bin ``b`` stands for LAeq ``b / 10`` dB."""
    records = np.frombuffer(blob, dtype=HIST_DTYPE)
    return records["bin"].astype(np.int64), records["ms"].astype(np.int64)


def bins_fit(laeq: FloatArray) -> npt.NDArray[np.bool_]:
    """Which LAeq values fit a histogram bin: finite, 0 to 6553.5 dB."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(laeq) & (laeq >= 0) & (laeq * 10.0 <= _BIN_LIMIT)


def nan_to_none(value: float) -> float | None:
    """NaN (no value in an aggregate) as ``None``."""
    return None if math.isnan(value) else value
