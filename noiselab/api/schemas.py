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
    "DayIndicatorsOut",
    "ErrorOut",
    "EventOut",
    "EventsOut",
    "GuidelineOut",
    "HealthOut",
    "IndicatorsOut",
    "LevelPointOut",
    "LevelsOut",
    "PeriodCoverageOut",
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


class PeriodCoverageOut(_Out):
    """Measured seconds over the real length of each period (0..1)."""

    day: float
    evening: float
    night: float


class GuidelineOut(_Out):
    """The range's energetic mean of the daily Lden against the Danish guideline value for
    dwellings of the sensor's source (road: Lden 58 dB, Miljøstyrelsen guideline 4/2007; rail:
    Lden 64 dB, addendum 2007 to guideline 1/1997). Guideline values refer to the yearly
    average and are not binding limits."""

    lden_mean: float | None = Field(description="Energetic mean of the daily Lden, dB.")
    days_with_lden: int = Field(description="Dates whose Lden entered the mean.")
    lden_db: float = Field(description="The guideline value, dB.")
    above: bool | None = Field(description="Mean above the guideline value; null: no Lden.")
    margin_db: float | None = Field(description="Mean Lden minus the guideline value, dB.")
    strongly_affected: bool | None = Field(
        description="Road: Lden above 68 dB ('stærkt støjbelastet'); null where not defined."
    )
    label_en: str
    label_da: str
    note: str


class DayIndicatorsOut(_Out):
    """The day-evening-night indicators of one local date; a period without data is null."""

    date: str = Field(description="Local date D (the night starting 22:00 on D belongs to D).")
    lday: float | None = Field(description="LAeq over the day period, dB.")
    levening: float | None = Field(description="LAeq over the evening period, dB.")
    lnight: float | None = Field(description="LAeq over the night period, dB.")
    lden: float | None = Field(description="Lden (EU 2002/49/EC Annex I, Danish periods), dB.")
    ldn: float | None = Field(description="Ldn: day+evening as day, night +10 dB, dB.")
    laeq24: float | None = Field(description="LAeq over the local calendar day, dB.")
    coverage: PeriodCoverageOut


class IndicatorsOut(_Out):
    """Daily indicators of one sensor for the local dates in ``[start, end)``."""

    sensor_id: str
    start: str = Field(description="First local date (inclusive).")
    end: str = Field(description="Last local date (exclusive).")
    zone: str = Field(examples=["Europe/Copenhagen"])
    periods: dict[str, str] = Field(
        description="Local hours of each period and the Lden weights (hours)."
    )
    guideline: GuidelineOut | None = Field(
        description="The range against the guideline of the sensor's source; null for "
        "background sensors."
    )
    days: list[DayIndicatorsOut]


class EventOut(_Out):
    """One pass-by event."""

    start: UtcTime
    end: UtcTime
    duration_s: float = Field(description="Time above the detection threshold, s.")
    lmax: float = Field(description="LAFmax when reported, else the highest LAeq,1s, dB.")
    lmax_is_fast: bool = Field(description="True when lmax is an LAFmax.")
    sel: float = Field(description="Sound exposure level LAE over the event, dB.")
    leq: float = Field(description="LAeq over the event, dB.")
    background: float = Field(description="Running background level used, dB.")
    threshold: float = Field(description="Detection threshold used, dB.")
    duration_10db: float | None = Field(
        description="10-dB-down duration around the peak, s; null when the peak is less than "
        "10 dB above the background."
    )


class EventsOut(_Out):
    """Pass-by events of one sensor starting in ``[start, end)``."""

    sensor_id: str
    start: UtcTime
    end: UtcTime
    method: str
    events: list[EventOut]


class KeyOut(_Out):
    """An API key as listed: never its secret (only a salted hash of it is stored)."""

    id: str = Field(examples=["3f9c1a7b2d4e6f80"])
    name: str = Field(examples=["acme"])
    role: Literal["vendor", "staff", "admin"]
    sensors: list[str] = Field(description="Vendor keys: the private sensors they may see.")
    created: AwareDatetime
    revoked_at: AwareDatetime | None
    last_used: AwareDatetime | None


class KeyCreatedOut(KeyOut):
    """A new key; ``key`` is shown this once and cannot be retrieved again."""

    key: str = Field(description="The full key to send as `Authorization: Bearer KEY`.")


class KeyIn(BaseModel):
    """A key to create: vendor keys may name the sensors they may see besides public ones."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["acme"])
    role: Literal["vendor", "staff", "admin"]
    sensors: list[str] = Field(default_factory=list, max_length=1000, examples=[["vb-road-1"]])
