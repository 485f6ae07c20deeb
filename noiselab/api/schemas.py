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
from noiselab.model import SensorSource

__all__ = [
    "DayIndicatorsOut",
    "ErrorOut",
    "EventOut",
    "EventsOut",
    "GuidelineOut",
    "HealthOut",
    "IndicatorsOut",
    "KeyCreatedOut",
    "KeyIn",
    "KeyOut",
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


def _example(**example: Any) -> ConfigDict:
    """The config of a response model with one whole example (shown in OpenAPI)."""
    return ConfigDict(frozen=True, extra="forbid", json_schema_extra={"examples": [example]})


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
}
_COVERAGE_EXAMPLE: dict[str, Any] = {"day": 1.0, "evening": 1.0, "night": 0.9986}
_DAY_EXAMPLE: dict[str, Any] = {
    "date": "2026-11-24",
    "t": "2026-11-23T23:00:00Z",
    "lday": 66.81,
    "levening": 64.02,
    "lnight": 58.77,
    "lden": 67.6,
    "ldn": 67.05,
    "laeq24": 64.94,
    "coverage": _COVERAGE_EXAMPLE,
    "coverage_day": 1.0,
    "coverage_evening": 1.0,
    "coverage_night": 0.9986,
}
_GUIDELINE_EXAMPLE: dict[str, Any] = {
    "lden_mean": 67.41,
    "days_with_lden": 7,
    "lden_db": 58.0,
    "above": True,
    "margin_db": 9.41,
    "strongly_affected": False,
    "label_en": "above the guideline value",
    "label_da": "over vejledende grænseværdi",
    "note": "Guideline values (Miljøstyrelsen) refer to the yearly average Lden and are not "
    "binding limits; over a shorter range the energetic mean of the daily Lden is an indication.",
}
_EVENT_EXAMPLE: dict[str, Any] = {
    "start": "2026-11-25T07:41:12Z",
    "end": "2026-11-25T07:41:31Z",
    "duration_s": 19.0,
    "lmax": 84.3,
    "lmax_is_fast": True,
    "sel": 89.62,
    "leq": 76.83,
    "background": 58.1,
    "threshold": 68.1,
    "duration_10db": 11.0,
}
_KEY_EXAMPLE: dict[str, Any] = {
    "id": "3f9c1a7b2d4e6f80",
    "name": "acme",
    "role": "vendor",
    "sensors": ["vb-acme-1"],
    "created": "2026-11-20T09:12:03Z",
    "revoked_at": None,
    "last_used": "2026-11-25T14:58:10Z",
}


class SensorOut(_Out):
    """A sensor as the public sees it."""

    model_config = _example(**_SENSOR_EXAMPLE)

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

    model_config = _example(
        **_SENSOR_EXAMPLE, description="25 m north-west of the nearest carriageway edge."
    )

    description: str


class LevelPointOut(_Out):
    """One bucket: energetic mean, maximum and exceedance levels over its measured seconds.

    Levels are rounded to 0.01 dB, coverage to 0.0001.
    """

    model_config = _example(**_POINT_EXAMPLE)

    t: UtcTime = Field(description="Bucket start.")
    laeq: float = Field(description="LAeq, energetic mean over the measured seconds, dB.")
    lafmax: float | None = Field(description="Highest LAFmax reported, dB; null: none.")
    l10: float | None = Field(
        description="Level exceeded 10 % of the measured time, dB; null when the bucket holds "
        "readings longer than 1 s (see `notes`)."
    )
    l50: float | None = Field(description="Level exceeded 50 % of the measured time, dB; or null.")
    l90: float | None = Field(description="Level exceeded 90 % of the measured time, dB; or null.")
    coverage: float = Field(description="Measured seconds over the bucket's real length.")


PERCENTILES_NOTE = (
    "l10, l50 and l90 are null where a bucket holds readings longer than 1 s: exceedance levels "
    "describe the distribution of short-term levels, which an interval average (e.g. a "
    "Sensor.Community DNMS LAeq over about 145 s, or a 1-minute LAeq) does not reveal, so they "
    "cannot be computed from it."
)


class LevelsOut(_Out):
    """Levels of one sensor over ``[start, end)``; buckets without data are omitted."""

    model_config = _example(
        sensor_id="vb-road-1",
        every="1h",
        start="2026-11-25T14:00:00Z",
        end="2026-11-25T15:00:00Z",
        points=[_POINT_EXAMPLE],
        notes=[],
    )

    sensor_id: str
    every: Every
    start: UtcTime
    end: UtcTime
    points: list[LevelPointOut]
    notes: list[str] = Field(
        description="Why values are missing, e.g. why L10/L50/L90 are null for some buckets."
    )


class HealthOut(_Out):
    """The service and the databases behind it answer."""

    model_config = _example(status="ok")

    status: Literal["ok"]


