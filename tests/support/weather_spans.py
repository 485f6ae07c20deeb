"""A sensor's weather made invalid over a span, as the validity tests set it up: the weather
station ``vb-weather`` (registered if missing), the sensor assigned to it, and one merged
exclusion span (wind 6.2 m/s at the station)."""

from __future__ import annotations

from datetime import datetime

from noiselab.store.metadata import MetadataStore, WeatherExclusion, WeatherStation

__all__ = ["STATION", "windy"]

STATION = "vb-weather"


def windy(meta: MetadataStore, sensor_id: str, start: datetime, end: datetime) -> None:
    """``sensor_id``'s station found ``[start, end)`` invalid (wind)."""
    if meta.weather.get(STATION) is None:
        meta.weather.add(WeatherStation(id=STATION, name="Vallensbæk"))
    meta.weather.assign(sensor_id, STATION)
    span = WeatherExclusion(STATION, start, end, 6.2, 7.5, None, "wind 6.2 m/s at 4 m")
    meta.weather_exclusions.merge(STATION, [span], 10.0)
