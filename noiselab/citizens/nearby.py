"""The nearest public sensors of a citizen's report, with what they measured when it was loud.

A report is reviewed beside the level measured at the sensors near it: the public sensors
with a position within :data:`RADIUS_M` (2 km) of the report's point, by great-circle distance
(:func:`noiselab.analysis.geodesy.great_circle_m`), nearest first (ties by id), at most
:data:`MAX_SENSORS`. For each, the LAeq over the 15 minutes around the report's time:

- the window is the 15 whole UTC minutes centred on the report's minute ``m`` (``ts`` cut to
  the minute): ``[m - 7 min, m + 8 min)``, read from the store's per-minute roll-up
  (``ReadingStore.minute_series``), which is kept after raw readings are compacted or retired;
- ``laeq`` is the energetic mean over the measured seconds,
  ``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)`` (:func:`noiselab.analysis.decibels.leq`), ``None``
  when nothing was measured; ``coverage`` the measured seconds over 900 s.

Worked value: minutes at 60 dB for 600 s and 70 dB for 300 s give
``10·log10((600·10^6 + 300·10^7) / 900) = 66.02 dB`` at coverage 1.0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from noiselab.analysis.decibels import leq
from noiselab.analysis.geodesy import great_circle_m
from noiselab.model import Sensor
from noiselab.store.base import ReadingStore

__all__ = [
    "MAX_SENSORS",
    "RADIUS_M",
    "WINDOW_S",
    "NearbySensor",
    "level_around",
    "nearby",
    "nearest_public",
    "window_around",
]

RADIUS_M = 2000.0
"""Farthest a sensor may be from a report to be shown beside it, m."""
MAX_SENSORS = 3
"""Most sensors shown beside a report."""
WINDOW_S = 900
"""Length of the window around a report's time, s (15 minutes)."""
_BEFORE = timedelta(minutes=7)
_AFTER = timedelta(minutes=8)


@dataclass(frozen=True, slots=True)
class NearbySensor:
    """A sensor near a report: its great-circle ``distance_m`` (m), and the ``laeq`` (dB,
    ``None``: no data) and ``coverage`` (0..1) of the window around the report's time."""

    sensor_id: str
    name: str
    source: str | None
    distance_m: float
    laeq: float | None
    coverage: float


def nearest_public(
    sensors: Iterable[Sensor],
    lat: float,
    lon: float,
    *,
    radius_m: float = RADIUS_M,
    limit: int = MAX_SENSORS,
) -> list[tuple[Sensor, float]]:
    """The public sensors with a position within ``radius_m`` of ``(lat, lon)``, each with its
    distance (m), nearest first (ties by id), at most ``limit``."""
    placed = [s for s in sensors if s.public and s.lat is not None and s.lon is not None]
    if not placed:
        return []
    lats = np.array([s.lat for s in placed], dtype=np.float64)
    lons = np.array([s.lon for s in placed], dtype=np.float64)
    distances = great_circle_m(lat, lon, lats, lons)
    found = [(s, float(d)) for s, d in zip(placed, distances, strict=True) if d <= radius_m]
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found[:limit]


def window_around(ts: datetime) -> tuple[datetime, datetime]:
    """``[start, end)``: the 15 whole UTC minutes centred on ``ts``'s minute (module
    docstring)."""
    minute = ts.astimezone(UTC).replace(second=0, microsecond=0)
    return minute - _BEFORE, minute + _AFTER


def level_around(store: ReadingStore, sensor_id: str, ts: datetime) -> tuple[float | None, float]:
    """``(laeq, coverage)`` of ``sensor_id`` over the window around ``ts``: the energetic mean
    (dB) of the measured minutes, ``None`` without any, and measured seconds / 900."""
    start, end = window_around(ts)
    # The window's minutes summed by the store (one span): no compacted chunk decoded.
    series = store.minute_sums(
        sensor_id, np.array([start.timestamp()]), np.array([end.timestamp()])
    )
    measured = series.duration > 0
    if not measured.any():
        return None, 0.0
    seconds = series.duration[measured]
    level = leq(series.laeq[measured], seconds)
    return level, min(1.0, float(seconds.sum()) / WINDOW_S)


def nearby(
    store: ReadingStore,
    sensors: Iterable[Sensor],
    lat: float,
    lon: float,
    ts: datetime,
    *,
    radius_m: float = RADIUS_M,
    limit: int = MAX_SENSORS,
) -> list[NearbySensor]:
    """The nearest public sensors of a report at ``(lat, lon)`` and ``ts``, with their levels
    around ``ts`` (see the module docstring)."""
    found = []
    for sensor, distance in nearest_public(sensors, lat, lon, radius_m=radius_m, limit=limit):
        level, coverage = level_around(store, sensor.id, ts)
        found.append(
            NearbySensor(
                sensor_id=sensor.id,
                name=sensor.name,
                source=sensor.source,
                distance_m=distance,
                laeq=level,
                coverage=coverage,
            )
        )
    return found
