"""The public map's content: per sensor the level now, over the last hour and yesterday's Lden.

All three come from the store's per-minute roll-up (exact energy sums), one query per sensor:

* ``laeq_15min``: the energetic mean ``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)`` over the minutes
  starting in the 15 whole minutes before now, ``[m - 900 s, m)`` with ``m`` the start of the
  current minute; ``coverage_15min`` is their measured seconds over 900 s.
* ``laeq_1h``: the same over ``[m - 3600 s, m)``.
* ``lden_yesterday``: Lden (:func:`noiselab.analysis.periods.lden`, the Danish 12/3/9 h periods
  of the API settings) of the last local date whose night has ended: yesterday once today's day
  period has begun (07:00 local), the day before before that. ``coverage_lden`` is the
  least-covered of its three periods.

The colour class is that of ``laeq_15min`` (:mod:`noiselab.api.map_bands`). Everything is
rounded for JSON here: dB to 0.01, coverage to 0.0001.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec
import numpy as np

from noiselab.analysis.decibels import leq, round_db_or_none
from noiselab.analysis.guidelines import guideline_for
from noiselab.analysis.periods import lden
from noiselab.api.map_bands import NO_DATA_COLOUR, band_for
from noiselab.api.settings import ApiSettings
from noiselab.api.status import sensor_status
from noiselab.model import Sensor, rfc3339
from noiselab.store.base import ReadingStore, SensorActivity, Series

__all__ = ["MapSnapshot", "SensorLevels", "build_snapshot", "last_full_day", "sensor_levels"]

NOW_S = 900
HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class SensorLevels:
    """One sensor's map levels (dB, ``None`` without data) and their coverages (0..1)."""

    laeq_15min: float | None
    coverage_15min: float
    laeq_1h: float | None
    coverage_1h: float
    lden_date: date
    lden: float | None
    coverage_lden: float


@dataclass(frozen=True, slots=True)
class MapSnapshot:
    """The map encoded once: the GeoJSON and the flat rows as JSON bytes, with ETags."""

    geojson: bytes
    rows: bytes
    geojson_etag: str
    rows_etag: str


def last_full_day(now: float, settings: ApiSettings) -> date:
    """The last local date whose night has ended by ``now`` (Unix s): its night ends at the
    start of the next date's day period (07:00 local in Denmark)."""
    local = datetime.fromtimestamp(now, settings.tz)
    today = local.date()
    day_start = datetime(today.year, today.month, today.day, tzinfo=settings.tz) + timedelta(
        hours=settings.day[0]
    )
    return today - timedelta(days=1 if local >= day_start else 2)


def _window(minutes: Series, start: float, end: float) -> tuple[float | None, float]:
    """Energetic mean (dB) and coverage of the minutes starting in ``[start, end)``."""
    inside = (minutes.ts >= start) & (minutes.ts < end)
    seconds = float(minutes.duration[inside].sum())
    if seconds <= 0:
        return None, 0.0
    level = leq(minutes.laeq[inside], minutes.duration[inside])
    return level, min(1.0, seconds / (end - start))


def sensor_levels(
    store: ReadingStore, sensor_id: str, now: float, settings: ApiSettings
) -> SensorLevels:
    """The map levels of ``sensor_id`` at ``now`` (Unix s); see the module docstring."""
    minute = float(np.floor(now / 60.0) * 60.0)
    day = last_full_day(now, settings)
    first = datetime(day.year, day.month, day.day, tzinfo=settings.tz).astimezone(UTC)
    fetch_from = min(first, datetime.fromtimestamp(minute - HOUR_S, UTC))
    minutes = store.minute_series(sensor_id, fetch_from, datetime.fromtimestamp(minute, UTC))
    now_level, now_coverage = _window(minutes, minute - NOW_S, minute)
    hour_level, hour_coverage = _window(minutes, minute - HOUR_S, minute)
    days = lden(
        minutes.ts,
        minutes.laeq,
        minutes.duration,
        tz=settings.tz,
        day=settings.day,
        evening=settings.evening,
        start=day,
        end=day + timedelta(days=1),
    )
    (indicators,) = days
    return SensorLevels(
        laeq_15min=now_level,
        coverage_15min=now_coverage,
        laeq_1h=hour_level,
        coverage_1h=hour_coverage,
        lden_date=day,
        lden=indicators.lden,
        coverage_lden=min(
            indicators.coverage_day, indicators.coverage_evening, indicators.coverage_night
        ),
    )


def _properties(
    sensor: Sensor,
    levels: SensorLevels,
    activity: SensorActivity | None,
    now: float,
    settings: ApiSettings,
) -> dict[str, object]:
    band = band_for(levels.laeq_15min)
    guideline = guideline_for(sensor.source) if sensor.source is not None else None
    return {
        "id": sensor.id,
        "name": sensor.name,
        "source": sensor.source,
        "status": sensor_status(activity, now, settings),
        "last_seen": None
        if activity is None
        else rfc3339(datetime.fromtimestamp(activity.last_ts, UTC)),
        "laeq_15min": round_db_or_none(levels.laeq_15min),
        "coverage_15min": round(levels.coverage_15min, 4),
        "laeq_1h": round_db_or_none(levels.laeq_1h),
        "coverage_1h": round(levels.coverage_1h, 4),
        "lden_yesterday": round_db_or_none(levels.lden),
        "lden_date": levels.lden_date.isoformat(),
        "coverage_lden": round(levels.coverage_lden, 4),
        "band": None if band is None else band.label,
        "colour": NO_DATA_COLOUR if band is None else band.colour,
        "guideline_lden_db": None if guideline is None else guideline.value_db,
    }


def build_snapshot(
    store: ReadingStore, sensors: Iterable[Sensor], now: float, settings: ApiSettings
) -> MapSnapshot:
    """The map of ``sensors`` at ``now`` (Unix s), encoded as GeoJSON and as flat rows."""
    seen = {activity.sensor_id: activity for activity in store.activity()}
    features: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    for sensor in sensors:
        levels = sensor_levels(store, sensor.id, now, settings)
        properties = _properties(sensor, levels, seen.get(sensor.id), now, settings)
        located = sensor.lat is not None and sensor.lon is not None
        geometry = {"type": "Point", "coordinates": [sensor.lon, sensor.lat]} if located else None
        features.append(
            {"type": "Feature", "id": sensor.id, "geometry": geometry, "properties": properties}
        )
        rows.append({**properties, "lat": sensor.lat, "lon": sensor.lon})
    collection = {
        "type": "FeatureCollection",
        "generated": rfc3339(datetime.fromtimestamp(now, UTC)),
        "features": features,
    }
    geojson, flat = msgspec.json.encode(collection), msgspec.json.encode(rows)
    return MapSnapshot(geojson, flat, _etag(geojson), _etag(flat))


def _etag(body: bytes) -> str:
    """A strong ETag of ``body``: 16 hex digits of its BLAKE2b hash."""
    return f'"{hashlib.blake2b(body, digest_size=8).hexdigest()}"'
