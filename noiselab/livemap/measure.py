"""What the public sensors measured in a period, read from the store's roll-ups.

Levels are dB re 20 µPa, A-weighted energetic means over the measured seconds,
``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)`` (:func:`noiselab.analysis.decibels.leq`). A sensor
counts for a period only when it measured at least ``MIN_COVERAGE`` of it; otherwise its value
is ``None`` and the fit treats it as offline (the model falls back to its unscaled level for
groups no online sensor hears).

* LAeq periods: the per-minute roll-up (:meth:`~noiselab.store.base.ReadingStore.minute_series`)
  over the window.
* Day, evening and night of a year: the hourly roll-up
  (:meth:`~noiselab.store.base.ReadingStore.hour_series`); each UTC hour is a whole local
  hour in Europe/Copenhagen and goes to the period its local start falls in. The hours "of" a
  period are those in which any public sensor measured: the coverage of a sensor is counted
  against them, and the model's emission is averaged over them (so a lab with one week of
  data compares that week with the model of that week, not with a whole modelled year).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.arrays import BoolArray, FloatArray
from noiselab.analysis.decibels import energy, leq, level_from_energy
from noiselab.livemap.periods import PeriodRules
from noiselab.model import utc
from noiselab.store.base import ReadingStore

__all__ = ["MIN_COVERAGE", "DenLevels", "den_levels", "period_index", "window_laeq"]

MIN_COVERAGE = 0.5
"""Share of a period a sensor must have measured to count (0..1)."""


def window_laeq(
    store: ReadingStore, sensor_ids: Sequence[str], start: float, end: float
) -> dict[str, float | None]:
    """LAeq (dB) of each sensor over ``[start, end)`` (Unix s, whole minutes), ``None`` below
    :data:`MIN_COVERAGE`."""
    out: dict[str, float | None] = {}
    for sid in sensor_ids:
        rows = store.minute_series(sid, utc(start), utc(end))
        seconds = float(rows.duration.sum()) if len(rows) else 0.0
        ok = seconds > 0 and seconds >= MIN_COVERAGE * (end - start)
        out[sid] = leq(rows.laeq, rows.duration) if ok else None
    return out


def period_index(
    hour_starts: FloatArray, zone: ZoneInfo, day: tuple[int, int], evening: tuple[int, int]
) -> FloatArray:
    """0 (day), 1 (evening) or 2 (night) for each hour start (Unix s) by its local hour."""
    out = np.empty(hour_starts.size)
    for i, t in enumerate(hour_starts.tolist()):
        h = datetime.fromtimestamp(t, zone).hour
        out[i] = 0 if day[0] <= h < day[1] else 1 if evening[0] <= h < evening[1] else 2
    return out


@dataclass(frozen=True, slots=True)
class DenLevels:
    """Day, evening and night LAeq (dB, ``None``: too little data) of each sensor;
    ``periods[p]``: which of the window's hours belong to period ``p`` (0 day, 1 evening,
    2 night), and ``hours[p]``: those of them with data from some sensor (masks over the
    window's hours)."""

    levels: dict[str, tuple[float | None, float | None, float | None]]
    hours: tuple[BoolArray, BoolArray, BoolArray]
    periods: tuple[BoolArray, BoolArray, BoolArray]


def den_levels(
    store: ReadingStore, sensor_ids: Sequence[str], start: float, end: float, rules: PeriodRules
) -> DenLevels:
    """Day, evening and night LAeq of each sensor over the whole hours of ``[start, end)``."""
    starts = np.arange(start, end, 3600.0)
    which = period_index(starts, rules.zone, rules.day, rules.evening)
    seconds = np.zeros((len(sensor_ids), starts.size))
    joules = np.zeros((len(sensor_ids), starts.size))  # energy-seconds, 10^(L/10)·s
    for i, sid in enumerate(sensor_ids):
        rows = store.hour_series(sid, utc(start), utc(end))
        if not len(rows):
            continue
        at = ((rows.ts - start) // 3600.0).astype(np.int64)
        seconds[i, at] = rows.duration
        joules[i, at] = energy(rows.laeq, rows.duration)
    measured = seconds.sum(axis=0) > 0
    periods = (which == 0, which == 1, which == 2)
    masks = tuple(measured & period for period in periods)
    levels: dict[str, tuple[float | None, float | None, float | None]] = {}
    for i, sid in enumerate(sensor_ids):
        per: list[float | None] = []
        for mask in masks:
            s = float(seconds[i, mask].sum())
            ok = s > 0 and s >= MIN_COVERAGE * 3600.0 * int(mask.sum())
            per.append(level_from_energy(float(joules[i, mask].sum()), s) if ok else None)
        levels[sid] = (per[0], per[1], per[2])
    return DenLevels(levels, (masks[0], masks[1], masks[2]), periods)