class ErrorOut(_Out):
    """An error a person can read (validation errors also carry FastAPI's list)."""

    model_config = _example(detail="unknown sensor 'vb-nope'")

    detail: str = Field(examples=["every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors only: each with loc, msg and type."
    )


class PeriodCoverageOut(_Out):
    """Measured seconds over the real length of each period (0..1)."""

    model_config = _example(**_COVERAGE_EXAMPLE)

    day: float
    evening: float
    night: float


class GuidelineOut(_Out):
    """The range's energetic mean of the daily Lden against the Danish guideline value for
    dwellings of the sensor's source (road: Lden 58 dB, Miljøstyrelsen guideline 4/2007; rail:
    Lden 64 dB, addendum 2007 to guideline 1/1997). Guideline values refer to the yearly
    average and are not binding limits."""

    model_config = _example(**_GUIDELINE_EXAMPLE)

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
    """The day-evening-night indicators of one local date; a period without data is null.

    Coverage is given twice: nested (``coverage``) and flat (``coverage_day`` ...), so the
    rows are flat for table parsers (Grafana Infinity) without breaking older clients.
    """

    model_config = _example(**_DAY_EXAMPLE)

    date: str = Field(description="Local date D (the night starting 22:00 on D belongs to D).")
    t: UtcTime = Field(description="Start of the local date D (local midnight), in UTC.")
    lday: float | None = Field(description="LAeq over the day period, dB.")
    levening: float | None = Field(description="LAeq over the evening period, dB.")
    lnight: float | None = Field(description="LAeq over the night period, dB.")
    lden: float | None = Field(description="Lden (EU 2002/49/EC Annex I, Danish periods), dB.")
    ldn: float | None = Field(description="Ldn: day+evening as day, night +10 dB, dB.")
    laeq24: float | None = Field(description="LAeq over the local calendar day, dB.")
    coverage: PeriodCoverageOut
    coverage_day: float = Field(description="Same as coverage.day.")
    coverage_evening: float = Field(description="Same as coverage.evening.")
    coverage_night: float = Field(description="Same as coverage.night.")


class IndicatorsOut(_Out):
    """Daily indicators of one sensor for the local dates in ``[start, end)``."""

    model_config = _example(
        sensor_id="vb-road-1",
        start="2026-11-24",
        end="2026-11-25",
        zone="Europe/Copenhagen",
        periods={"day": "07-19", "evening": "19-22", "night": "22-07", "weights": "12/3/9"},
        guideline=_GUIDELINE_EXAMPLE,
        days=[_DAY_EXAMPLE],
    )

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

    model_config = _example(**_EVENT_EXAMPLE)

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

    model_config = _example(
        sensor_id="vb-rail-1",
        start="2026-11-25T07:00:00Z",
        end="2026-11-25T08:00:00Z",
        method="runs of LAeq above the running background (L90 over the trailing 10 minutes) "
        "+ 10 dB lasting at least 3 s, runs less than 2 s apart merged; SEL and LAeq over the "
        "run; 10-dB-down duration around the peak",
        events=[_EVENT_EXAMPLE],
    )

    sensor_id: str
    start: UtcTime
    end: UtcTime
    method: str
    events: list[EventOut]


class KeyOut(_Out):
    """An API key as listed: never its secret (only a salted hash of it is stored)."""

    model_config = _example(**_KEY_EXAMPLE)

    id: str = Field(examples=["3f9c1a7b2d4e6f80"])
    name: str = Field(examples=["acme"])
    role: Literal["vendor", "staff", "admin", "sensor"]
    sensors: list[str] = Field(
        description="Vendor keys: the private sensors they may see; sensor keys: the sensors "
        "they may push readings for."
    )
    created: AwareDatetime
    revoked_at: AwareDatetime | None
    last_used: AwareDatetime | None


class KeyCreatedOut(KeyOut):
    """A new key; ``key`` is shown this once and cannot be retrieved again."""

    model_config = _example(
        **{**_KEY_EXAMPLE, "last_used": None},
        key="nl_3f9c1a7b2d4e6f80_q3Jt0WlN4xS9v8HcE2pYzR7uKbA1mD5gF6hX0iLoTnU",
    )

    key: str = Field(description="The full key to send as `Authorization: Bearer KEY`.")


class KeyIn(BaseModel):
    """A key to create: vendor keys may name the sensors they may see besides public ones;
    sensor keys must name the sensors they may push readings for."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "acme", "role": "vendor", "sensors": ["vb-acme-1"]}]
        },
    )

    name: str = Field(min_length=1, max_length=200, examples=["acme"])
    role: Literal["vendor", "staff", "admin", "sensor"]
    sensors: list[str] = Field(default_factory=list, max_length=1000, examples=[["vb-road-1"]])


class PushOut(_Out):
    """What a push stored: readings written (a re-sent one counts again, it changes nothing)
    and readings quarantined, with the reasons."""

    model_config = _example(sensor_id="esp8266-12345678", stored=1, quarantined=0, reasons=[])

    sensor_id: str
    stored: int = Field(description="Readings durably stored (or already stored identically).")
    quarantined: int = Field(description="Readings refused and kept in quarantine.")
    reasons: list[str] = Field(description="Why each quarantined reading was refused.")
