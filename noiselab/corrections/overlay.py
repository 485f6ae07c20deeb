"""A sensor's stored series with its active corrections applied (the stored rows stay as
they are: this is a corrected copy).

Corrections lie on whole minutes, so the per-minute roll-up corrects exactly. Reading a year
of minutes for a daily indicator or a trial would cost 60 times the hourly roll-up, so the
hourly rows are used wherever one correction state holds for the whole hour (an excluded hour
is dropped, an offset hour gets its offset: exact, as an offset shifts every minute of the hour
alike), and only the hours a correction's edge cuts
(:func:`~noiselab.analysis.corrections.partial_buckets`) are split into pieces of one state
each, summed from the per-minute roll-up in one read for all of them
(:meth:`~noiselab.store.base.ReadingStore.minute_sums`). In each cut hour the pieces of the
state covering most of it are not read: the hour's sums less the others' give them
(:mod:`noiselab.analysis.cut_pieces`). A year with 2,000 weather spans thus costs 2.4 times the
year without (docs/benchmarks.md, "Indicators with many weather spans"), where a read per cut
hour cost 31 times as much.

Band levels (:meth:`ReadingStore.hourly_bands`) are read per stretch between correction edges
(each stretch has one state) and merged per hour by their seconds; a spectrum reading belongs
to the stretch its interval starts in, as it belongs to the hour it starts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.corrections import (
    ExcludedRows,
    RangeCorrection,
    apply_corrections,
    correction_state,
    cut_points,
    interval_levels,
    merge_rows,
    partial_buckets,
)
from noiselab.analysis.cut_pieces import Remainder, cut_pieces, rows_within
from noiselab.analysis.decibels import energy
from noiselab.model import utc
from noiselab.store.base import BandLevels, ReadingStore, Series
from noiselab.store.metadata import Correction

__all__ = [
    "HOUR_S",
    "active_ranges",
    "corrected_bands",
    "corrected_hours",
    "corrected_series",
    "validated_hours",
    "validated_series",
]

HOUR_S = 3600.0


def active_ranges(corrections: Iterable[Correction]) -> dict[str, list[RangeCorrection]]:
    """The active (not withdrawn) corrections by sensor id, as the analysis applies them."""
    ranges: dict[str, list[RangeCorrection]] = {}
    for correction in corrections:
        if correction.active:
            ranges.setdefault(correction.sensor_id, []).append(correction.as_range())
    return ranges


def corrected_series(
    store: ReadingStore,
    sensor_id: str,
    start: datetime,
    end: datetime,
    ranges: Sequence[RangeCorrection],
    *,
    hourly: bool,
) -> Series:
    """Rows of ``sensor_id`` over ``[start, end)`` with ``ranges`` applied: the per-minute
    roll-up, or with ``hourly`` the hourly one where that is exact and per-minute rows in the
    hours a range edge cuts (``ts`` ascending either way; ``duration`` the measured seconds,
    ``lafmax`` NaN where unknown). Without ranges, exactly what the store gives."""
    return validated_series(store, sensor_id, start, end, ranges, hourly=hourly)[0]


def validated_series(
    store: ReadingStore,
    sensor_id: str,
    start: datetime,
    end: datetime,
    ranges: Sequence[RangeCorrection],
    *,
    hourly: bool,
) -> tuple[Series, ExcludedRows]:
    """:func:`corrected_series` and the rows its exclusions left out, with their causes."""
    if not hourly:
        return _corrected(store.minute_series(sensor_id, start, end), ranges)
    rows = store.hour_series(sensor_id, start, end)
    if not ranges:
        return rows, ExcludedRows.empty()
    span = (start.timestamp(), end.timestamp())
    cut = partial_buckets(ranges, *span, HOUR_S)
    if not cut.size:
        return _corrected(rows, ranges)
    in_cut = np.isin(rows.ts, cut)
    hours = _bucket_sums(_select(rows, in_cut), cut)
    whole = (cut >= span[0]) & (cut + HOUR_S <= span[1]) & (hours[1] > 0)
    pieces = cut_pieces(ranges, cut, HOUR_S, span, whole)
    read = store.minute_sums(sensor_id, *pieces.to_read())
    left = pieces.remainder(hours, _sums(read))
    if left.unsure.any():
        read = _concat([read, store.minute_sums(sensor_id, *pieces.to_read(left.unsure))])
    return _corrected(_concat([_select(rows, ~in_cut), read, _remainder_rows(left)]), ranges)


def _sums(rows: Series) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(ts, energy, seconds, lafmax)`` of ``rows``."""
    return rows.ts, _energy(rows), rows.duration, rows.lafmax


