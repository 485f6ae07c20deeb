"""Request and response models of ``/api/v1/trials``.

Conventions as in :mod:`noiselab.api.schemas.base`: times RFC 3339 UTC with ``Z``, local dates ISO
(``2026-03-02``, Europe/Copenhagen), levels dB re 20 µPa rounded to 0.01 dB, coverage 0..1
rounded to 0.0001. Effects are ``(T_after - C_after) - (T_before - C_before)`` in dB: negative
means the treated site got quieter relative to the control; ``reduction_db = -effect_db``.
The flat row models (``DailyRowOut``, ``SummaryRowOut``, ``BandRowOut``) are for Grafana's
Infinity data source: arrays of rows with numeric fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from noiselab.analysis.trial import VerdictStatus
from noiselab.api.schemas.base import Out, UtcTime
from noiselab.api.schemas.corrections import CitedCorrectionOut
from noiselab.api.schemas.validity import SpanOut

__all__ = [
    "BandEffectOut",
    "BandRowOut",
    "DailyRowOut",
    "EffectOut",
    "EvaluationOut",
    "PhaseOut",
    "SummaryRowOut",
    "ThresholdsOut",
    "TrialIn",
    "TrialOut",
    "VerdictOut",
]

_TRIAL_EXAMPLE: dict[str, Any] = {
    "name": "Blade barrier, Holbækmotorvejen",
    "vendor": "acme",
    "description": "Recycled wind-turbine-blade barrier, 82 m x 2 m.",
    "treated": ["trial-blade-treated"],
    "control": ["trial-blade-control"],
    "before_start": "2026-02-08T23:00:00Z",
    "before_end": "2026-03-01T23:00:00Z",
    "after_start": "2026-03-01T23:00:00Z",
    "after_end": "2026-03-22T23:00:00Z",
    "hours": [],
}

_BAND_EXAMPLE: dict[str, Any] = {
    "band_hz": 1000.0,
    "effect_db": -7.02,
    "ci_low_db": -7.31,
    "ci_high_db": -6.74,
    "days_before": 21,
    "days_after": 21,
}
_PHASE_EXAMPLE: dict[str, Any] = {
    "treated_db": 68.41,
    "control_db": 68.38,
    "difference_db": 0.03,
    "matched_hours": 504,
    "selected_hours": 504,
    "coverage": 1.0,
    "complete_days": 21,
    "days_with_data": 21,
}
_VERDICT_TEXT = (
    "The treated site got quieter relative to the control: a reduction of 6.0 dB (95 % "
    "confidence interval +5.8 to +6.1 dB reduction). The interval excludes 0, so the reduction "
    "is statistically significant at the 95 % level."
)
_EVALUATION_EXAMPLE: dict[str, Any] = {
    "trial_id": "tr-3f9c1a7b2d4e",
    "zone": "Europe/Copenhagen",
    "hours": [],
    "effect": {
        "effect_db": -5.96,
        "reduction_db": 5.96,
        "ci_low_db": -6.08,
        "ci_high_db": -5.84,
        "confidence": 0.95,
        "n_boot": 2000,
        "delta_before_db": 0.03,
        "delta_after_db": -5.93,
        "days_before": 21,
        "days_after": 21,
    },
    "before": _PHASE_EXAMPLE | {"start": "2026-02-08T23:00:00Z", "end": "2026-03-01T23:00:00Z"},
    "after": _PHASE_EXAMPLE
    | {
        "start": "2026-03-01T23:00:00Z",
        "end": "2026-03-22T23:00:00Z",
        "treated_db": 62.52,
        "difference_db": -5.93,
    },
    "verdict": {"status": "reduction", "text": _VERDICT_TEXT},
    "thresholds": {
        "min_hour_coverage": 0.5,
        "min_day_fraction": 0.5,
        "min_days": 7,
        "min_phase_coverage": 0.5,
    },
    "daily": [
        {
            "t": "2026-02-08T23:00:00Z",
            "date": "2026-02-09",
            "phase": "before",
            "treated_db": 68.52,
            "control_db": 68.47,
            "difference_db": 0.05,
            "matched_hours": 24,
            "selected_hours": 24,
        }
    ],
    "bands": [_BAND_EXAMPLE],
    "bands_note": "BACI per third-octave band on hourly LZeq (unweighted), like the A-weighted "
    "effect.",
    "method": "Hourly LAeq,1h per sensor from the store; ...",
    "corrections": [],
    "corrections_note": "No corrections were applied: the evaluation uses the data as measured.",
}

SensorId = Annotated[str, Field(min_length=2, max_length=64, examples=["trial-blade-treated"])]
Hour = Annotated[int, Field(ge=0, le=23, strict=True)]


class TrialIn(BaseModel):
    """A trial to create or to replace. Periods are half-open ``[start, end)`` on whole hours,
    at most 366 days each; ``before`` ends no later than ``after`` starts. Treated and control
    sensors must be registered, non-empty and disjoint. ``hours``: local hours of day
    (Europe/Copenhagen) to evaluate, e.g. ``[22, 23, 0, 1, 2, 3, 4, 5, 6]`` for nights; empty
    for all."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_TRIAL_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    vendor: str = Field(
        min_length=1,
        max_length=200,
        description="The vendor: equals the `name` of its vendor API keys.",
    )
    description: str = Field(default="", max_length=10_000, description="The product.")
    treated: list[SensorId] = Field(min_length=1, max_length=20)
    control: list[SensorId] = Field(min_length=1, max_length=20)
    before_start: AwareDatetime
    before_end: AwareDatetime
    after_start: AwareDatetime
    after_end: AwareDatetime
    hours: list[Hour] = Field(default_factory=list, max_length=24)


