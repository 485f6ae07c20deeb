"""The weather's :class:`~noiselab.validity.spans.SpanSource`: which of a sensor's time its
weather station's observations make invalid (ISO 1996-2: wind above 5 m/s at the microphone,
or precipitation; :mod:`noiselab.analysis.weather_validity`).

The spans are merged and stored at ingest (:mod:`noiselab.store.metadata.weather_exclusions`),
so answering a range (a year included) is one indexed query on the sensor's station. A sensor
without a station, or whose station has no exclusions in the range, has no spans.

Usage::

    spans = WeatherSpans(meta).spans("kbm-25m", start, end)
    # [Span(start=..., end=..., cause="weather", reason="wind up to 5.8 m/s at 4 m (...)")]
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from noiselab.store.metadata.weather_exclusions import WeatherExclusion
from noiselab.validity.spans import Span

__all__ = ["WeatherSpans"]


class _Stations(Protocol):
    def station_of(self, sensor_id: str) -> str | None: ...


class _Exclusions(Protocol):
    def overlapping(
        self, station_id: str, start: datetime, end: datetime
    ) -> list[WeatherExclusion]: ...


class _Meta(Protocol):
    @property
    def weather(self) -> _Stations: ...

    @property
    def weather_exclusions(self) -> _Exclusions: ...


class WeatherSpans:
    """Spans of cause ``"weather"`` from the metadata database (a ``MetadataStore``). With
    ``keep``, each station's exclusions of a range are read once and kept: for a short-lived
    reader over many sensors sharing a station (a report), not for a long-lived one, which
    must see new spans."""

    def __init__(self, meta: _Meta, *, keep: bool = False) -> None:
        self._meta = meta
        self._kept: dict[tuple[str, datetime, datetime], list[Span]] | None = {} if keep else None

    def spans(self, sensor_id: str, start: datetime, end: datetime) -> list[Span]:
        """The spans of ``sensor_id``'s station overlapping ``[start, end)`` (aware
        datetimes), clipped to it and ordered by start, each excluding, with its reason.
        ``[]`` for a sensor without a station. Blocking (reads the database)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("spans needs aware datetimes")
        if start >= end:
            return []
        station_id = self._meta.weather.station_of(sensor_id)
        if station_id is None:
            return []
        if self._kept is None:
            return self._read(station_id, start, end)
        key = (station_id, start, end)
        if key not in self._kept:
            self._kept[key] = self._read(station_id, start, end)
        return list(self._kept[key])

    def _read(self, station_id: str, start: datetime, end: datetime) -> list[Span]:
        lo, hi = start.timestamp(), end.timestamp()
        found = []
        for exclusion in self._meta.weather_exclusions.overlapping(station_id, start, end):
            first = max(lo, exclusion.start.timestamp())
            last = min(hi, exclusion.end.timestamp())
            if first < last:
                found.append(Span(first, last, "weather", exclusion.reason))
        return found
