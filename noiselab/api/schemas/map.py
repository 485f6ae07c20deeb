"""Response models of the public map (``/api/v1/map*``), for OpenAPI.

The routes send pre-encoded bytes (see :mod:`noiselab.api.routes.public_map`); these models
document the shapes and the tests check the bodies against them. Levels are dB re 20 µPa,
A-weighted, energetic means rounded to 0.01 dB; ``null`` where there is no data. Coverages are
measured seconds over the window's seconds (0..1, rounded to 0.0001).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import ConfigDict, Field

from noiselab.api.schemas.base import Out, UtcTime
from noiselab.api.schemas.sensors import SensorStatus
from noiselab.model import SensorSource

__all__ = [
    "BandOut",
    "MapConfigOut",
    "MapFeatureOut",
    "MapOut",
    "MapPropertiesOut",
    "MapRowOut",
    "PointOut",
]

_PROPERTIES_EXAMPLE: dict[str, Any] = {
    "id": "kbm-25m",
    "name": "Køge Bugt Motorvejen, 25 m",
    "source": "road",
    "status": "online",
    "last_seen": "2026-03-02T12:59:59Z",
    "laeq_15min": 71.23,
    "coverage_15min": 1.0,
    "laeq_1h": 71.87,
    "coverage_1h": 0.9983,
    "lden_yesterday": 76.41,
    "lden_date": "2026-03-01",
    "coverage_lden": 1.0,
    "band": "70-75",
    "colour": "#B30622",
    "guideline_lden_db": 58.0,
}
_POINT_EXAMPLE: dict[str, Any] = {"type": "Point", "coordinates": [12.38674, 55.62667]}
_FEATURE_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "id": "kbm-25m",
    "geometry": _POINT_EXAMPLE,
    "properties": _PROPERTIES_EXAMPLE,
}
_BAND_EXAMPLE: dict[str, Any] = {"label": "60-65", "low": 60.0, "high": 65.0, "colour": "#FD8D3C"}
_CONFIG_EXAMPLE: dict[str, Any] = {
    "tile_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "tile_attribution": "© OpenStreetMap contributors",
    "tile_attribution_url": "https://www.openstreetmap.org/copyright",
    "refresh_s": 60.0,
    "zone": "Europe/Copenhagen",
    "centre": [55.636, 12.375],
    "zoom": 13,
    "bands": [
        {"label": "<35", "low": None, "high": 35.0, "colour": "#FFFFFF"},
        _BAND_EXAMPLE,
        {"label": ">=80", "low": 80.0, "high": None, "colour": "#1C0054"},
    ],
    "no_data_colour": "#9E9E9E",
    "guidelines_lden_db": {"road": 58.0, "rail": 64.0},
    "strongly_affected_lden_db": 68.0,
    "periods": {"day": "07-19", "evening": "19-22", "night": "22-07"},
    "report_area": [[55.61055, 12.32234], [55.65545, 12.41766]],
}


class MapPropertiesOut(Out):
    """What the map knows about one sensor."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PROPERTIES_EXAMPLE]})

    id: str
    name: str
    source: SensorSource | None = Field(description="road, rail or background; null: unknown.")
    status: SensorStatus = Field(description="online, stale or offline (as /api/v1/sensors).")
    last_seen: UtcTime | None = Field(description="End of the latest reading; null: never.")
    laeq_15min: float | None = Field(
        description="LAeq over the last 15 whole minutes before now, dB (the marker's colour)."
    )
    coverage_15min: float = Field(description="Measured seconds of those 15 minutes (0..1).")
    laeq_1h: float | None = Field(description="LAeq over the last 60 whole minutes, dB.")
    coverage_1h: float = Field(description="Measured seconds of those 60 minutes (0..1).")
    lden_yesterday: float | None = Field(
        description="Lden of `lden_date`, the last local date whose night has ended (Danish "
        "periods 07-19, 19-22 +5 dB, 22-07 +10 dB, weights 12/3/9 h), dB; null unless day, "
        "evening and night all have data."
    )
    lden_date: date = Field(description="The local date (Europe/Copenhagen) of lden_yesterday.")
    coverage_lden: float = Field(
        description="The least-covered period of that date: min(day, evening, night) (0..1)."
    )
    band: str | None = Field(
        description="5 dB class of laeq_15min, e.g. 60-65 for 60.00 <= L < 65.00; null: no data."
    )
    colour: str = Field(description="The class's colour (hex); grey #9E9E9E without data.")
    guideline_lden_db: float | None = Field(
        description="Danish guideline value for the source at dwellings (road Lden 58 dB, "
        "rail Lden 64 dB; Miljøstyrelsen), not a binding limit; null for background."
    )


class PointOut(Out):
    """A GeoJSON Point: ``[longitude, latitude]`` in WGS 84 decimal degrees (RFC 7946)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_POINT_EXAMPLE]})

    type: Literal["Point"]
    coordinates: tuple[float, float]


class MapFeatureOut(Out):
    """One sensor as a GeoJSON Feature; ``geometry`` is null for a sensor without a position."""

    model_config = ConfigDict(json_schema_extra={"examples": [_FEATURE_EXAMPLE]})

    type: Literal["Feature"]
    id: str
    geometry: PointOut | None
    properties: MapPropertiesOut


class MapOut(Out):
    """A GeoJSON FeatureCollection (RFC 7946) of the sensors the caller may see."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "generated": "2026-03-02T13:00:00Z",
                    "features": [_FEATURE_EXAMPLE],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"]
    generated: UtcTime = Field(description="When the values were computed (cached briefly).")
    features: list[MapFeatureOut]


class MapRowOut(MapPropertiesOut):
    """One sensor as a flat row (for Grafana's Infinity data source): the feature's
    properties with ``lat`` and ``lon`` (null without a position)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_PROPERTIES_EXAMPLE, "lat": 55.62667, "lon": 12.38674}]}
    )

    lat: float | None
    lon: float | None


class BandOut(Out):
    """One colour class: levels in ``[low, high)`` dB (null: unbounded)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_BAND_EXAMPLE]})

    label: str = Field(examples=["60-65"])
    low: float | None
    high: float | None
    colour: str = Field(examples=["#FD8D3C"])


class MapConfigOut(Out):
    """What the map page needs to know: tiles, refresh, classes, guideline values."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CONFIG_EXAMPLE]})

    tile_url: str = Field(description="Leaflet tile URL template; empty: no tiles.")
    tile_attribution: str = Field(description="Plain text crediting the tiles.")
    tile_attribution_url: str
    refresh_s: float = Field(description="Seconds between reloads of the map's data.")
    zone: str = Field(examples=["Europe/Copenhagen"])
    centre: tuple[float, float] = Field(description="[latitude, longitude] of the start view.")
    zoom: int
    bands: list[BandOut]
    no_data_colour: str
    guidelines_lden_db: dict[str, float] = Field(
        examples=[{"road": 58.0, "rail": 64.0}],
        description="Guideline Lden at dwellings per source (Miljøstyrelsen).",
    )
    strongly_affected_lden_db: float = Field(
        description='Road traffic Lden above which a dwelling is "stærkt støjbelastet".'
    )
    periods: dict[str, str] = Field(examples=[{"day": "07-19", "evening": "19-22"}])
    report_area: tuple[tuple[float, float], tuple[float, float]] = Field(
        description="[[south, west], [north, east]] (degrees): where a citizen's noise report "
        "may be placed (POST /api/v1/citizen-reports)."
    )
