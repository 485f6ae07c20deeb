"""The spans of a weather station's time that its weather makes invalid (ISO 1996-2), kept
merged in the metadata database so a year of them is one indexed query.

At ingest, each stored observation is judged by :func:`noiselab.analysis.weather_validity.
weather_validity` (wind above 5 m/s at the microphone height, 4 m, carried down from the
station's anemometer by the logarithmic profile; or any precipitation). Every invalid
observation's interval ``[ts, ts + duration)`` is merged into the station's spans: spans that
overlap or touch become one, keeping the highest wind (at the microphone and at the
anemometer) and the most precipitation of one observation, from which the reason is written
(``"wind up to 5.8 m/s at 4 m (7.0 m/s at 10 m); precipitation up to 0.4 mm per
observation"``). Union and maximum are idempotent, so an observation delivered again changes
nothing (and nothing is written when the merge gives back the stored spans).

Spans hold aware UTC datetimes on whole milliseconds (the store's key resolution).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from noiselab.analysis.weather_validity import (
    MAX_WIND_MS,
    MICROPHONE_HEIGHT_M,
    mm_text,
    weather_validity,
    wind_text,
)
from noiselab.model import WeatherObservation, ts_key
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import weather_exclusions_table, weather_stations_table

__all__ = [
    "WeatherExclusion",
    "WeatherExclusionRepository",
    "invalid_spans",
    "merged",
    "span_reason",
]


@dataclass(frozen=True, slots=True)
class WeatherExclusion:
    """A span ``[start, end)`` of ``station_id``'s time its weather makes invalid: the highest
    mean wind at the microphone (``wind_ms``) and at the anemometer (``wind_station_ms``), m/s,
    and the most precipitation of one observation (mm); ``None`` where that cause did not
    apply."""

    station_id: str
    start: datetime
    end: datetime
    wind_ms: float | None
    wind_station_ms: float | None
    precipitation_mm: float | None
    reason: str


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, UTC)


def span_reason(
    exclusion: WeatherExclusion, anemometer_m: float, microphone_m: float = MICROPHONE_HEIGHT_M
) -> str:
    """The reason text of a span from its maxima."""
    parts = []
    if exclusion.wind_ms is not None and exclusion.wind_station_ms is not None:
        words = wind_text(exclusion.wind_ms, microphone_m, exclusion.wind_station_ms, anemometer_m)
        parts.append(words.replace("wind ", "wind up to ", 1))
    if exclusion.precipitation_mm is not None:
        amount = mm_text(exclusion.precipitation_mm)
        parts.append(f"precipitation up to {amount} mm per observation")
    return "; ".join(parts)


def invalid_spans(
    observations: Sequence[WeatherObservation],
    anemometer_m: float,
    microphone_m: float = MICROPHONE_HEIGHT_M,
) -> list[WeatherExclusion]:
    """One span per observation its weather makes invalid, merged (:func:`merged`)."""
    if not observations:
        return []
    nan = math.nan
    wind = np.array([nan if o.wind_speed is None else o.wind_speed for o in observations])
    rain = np.array([nan if o.precipitation is None else o.precipitation for o in observations])
    validity = weather_validity(wind, rain, anemometer_m=anemometer_m, microphone_m=microphone_m)
    spans = []
    for i, o in enumerate(observations):
        if validity.valid[i]:
            continue
        start_ms = ts_key(o.ts)
        windy = bool(validity.wind_ms[i] > MAX_WIND_MS)
        wet = bool(rain[i] > 0.0)
        spans.append(
            WeatherExclusion(
                station_id=o.station_id,
                start=_instant(start_ms),
                end=_instant(start_ms + max(1, round(o.duration * 1000.0))),
                wind_ms=float(validity.wind_ms[i]) if windy else None,
                wind_station_ms=float(wind[i]) if windy else None,
                precipitation_mm=float(rain[i]) if wet else None,
                reason=validity.reasons[i],
            )
        )
    return merged(spans, anemometer_m, microphone_m)


def _most(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def merged(
    spans: Iterable[WeatherExclusion],
    anemometer_m: float,
    microphone_m: float = MICROPHONE_HEIGHT_M,
) -> list[WeatherExclusion]:
    """``spans`` of one station with those that overlap or touch joined, ordered by start;
    each joined span keeps the maxima and gets its reason from them (:func:`span_reason`)."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    out: list[WeatherExclusion] = []
    for span in ordered:
        if out and span.start <= out[-1].end:
            last = out[-1]
            out[-1] = replace(
                last,
                end=max(last.end, span.end),
                wind_ms=_most(last.wind_ms, span.wind_ms),
                wind_station_ms=_most(last.wind_station_ms, span.wind_station_ms),
                precipitation_mm=_most(last.precipitation_mm, span.precipitation_mm),
            )
        else:
            out.append(span)
    return [replace(s, reason=span_reason(s, anemometer_m, microphone_m)) for s in out]