class TrialOut(Out):
    """A stored trial."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                _TRIAL_EXAMPLE
                | {
                    "id": "tr-3f9c1a7b2d4e",
                    "created": "2026-02-01T09:30:00Z",
                    "updated": "2026-02-01T09:30:00Z",
                }
            ]
        },
    )

    id: str = Field(examples=["tr-3f9c1a7b2d4e"])
    name: str
    vendor: str
    description: str
    treated: list[str]
    control: list[str]
    before_start: UtcTime
    before_end: UtcTime
    after_start: UtcTime
    after_end: UtcTime
    hours: list[int] = Field(description="Local hours of day evaluated; empty: all.")
    created: UtcTime
    updated: UtcTime


class EffectOut(Out):
    """The BACI effect with its percentile bootstrap interval (days resampled per phase)."""

    effect_db: float = Field(examples=[-5.62], description="ΔL_after - ΔL_before, dB.")
    reduction_db: float = Field(examples=[5.62], description="-effect_db, dB.")
    ci_low_db: float = Field(examples=[-6.01], description="Lower bound of effect_db, dB.")
    ci_high_db: float = Field(examples=[-5.2], description="Upper bound of effect_db, dB.")
    confidence: float = Field(examples=[0.95])
    n_boot: int = Field(examples=[2000], description="Bootstrap resamples.")
    delta_before_db: float = Field(description="Treated - control before, dB.")
    delta_after_db: float = Field(description="Treated - control after, dB.")
    days_before: int = Field(description="Days with matched hours before (resampling units).")
    days_after: int = Field(description="Days with matched hours after.")


class PhaseOut(Out):
    """One period: energetic means over its matched hours (null without any) and coverage."""

    start: UtcTime
    end: UtcTime
    treated_db: float | None = Field(examples=[68.4], description="Treated LAeq, dB.")
    control_db: float | None = Field(examples=[68.9], description="Control LAeq, dB.")
    difference_db: float | None = Field(description="treated_db - control_db, dB.")
    matched_hours: int = Field(description="Selected hours measured at treated and control.")
    selected_hours: int = Field(description="Hours of the period in the selected hours of day.")
    coverage: float = Field(description="matched_hours / selected_hours.")
    complete_days: int = Field(description="Days with at least half their hours matched.")
    days_with_data: int = Field(description="Days with at least one matched hour.")


class DailyRowOut(Out):
    """One local date of a trial: energetic means over the day's matched hours."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "t": "2026-03-01T23:00:00Z",
                    "date": "2026-03-02",
                    "phase": "after",
                    "treated_db": 63.12,
                    "control_db": 68.75,
                    "difference_db": -5.63,
                    "matched_hours": 24,
                    "selected_hours": 24,
                }
            ]
        },
    )

    t: UtcTime = Field(description="Start of the local date (local midnight), in UTC.")
    date: str = Field(description="Local date (ISO).")
    phase: Literal["before", "after"]
    treated_db: float | None
    control_db: float | None
    difference_db: float | None = Field(description="treated_db - control_db, dB.")
    matched_hours: int
    selected_hours: int


