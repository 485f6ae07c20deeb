"""Response models of the living map (``/api/v1/map/surface`` and ``/api/v1/map/estimate``).

Levels are dB re 20 µPa, A-weighted, rounded to 0.01 dB: LAeq for the periods ``now``,
``hour`` and ``24h``, Lden for ``year`` (the ``indicator`` field says which); ``null`` where a
value does not exist (a sensor without data, a silent source). Positions are WGS84 degrees.
Only public sensors appear, and only they take part in the fit.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.api.schemas.map import BandOut

__all__ = [
    "AccuracyOut",
    "ContributionOut",
    "EstimateOut",
    "GainOut",
    "NearbySensorOut",
    "SensorAccuracyOut",
    "SurfaceOut",
]

_SENSOR: dict[str, Any] = {
    "id": "kbm-25m",
    "name": "Køge Bugt Motorvejen, 25 m",
    "measured_db": 71.23,
    "modelled_db": 71.05,
    "loo_error_db": -0.84,
}
_ACCURACY: dict[str, Any] = {
    "n": 12,
    "median_abs_db": 0.93,
    "p90_abs_db": 2.41,
    "per_sensor": [_SENSOR],
}
_GAIN: dict[str, Any] = {
    "group": "kbm",
    "name": "Køge Bugt Motorvejen",
    "kind": "road",
    "sources": ["Køge Bugt Motorvejen (E20/E47/E55)"],
    "gain_db": 1.2,
    "fitted": True,
    "by_period": None,
}
_CONTRIBUTION: dict[str, Any] = {
    "group": "kbm",
    "name": "Køge Bugt Motorvejen",
    "kind": "road",
    "level_db": 61.6,
    "share": 0.87,
}
_NEARBY: dict[str, Any] = {**_SENSOR, "distance_m": 412.5}


class SensorAccuracyOut(Out):
    """One public sensor: what it measured, what the map says there, and the leave-one-out
    error (the map refitted without it, minus its measurement)."""

    model_config = with_example(**_SENSOR)

    id: str
    name: str
    measured_db: float | None = Field(
        description="The sensor's level of the period; null: "
        "too little data (under half the period measured)."
    )
    modelled_db: float | None = Field(description="The map at the sensor, fitted with it.")
    loo_error_db: float | None = Field(
        description="The map at the sensor fitted without it, minus measured_db (dB)."
    )


class AccuracyOut(Out):
    """Leave-one-sensor-out accuracy of the period over the public sensors with data."""

    model_config = with_example(**_ACCURACY)

    n: int = Field(description="Sensors with a leave-one-out error.")
    median_abs_db: float | None = Field(description="Median of |loo_error_db|; null if n = 0.")
    p90_abs_db: float | None = Field(description="90th percentile of |loo_error_db|.")
    per_sensor: list[SensorAccuracyOut]


class GainOut(Out):
    """One source group's fitted gain: how much louder (dB) the sensors make it than the
    unscaled model. For Lden the energy-weighted effect of the day, evening and night gains
    (each in ``by_period``)."""

    model_config = with_example(**_GAIN)

    group: str
    name: str
    kind: Literal["road", "rail"]
    sources: list[str] = Field(description="The names of the group's lines.")
    gain_db: float
    fitted: bool = Field(description="False: no sensor near enough; the unscaled model.")
    by_period: dict[str, float] | None = Field(
        description="Lden only: the gains of day, evening and night (dB)."
    )


_SURFACE: dict[str, Any] = {
    "period": "year",
    "indicator": "lden",
    "start": "2025-03-02T13:00:00Z",
    "end": "2026-03-02T13:00:00Z",
    "updated_at": "2026-03-02T13:05:12Z",
    "bounds": [[55.61055, 12.32234], [55.65545, 12.41766]],
    "image_url": "/api/v1/map/surface.png?period=year&v=3f2a9c0d11e4b7a8",
    "guideline_image_url": "/api/v1/map/surface.png?period=year&layer=guideline&v=0b1c2d3e4f506172",
    "bands": [{"label": "60-65", "low": 60.0, "high": 65.0, "colour": "#FD8D3C"}],
    "gains": [_GAIN],
    "background_db": 41.7,
    "uncertainty_db": 1.4,
    "guidelines_lden_db": {"road": 58.0, "rail": 64.0},
    "accuracy": _ACCURACY,
}


class SurfaceOut(Out):
    """The modelled surface of a period: where its image goes, what it was fitted to and how
    well it matches the sensors it was not fitted to."""

    model_config = with_example(**_SURFACE)

    period: Literal["now", "hour", "24h", "year"]
    indicator: Literal["laeq", "lden"]
    start: UtcTime
    end: UtcTime
    updated_at: UtcTime = Field(description="When this surface was computed.")
    bounds: tuple[tuple[float, float], tuple[float, float]] = Field(
        description="[[south, west], [north, east]] of the image (a Leaflet imageOverlay's "
        "bounds; rows are spaced evenly in Web Mercator, so the overlay is exact)."
    )
    image_url: str = Field(description="The band image (PNG), with a version token.")
    guideline_image_url: str | None = Field(
        description="Lden only: the 'above the guideline value' shading (PNG); null for LAeq."
    )
    bands: list[BandOut]
    gains: list[GainOut]
    background_db: float = Field(description="The fitted background term (dB).")
    uncertainty_db: float | None = Field(
        description="The '±' of an estimate: 68th percentile of |loo_error_db|; null with "
        "fewer than 3 sensors."
    )
    guidelines_lden_db: dict[str, float]
    accuracy: AccuracyOut


class ContributionOut(Out):
    """One part of the level at a point: a source group or the background."""

    model_config = with_example(**_CONTRIBUTION)

    group: str
    name: str = Field(description="For a group of several roads, the one nearest the point.")
    kind: Literal["road", "rail", "background"]
    level_db: float | None
    share: float = Field(description="Share of the sound energy there (0..1).")


class NearbySensorOut(SensorAccuracyOut):
    """A public sensor near the point."""

    model_config = with_example(**_NEARBY)

    distance_m: float


_ESTIMATE: dict[str, Any] = {
    "period": "year",
    "indicator": "lden",
    "lat": 55.63,
    "lon": 12.38,
    "level_db": 61.93,
    "uncertainty_db": 1.4,
    "contributions": [_CONTRIBUTION],
    "dominant": _CONTRIBUTION,
    "guideline_db": 58.0,
    "above_guideline": True,
    "nearest": [_NEARBY],
    "updated_at": "2026-03-02T13:05:12Z",
}


class EstimateOut(Out):
    """The modelled level at one point, its parts and the nearest public sensors."""

    model_config = with_example(**_ESTIMATE)

    period: Literal["now", "hour", "24h", "year"]
    indicator: Literal["laeq", "lden"]
    lat: float
    lon: float
    level_db: float
    uncertainty_db: float | None = Field(description="As the surface's; null: too few sensors.")
    contributions: list[ContributionOut]
    dominant: ContributionOut = Field(description="The source group with the largest share.")
    guideline_db: float | None = Field(
        description="Lden only: the guideline value of the dominant traffic type there "
        "(road 58 dB, rail 64 dB); null for LAeq."
    )
    above_guideline: bool | None
    nearest: list[NearbySensorOut]
    updated_at: UtcTime