def _energy(rows: Series) -> FloatArray:
    """``duration·10^(laeq/10)`` of each row (none for no rows)."""
    return energy(rows.laeq, rows.duration) if len(rows) else np.zeros(0)


def _bucket_sums(rows: Series, buckets: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Energy, seconds and highest LAFmax of the hourly ``rows`` per hour of ``buckets``."""
    at = np.searchsorted(buckets, rows.ts)
    n = buckets.size
    peak = np.full(n, np.nan)
    np.fmax.at(peak, at, rows.lafmax)
    energies = np.asarray(np.bincount(at, _energy(rows), n), dtype=np.float64)
    return energies, np.asarray(np.bincount(at, rows.duration, n), dtype=np.float64), peak


def _remainder_rows(left: Remainder) -> Series:
    """The cut hours' unread pieces as rows, none reaching past its hour."""
    row, seconds = rows_within(left.ts, left.seconds, left.room)
    return Series(left.ts[row], left.levels()[row], seconds, left.lafmax[row])


def corrected_hours(
    store: ReadingStore,
    sensor_id: str,
    start: datetime,
    end: datetime,
    ranges: Sequence[RangeCorrection],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The UTC hours of ``[start, end)`` (both on whole hours) in which ``sensor_id`` has data
    after ``ranges`` are applied: their starts (Unix s), LAeq,1h (dB, the energetic mean over
    the measured seconds left) and coverage (those seconds over 3600, at most 1)."""
    return validated_hours(store, sensor_id, start, end, ranges)[:3]


def validated_hours(
    store: ReadingStore,
    sensor_id: str,
    start: datetime,
    end: datetime,
    ranges: Sequence[RangeCorrection],
) -> tuple[FloatArray, FloatArray, FloatArray, ExcludedRows]:
    """:func:`corrected_hours` and the rows its exclusions left out, with their causes."""
    rows, excluded = validated_series(store, sensor_id, start, end, ranges, hourly=True)
    starts = np.arange(start.timestamp(), end.timestamp(), HOUR_S)
    levels, seconds = interval_levels(rows.ts, rows.laeq, rows.duration, starts, HOUR_S)
    has = seconds > 0
    return starts[has], levels[has], np.minimum(seconds[has] / HOUR_S, 1.0), excluded


def corrected_bands(
    store: ReadingStore,
    sensor_id: str,
    start: datetime,
    end: datetime,
    ranges: Sequence[RangeCorrection],
) -> BandLevels:
    """Hourly band levels of ``sensor_id`` over ``[start, end)`` with ``ranges`` applied
    (offsets added to every band). A stretch whose first spectrum has other bands than the
    first stretch's is left out, as the store leaves out such readings within one query."""
    if not ranges:
        return store.hourly_bands(sensor_id, start, end)
    t0, t1 = start.timestamp(), end.timestamp()
    edges = [t0, *cut_points(ranges, t0, t1).tolist(), t1]
    bands_hz: FloatArray | None = None
    t, lzeq, seconds = [], [], []
    for lo, hi in pairwise(edges):
        excluded, offset = correction_state([lo], ranges)
        if excluded[0]:
            continue
        found = store.hourly_bands(sensor_id, utc(lo), utc(hi))
        if len(found) == 0:
            continue
        if bands_hz is None:
            bands_hz = found.bands_hz
        elif not np.array_equal(bands_hz, found.bands_hz):
            continue
        t.append(found.t)
        lzeq.append(found.lzeq + offset[0])
        seconds.append(found.seconds)
    if bands_hz is None:
        empty = np.zeros(0)
        return BandLevels(empty, empty, np.zeros((0, 0)), empty)
    merged_t, merged, total = merge_rows(
        np.concatenate(t), np.vstack(lzeq), np.concatenate(seconds)
    )
    return BandLevels(merged_t, bands_hz, merged, total)


def _select(rows: Series, keep: np.ndarray) -> Series:
    return Series(rows.ts[keep], rows.laeq[keep], rows.duration[keep], rows.lafmax[keep])


def _concat(parts: Sequence[Series]) -> Series:
    ts = np.concatenate([p.ts for p in parts])
    order = np.argsort(ts, kind="stable")
    return Series(
        ts[order],
        np.concatenate([p.laeq for p in parts])[order],
        np.concatenate([p.duration for p in parts])[order],
        np.concatenate([p.lafmax for p in parts])[order],
    )


def _corrected(rows: Series, ranges: Sequence[RangeCorrection]) -> tuple[Series, ExcludedRows]:
    if not ranges:
        return rows, ExcludedRows.empty()
    fixed = apply_corrections(rows.ts, rows.laeq, rows.duration, ranges, rows.lafmax)
    assert fixed.lafmax is not None
    return Series(fixed.ts, fixed.laeq, fixed.duration, fixed.lafmax), fixed.excluded