class BandEffectOut(Out):
    """BACI effect in one third-octave band (LZeq); null when the band lacks data."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [_BAND_EXAMPLE]}
    )

    band_hz: float = Field(examples=[1000.0], description="Nominal band centre, Hz.")
    effect_db: float | None = Field(examples=[-7.0])
    ci_low_db: float | None
    ci_high_db: float | None
    days_before: int
    days_after: int


BandRowOut = BandEffectOut
"""The rows of ``/bands`` are the band effects themselves (already flat)."""


class VerdictOut(Out):
    """The outcome: ``insufficient_data``, ``reduction``, ``increase`` (both significant: the
    interval excludes 0) or ``no_significant_change``, and a sentence saying it."""

    status: VerdictStatus
    text: str = Field(
        examples=[
            "The treated site got quieter relative to the control: a reduction of 5.6 dB "
            "(95 % confidence interval +5.2 to +6.0 dB reduction). The interval excludes 0, "
            "so the reduction is statistically significant at the 95 % level."
        ]
    )


class ThresholdsOut(Out):
    """The data requirements of a verdict (see docs/trials.md)."""

    min_hour_coverage: float = Field(description="Share of an hour a sensor must measure.")
    min_day_fraction: float = Field(description="Share of a day's hours for a complete day.")
    min_days: int = Field(description="Complete days each period needs.")
    min_phase_coverage: float = Field(description="Share of a period's hours matched.")


class EvaluationOut(Out):
    """The BACI evaluation of a trial."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"examples": [_EVALUATION_EXAMPLE]}
    )

    trial_id: str = Field(examples=["tr-3f9c1a7b2d4e"])
    zone: str = Field(examples=["Europe/Copenhagen"])
    hours: list[int] = Field(description="Local hours of day evaluated; empty: all.")
    effect: EffectOut | None = Field(
        description="Null when a period has fewer than 2 days with matched hours."
    )
    before: PhaseOut
    after: PhaseOut
    verdict: VerdictOut
    thresholds: ThresholdsOut
    daily: list[DailyRowOut]
    bands: list[BandEffectOut] = Field(description="Per-band effects; empty without spectra.")
    bands_note: str
    method: str
    corrections: list[CitedCorrectionOut] = Field(
        description="Staff corrections overlapping the trial's sensors and periods, oldest "
        "first: the active ones were applied, withdrawn ones are listed as such."
    )
    corrections_note: str = Field(description="Which corrections were applied, in words.")
    excluded_s: dict[str, float] = Field(
        default_factory=dict,
        description="Measured seconds of the trial's sensors and periods left out, by cause: "
        "weather (outside ISO 1996-2 conditions), annotation, correction.",
    )
    calibration_uncertain: list[SpanOut] = Field(
        default_factory=list,
        description="Spans of the trial's sensors and periods between two calibrations that "
        "drifted more than 0.5 dB apart.",
    )
    weather: Literal["exclude", "include"] = Field(
        default="exclude",
        description="exclude: data measured outside the weather conditions of ISO 1996-2 was "
        "left out (the default); include: it was kept (weather=include).",
    )


class SummaryRowOut(Out):
    """The evaluation as one flat row (Grafana Infinity, tables)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "trial_id": "tr-3f9c1a7b2d4e",
                    "name": "Blade barrier, Holbækmotorvejen",
                    "vendor": "acme",
                    "status": "reduction",
                    "effect_db": -5.62,
                    "reduction_db": 5.62,
                    "ci_low_db": -6.01,
                    "ci_high_db": -5.2,
                    "treated_before_db": 68.4,
                    "control_before_db": 68.9,
                    "treated_after_db": 63.1,
                    "control_after_db": 69.2,
                    "coverage_before": 0.99,
                    "coverage_after": 1.0,
                    "complete_days_before": 21,
                    "complete_days_after": 21,
                    "corrections_applied": 0,
                    "verdict": "The treated site got quieter relative to the control: ...",
                }
            ]
        },
    )

    trial_id: str
    name: str
    vendor: str
    status: VerdictStatus
    effect_db: float | None
    reduction_db: float | None
    ci_low_db: float | None
    ci_high_db: float | None
    treated_before_db: float | None
    control_before_db: float | None
    treated_after_db: float | None
    control_after_db: float | None
    coverage_before: float
    coverage_after: float
    complete_days_before: int
    complete_days_after: int
    corrections_applied: int = Field(description="Active staff corrections applied.")
    verdict: str
