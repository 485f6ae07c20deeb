"""Response models of ``/api/v1/weather`` and of the weather push."""

from __future__ import annotations

from pydantic import Field

from noiselab.api.schemas.base import Out, UtcTime, with_example

__all__ = ["ObservationOut", "ObservationsOut", "WeatherPushOut", "WeatherStationOut"]


class WeatherStationOut(Out):
    """A weather station and the sensors that take their weather from it."""

    model_config = with_example(
        id="vb-weather",
        name="Vallensbæk weather mast",
        lat=55.625,
        lon=12.385,
        height_m=10.0,
        sensors=["kbm-25m"],
    )

    id: str
    name: str
    lat: float | None
    lon: float | None
    height_m: float = Field(description="Height of the anemometer above ground, m.")
    sensors: list[str] = Field(description="Sensors assigned to this station.")


class ObservationOut(Out):
    """One observation over ``[ts, ts + duration)``; ``null`` where not observed."""

    ts: UtcTime
    duration: float = Field(description="Interval length, s.")
    wind_speed: float | None = Field(description="Mean wind speed at the anemometer, m/s.")
    wind_gust: float | None = Field(description="Highest wind speed in the interval, m/s.")
    wind_direction: float | None = Field(description="Where the wind comes from, degrees.")
    precipitation: float | None = Field(description="Precipitation in the interval, mm.")
    temperature: float | None = Field(description="Air temperature, °C.")


class ObservationsOut(Out):
    """The observations of one station with ``start <= ts < end``, ordered by ``ts``."""

    model_config = with_example(
        station_id="vb-weather",
        start="2026-11-25T14:00:00Z",
        end="2026-11-25T14:01:00Z",
        observations=[
            {
                "ts": "2026-11-25T14:00:00Z",
                "duration": 60.0,
                "wind_speed": 7.0,
                "wind_gust": 11.2,
                "wind_direction": 250.0,
                "precipitation": 0.4,
                "temperature": 6.5,
            }
        ],
    )

    station_id: str
    start: UtcTime
    end: UtcTime
    observations: list[ObservationOut]


class WeatherPushOut(Out):
    """What a push of observations stored and refused."""

    model_config = with_example(station_id="vb-weather", stored=1, quarantined=0, reasons=[])

    station_id: str
    stored: int = Field(description="Observations durably stored (or already stored the same).")
    quarantined: int = Field(description="Observations refused and kept in quarantine.")
    reasons: list[str] = Field(description="Why each quarantined observation was refused.")
