"""Weather observations in the InfluxDB store: measurement ``weather`` (tag ``station_id``).

Written as line protocol (:func:`noiselab.store.influx_lines.weather_line`) with the
synchronous write API, read with :func:`noiselab.store.influx_flux.weather_query`. As for
readings, a write first reads what is stored at the batch's keys, so a re-delivery is not
written again (``unchanged``) and a different observation for a stored ``(station_id, ts)`` is
a conflict, never an overwrite (:mod:`noiselab.store.weather_base`). :class:`InfluxWeather`
is mixed into :class:`~noiselab.store.influx.InfluxStore`, whose client it uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from noiselab.errors import QueryError, ReadingRejected
from noiselab.model import WeatherObservation, ts_key
from noiselab.store.influx_cells import time_s
from noiselab.store.influx_flux import weather_query
from noiselab.store.influx_lines import WEATHER_MEASUREMENT, weather_payload
from noiselab.store.weather_base import (
    MAX_WEATHER_ROWS,
    WEATHER_FIELDS,
    WeatherWriteResult,
    classify_weather,
)

__all__ = ["InfluxWeather", "observations_of"]


def observations_of(records: list[dict[str, Any]]) -> list[WeatherObservation]:
    """``weather_query`` rows as observations, in row order."""
    found = []
    for record in records:
        values = {name: record.get(name) for name in WEATHER_FIELDS}
        found.append(
            WeatherObservation(
                str(record["station_id"]),
                round(time_s(record) * 1000.0) / 1000.0,
                float(record.get("duration") or 0.0),
                **{k: None if v is None else float(v) for k, v in values.items()},
            )
        )
    return found


class InfluxWeather:
    """The weather part of the InfluxDB store (uses its bucket, ``_post`` and ``_query``)."""

    _bucket: str

    if TYPE_CHECKING:  # provided by the store this is mixed into (InfluxStore)

        def _post(self, body: bytes, action: str) -> None: ...

        def _query(self, flux: str, action: str) -> list[dict[str, Any]]: ...

    def write_weather(
        self, observations: Sequence[WeatherObservation], received_at: float
    ) -> WeatherWriteResult:
        """Write the new ``observations``; durable in InfluxDB when it returns. Re-deliveries
        are skipped and conflicts returned, not written. ``received_at`` is not kept."""
        if not observations:
            return WeatherWriteResult(0, 0)
        keys = [ts_key(o.ts) for o in observations]
        stations = sorted({o.station_id for o in observations})
        query = weather_query(
            self._bucket,
            WEATHER_MEASUREMENT,
            stations,
            min(keys) / 1000.0,
            (max(keys) + 1) / 1000.0,
        )
        stored = {
            (o.station_id, ts_key(o.ts)): o
            for o in observations_of(
                self._query(query, "read the stored weather at a write's keys")
            )
        }
        new, unchanged, conflicts = classify_weather(observations, stored)
        if new:
            try:
                body = weather_payload(new)
            except ValueError as exc:
                raise ReadingRejected(str(exc)) from exc
            self._post(body, "write weather")
        return WeatherWriteResult(len(new), unchanged, tuple(conflicts))

    def weather(self, station_id: str, start: datetime, end: datetime) -> list[WeatherObservation]:
        """The observations of ``station_id`` with ``start <= ts < end``, ordered by ``ts``."""
        query = weather_query(self._bucket, WEATHER_MEASUREMENT, [station_id], start, end)
        found = observations_of(self._query(query, "read weather"))
        if len(found) > MAX_WEATHER_ROWS:
            raise QueryError(
                f"more than {MAX_WEATHER_ROWS:,} weather observations in the range; ask for less"
            )
        return found
