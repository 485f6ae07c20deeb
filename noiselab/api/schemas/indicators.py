"""Response models of ``/api/v1/sensors/{id}/indicators``: Lday, Levening, Lnight, Lden per
local date, and the range against the Danish guideline value.

Levels are dB re 20 µPa, A-weighted, rounded to 0.01 dB; coverages are measured seconds over
the period's real length (0..1), rounded to 0.0001.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from noiselab.api.schemas.base import Out, UtcTime, with_example
from noiselab.api.schemas.validity import SpanOut

__all__ = ["DayIndicatorsOut", "GuidelineOut", "IndicatorsOut", "PeriodCoverageOut"]

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


class PeriodCoverageOut(Out):
    """Measured seconds over the real length of each period (0..1)."""

    model_config = with_example(**_COVERAGE_EXAMPLE)

    day: float
    evening: float
    night: float


class GuidelineOut(Out):
    """The range's energetic mean of the daily Lden against the Danish guideline value for
    dwellings of the sensor's source (road: Lden 58 dB, Miljøstyrelsen guideline 4/2007; rail:
    Lden 64 dB, addendum 2007 to guideline 1/1997). Guideline values refer to the yearly
    average and are not binding limits."""

    model_config = with_example(**_GUIDELINE_EXAMPLE)

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


class DayIndicatorsOut(Out):
    """The day-evening-night indicators of one local date; a period without data is null.

    Coverage is given twice: nested (``coverage``) and flat (``coverage_day`` ...), so the
    rows are flat for table parsers (Grafana Infinity) without breaking older clients.
    """

    model_config = with_example(**_DAY_EXAMPLE)

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
    excluded_s: dict[str, float] = Field(
        default_factory=dict,
        description="Measured seconds of the date's day, evening and night left out, by cause: "
        "weather (outside ISO 1996-2 conditions), annotation (a staff annotation that "
        "excludes), correction (a staff correction).",
    )
    excluded_weather_s: float = Field(0.0, description="Same as excluded_s.weather.")


class IndicatorsOut(Out):
    """Daily indicators of one sensor for the local dates in ``[start, end)``."""

    model_config = with_example(
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
    weather: str = Field(
        "exclude",
        description="exclude: data measured in wind above 5 m/s at the microphone or in rain "
        "is left out (ISO 1996-2, the default); include: kept.",
    )
    excluded_s: dict[str, float] = Field(
        default_factory=dict, description="Measured seconds left out over the range, by cause."
    )
    exclusions: list[SpanOut] = Field(
        default_factory=list,
        description="The staff annotations that left data out of the range (weather spans are "
        "counted in excluded_s, not listed; corrections are at /api/v1/corrections).",
    )
    calibration_uncertain: list[SpanOut] = Field(
        default_factory=list,
        description="Spans of the range between two calibrations that drifted more than "
        "0.5 dB apart: the levels there are calibration uncertain.",
    )
