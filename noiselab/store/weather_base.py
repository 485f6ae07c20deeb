"""Weather observations in the reading store: what a write did, and immutable history.

Observations are kept like noise readings (:mod:`noiselab.store.conflicts`): keyed by
``(station_id, ts)`` at millisecond resolution, never replaced. An observation offered for a
stored key is compared field by field, ``duration`` in whole milliseconds and every measured
value exactly (both stores keep the float as sent): equal in all, a re-delivery (stored once);
different in any, a :class:`WeatherConflict`, not written, which the ingest quarantines with
the reason ``conflicts with stored reading: at <ts>: <field> stored <value>, offered <value>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from noiselab.model import WeatherObservation, rfc3339, ts_key

__all__ = [
    "MAX_WEATHER_ROWS",
    "WEATHER_FIELDS",
    "WeatherConflict",
    "WeatherWriteResult",
    "classify_weather",
    "weather_differences",
]

WEATHER_FIELDS: Final = (
    "wind_speed",
    "wind_gust",
    "wind_direction",
    "precipitation",
    "temperature",
)
"""The measured values of an observation, in the order of the contract."""
MAX_WEATHER_ROWS: Final = 600_000
"""Observations one read returns at most: a year of one station's minutes is 525,600."""


@dataclass(frozen=True, slots=True)
class WeatherConflict:
    """An observation refused because another one is stored for its ``(station_id, ts)``."""

    offered: WeatherObservation
    stored: WeatherObservation

    def detail(self) -> str:
        """``at 2026-03-02T12:00:00Z: wind_speed stored 4.0, offered 9.0``."""
        at = rfc3339(datetime.fromtimestamp(self.stored.ts, UTC))
        changes = "; ".join(
            f"{name} stored {stored}, offered {offered}"
            for name, stored, offered in weather_differences(self.stored, self.offered)
        )
        return f"at {at}: {changes}"


@dataclass(frozen=True, slots=True)
class WeatherWriteResult:
    """What one durable write of observations did, as :class:`~noiselab.store.base.WriteResult`
    for readings: ``inserted + unchanged + len(conflicts)`` is the number offered."""

    inserted: int
    unchanged: int
    conflicts: tuple[WeatherConflict, ...] = ()


def _text(value: float | None) -> str:
    return "none" if value is None else repr(value)


def weather_differences(
    stored: WeatherObservation, offered: WeatherObservation
) -> list[tuple[str, str, str]]:
    """``(field, stored value, offered value)`` of every field that differs; empty for a
    re-delivery. ``duration`` is compared in whole milliseconds, the rest exactly."""
    found: list[tuple[str, str, str]] = []
    if round(stored.duration * 1000.0) != round(offered.duration * 1000.0):
        found.append(("duration", _text(stored.duration), _text(offered.duration)))
    for name in WEATHER_FIELDS:
        a, b = getattr(stored, name), getattr(offered, name)
        if a != b:
            found.append((name, _text(a), _text(b)))
    return found


def classify_weather(
    offered: Sequence[WeatherObservation],
    stored: dict[tuple[str, int], WeatherObservation],
) -> tuple[list[WeatherObservation], int, list[WeatherConflict]]:
    """Split ``offered`` against the ``stored`` observations at their keys
    (``(station_id, ts_key(ts))``): the new ones to write (the first of a key within the
    batch), how many repeat what is stored or came first (``unchanged``), and the conflicts."""
    kept = dict(stored)
    new: list[WeatherObservation] = []
    unchanged = 0
    conflicts: list[WeatherConflict] = []
    for observation in offered:
        key = (observation.station_id, ts_key(observation.ts))
        twin = kept.get(key)
        if twin is None:
            kept[key] = observation
            new.append(observation)
        elif weather_differences(twin, observation):
            conflicts.append(WeatherConflict(observation, twin))
        else:
            unchanged += 1
    return new, unchanged, conflicts
