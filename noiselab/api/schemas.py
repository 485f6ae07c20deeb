"""Response models of the HTTP API.

Conventions: times are RFC 3339 in UTC with ``Z``; levels are dB re 20 µPa, A-weighted,
rounded to 0.01 dB; ``coverage`` is measured seconds over bucket seconds (0..1), rounded to
0.0001.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.analysis.buckets import Every
from noiselab.store.metadata import SensorSource

__all__ = [
    "ErrorOut",
    "HealthOut",
    "LevelPointOut",
    "LevelsOut",
    "SensorDetail",
    "SensorOut",
    "SensorStatus",
    "UtcTime",
]

SensorStatus = Literal["online", "stale", "offline"]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware instant, converted to UTC (serialised with ``Z``)."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SensorOut(_Out):
    """A sensor as the public sees it."""

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

    description: str


class LevelPointOut(_Out):
    """One bucket: energetic mean, maximum and exceedance levels over its measured seconds.

    Levels are rounded to 0.01 dB, coverage to 0.0001.
    """

    t: UtcTime = Field(description="Bucket start.")
    laeq: float = Field(description="LAeq, energetic mean over the measured seconds, dB.")
    lafmax: float | None = Field(description="Highest LAFmax reported, dB; null: none.")
    l10: float = Field(description="Level exceeded 10 % of the measured time, dB.")
    l50: float = Field(description="Level exceeded 50 % of the measured time, dB.")
    l90: float = Field(description="Level exceeded 90 % of the measured time, dB.")
    coverage: float = Field(description="Measured seconds over the bucket's real length.")


class LevelsOut(_Out):
    """Levels of one sensor over ``[start, end)``; buckets without data are omitted."""

    sensor_id: str
    every: Every
    start: UtcTime
    end: UtcTime
    points: list[LevelPointOut]


class HealthOut(_Out):
    """The service and the databases behind it answer."""

    status: Literal["ok"]


class ErrorOut(_Out):
    """An error a person can read (validation errors also carry FastAPI's list)."""

    detail: str = Field(examples=["every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors only: each with loc, msg and type."
    )