class WeatherExclusionRepository:
    """The stations' exclusion spans. Each method is one transaction; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine

    def record(
        self, station_id: str, observations: Sequence[WeatherObservation], anemometer_m: float
    ) -> int:
        """Merge the spans that ``observations`` (of ``station_id``) make invalid into the
        stored ones; returns how many span rows were written (0 when nothing changed)."""
        mine = [o for o in observations if o.station_id == station_id]
        return self.merge(station_id, invalid_spans(mine, anemometer_m), anemometer_m)

    def merge(self, station_id: str, spans: Sequence[WeatherExclusion], anemometer_m: float) -> int:
        """Merge ``spans`` into the stored spans of ``station_id`` in one transaction (the
        station's row locked on PostgreSQL, so concurrent ingest workers merge in turn)."""
        if not spans:
            return 0
        table = weather_exclusions_table
        lo, hi = min(s.start for s in spans), max(s.end for s in spans)
        with translated("record weather exclusions"), self._engine.begin() as connection:
            lock = sa.select(weather_stations_table.c.id).where(
                weather_stations_table.c.id == station_id
            )
            connection.execute(lock.with_for_update()).first()
            stored = _overlapping(connection, station_id, lo, hi, touching=True)
            result = merged([*(e for _, e in stored), *spans], anemometer_m)
            if result == [e for _, e in stored]:
                return 0
            ids = [i for i, _ in stored]
            if ids:
                connection.execute(sa.delete(table).where(table.c.id.in_(ids)))
            connection.execute(sa.insert(table), [_row(e) for e in result])
        return len(result)

    def overlapping(
        self, station_id: str, start: datetime, end: datetime
    ) -> list[WeatherExclusion]:
        """The spans of ``station_id`` that overlap ``[start, end)``, ordered by start (not
        clipped)."""
        with translated("read weather exclusions"), self._engine.connect() as connection:
            return [e for _, e in _overlapping(connection, station_id, start, end, touching=False)]


def _overlapping(
    connection: Connection, station_id: str, start: datetime, end: datetime, *, touching: bool
) -> list[tuple[int, WeatherExclusion]]:
    table = weather_exclusions_table
    if touching:
        within = sa.and_(table.c.start <= end, table.c.end >= start)
    else:
        within = sa.and_(table.c.start < end, table.c.end > start)
    query = (
        sa.select(table)
        .where(table.c.station_id == station_id, within)
        .order_by(table.c.start, table.c.id)
    )
    return [
        (
            int(row["id"]),
            WeatherExclusion(
                station_id=str(row["station_id"]),
                start=row["start"],
                end=row["end"],
                wind_ms=row["wind_ms"],
                wind_station_ms=row["wind_station_ms"],
                precipitation_mm=row["precipitation_mm"],
                reason=str(row["reason"]),
            ),
        )
        for row in connection.execute(query).mappings()
    ]


def _row(e: WeatherExclusion) -> dict[str, object]:
    return {
        "station_id": e.station_id,
        "start": e.start,
        "end": e.end,
        "wind_ms": e.wind_ms,
        "wind_station_ms": e.wind_station_ms,
        "precipitation_mm": e.precipitation_mm,
        "reason": e.reason,
    }
