"""Response models of ``/api/v1/sensors``: the sensor list, one sensor, and its levels.

Conventions as in :mod:`noiselab.api.schemas.base`: times RFC 3339 UTC with ``Z``, levels dB
re 20 µPa A-weighted rounded to 0.01 dB, ``coverage`` measured seconds over bucket seconds
(0..1) rounded to 0.0001.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from noiselab.analysis.buckets import Every
from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.api.schemas.validity import SpanOut
from noiselab.model import SensorSource
from noiselab.validity import WeatherChoice

__all__ = [
    "LEFT_OUT_NOTE",
    "OFFSET_NOTE",
    "PERCENTILES_NOTE",
    "LevelPointOut",
    "LevelsOut",
    "SensorDetail",
    "SensorOut",
    "SensorStatus",
]

SensorStatus = Literal["online", "stale", "offline"]
"""Whether a sensor's data flows: see :func:`noiselab.api.status.sensor_status`."""

_SENSOR_EXAMPLE: dict[str, Any] = {
    "id": "vb-road-1",
    "name": "Køge Bugt Motorvejen, 25 m",
    "lat": 55.62667,
    "lon": 12.38674,
    "source": "road",
    "status": "online",
    "last_seen": "2026-11-25T14:59:58Z",
}
_POINT_EXAMPLE: dict[str, Any] = {
    "t": "2026-11-25T14:00:00Z",
    "laeq": 66.12,
    "lafmax": 78.4,
    "l10": 68.9,
    "l50": 65.7,
    "l90": 61.2,
    "coverage": 1.0,
    "excluded_s": 0.0,
}


class SensorOut(Out):
    """A sensor as the public sees it."""

    model_config = with_example(**_SENSOR_EXAMPLE)

    id: str = Field(examples=["vb-road-1"])
    name: str
    lat: float | None = Field(description="Latitude, decimal degrees north (WGS 84).")
    lon: float | None = Field(description="Longitude, decimal degrees east (WGS 84).")
    source: SensorSource | None = Field(description="The noise source measured; null: unknown.")
    status: SensorStatus = Field(
        description="online: data arrived recently; stale: not lately; offline: long ago or never."
    )
    last_seen: UtcTime | None = Field(description="End of the latest reading; null: never.")


class SensorDetail(SensorOut):
    """One sensor, with its description."""

    model_config = with_example(
        **_SENSOR_EXAMPLE, description="25 m north-west of the nearest carriageway edge."
    )

    description: str


class LevelPointOut(Out):
    """One bucket: energetic mean, maximum and exceedance levels over its measured seconds.

    Levels are rounded to 0.01 dB, coverage to 0.0001.
    """

    model_config = with_example(**_POINT_EXAMPLE)

    t: UtcTime = Field(description="Bucket start.")
    laeq: float = Field(description="LAeq, energetic mean over the measured seconds, dB.")
    lafmax: float | None = Field(description="Highest LAFmax reported, dB; null: none.")
    l10: float | None = Field(
        description="Level exceeded 10 % of the measured time, dB; null when the bucket holds "
        "readings longer than 1 s (see `notes`)."
    )
    l50: float | None = Field(description="Level exceeded 50 % of the measured time, dB; or null.")
    l90: float | None = Field(description="Level exceeded 90 % of the measured time, dB; or null.")
    coverage: float = Field(
        description="Measured seconds kept over the bucket's real length (seconds left out do "
        "not count)."
    )
    excluded_s: float = Field(
        0.0,
        description="Measured seconds of the bucket left out (weather, excluding annotations, "
        "corrections), which none of its values include; 0 with as_measured=true.",
    )


PERCENTILES_NOTE = (
    "l10, l50 and l90 are null where a bucket holds readings longer than 1 s: exceedance levels "
    "describe the distribution of short-term levels, which an interval average (e.g. a "
    "Sensor.Community DNMS LAeq over about 145 s, or a 1-minute LAeq) does not reveal, so they "
    "cannot be computed from it."
)


OFFSET_NOTE = (
    "l10, l50 and l90 are null where a staff offset correction begins or ends inside a bucket: "
    "they come from 0.1 dB histograms, which cannot be shifted against each other by any "
    "offset; the bucket's laeq and lafmax include the offset exactly."
)
LEFT_OUT_NOTE = (
    "Measured seconds were left out (excluded_s: weather outside the conditions of ISO 1996-2, "
    "excluding annotations, staff corrections): no value of a bucket includes them, and a "
    "bucket left out whole is not listed. weather=include keeps the weather; as_measured=true "
    "gives the levels as stored."
)


class LevelsOut(Out):
    """Levels of one sensor over ``[start, end)``; buckets without data (or whose data was all
    left out) are omitted."""

    model_config = with_example(
        sensor_id="vb-road-1",
        every="1h",
        start="2026-11-25T14:00:00Z",
        end="2026-11-25T15:00:00Z",
        as_measured=False,
        weather="exclude",
        excluded_s={"correction": 0.0, "annotation": 0.0, "weather": 0.0},
        exclusions=[],
        calibration_uncertain=[],
        points=[_POINT_EXAMPLE],
        notes=[],
    )

    sensor_id: str
    every: Every
    start: UtcTime
    end: UtcTime
    as_measured: bool = Field(
        False,
        description="true: the stored levels, nothing corrected or left out; false: the "
        "sensor's corrections, excluding annotations and the weather choice applied.",
    )
    weather: WeatherChoice = Field(
        "exclude",
        description="exclude: minutes measured in wind above 5 m/s at the microphone or in "
        "rain are left out (ISO 1996-2, the default); include: kept.",
    )
    excluded_s: dict[str, float] = Field(
        default_factory=dict,
        description="Measured seconds left out over the range, by cause: weather, annotation "
        "(a staff annotation that excludes), correction (a staff correction).",
    )
    exclusions: list[SpanOut] = Field(
        default_factory=list,
        description="The staff annotations that left data out of the range (weather spans are "
        "counted in excluded_s, not listed; corrections are at /api/v1/corrections).",
    )
    calibration_uncertain: list[SpanOut] = Field(
        default_factory=list,
        description="Spans of the range between two calibrations that drifted more than "
        "0.5 dB apart: the levels there are calibration uncertain (flagged, not left out).",
    )
    points: list[LevelPointOut]
    notes: list[str] = Field(
        description="Why values are missing, e.g. why L10/L50/L90 are null for some buckets, "
        "and whether measured seconds were left out."
    )
