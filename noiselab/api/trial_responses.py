"""The response models of a trial and of its evaluation, built from the trial service's results
(:mod:`noiselab.trials`): levels and effects in dB rounded to 0.01 dB, coverage (0..1) to
0.0001, times aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec

from noiselab.analysis.decibels import round_db, round_db_or_none
from noiselab.analysis.trial import (
    MIN_DAY_FRACTION,
    MIN_DAYS,
    MIN_HOUR_COVERAGE,
    MIN_PHASE_COVERAGE,
    BandEffect,
    DayValues,
    PhaseSummary,
)
from noiselab.api.schemas.corrections import CitedCorrectionOut
from noiselab.api.schemas.trials import (
    BandEffectOut,
    DailyRowOut,
    EffectOut,
    EvaluationOut,
    PhaseOut,
    SummaryRowOut,
    ThresholdsOut,
    TrialOut,
    VerdictOut,
)
from noiselab.api.schemas.validity import SpanOut
from noiselab.model import utc
from noiselab.store.metadata import Correction, Trial
from noiselab.trials.citations import corrections_note
from noiselab.trials.evaluation import TrialResult, day_date

__all__ = [
    "METHOD",
    "band_out",
    "cited_out",
    "daily_row",
    "evaluation_out",
    "summary_row",
    "trial_out",
]

METHOD = (
    "Hourly LAeq,1h per sensor from the store; several treated (or control) sensors combined "
    "per hour as the energetic mean of the sensors, in hours every sensor of the group "
    "measured at least half of; matched hours (treated and control both present, in the "
    "selected local hours of day) weighted by the smaller coverage."
)
"""How the evaluation reads the store; ``evaluation_out`` appends the BACI result's own method."""


def trial_out(trial: Trial) -> TrialOut:
    """A stored trial as the API shows it (times aware UTC, sequences as lists)."""
    return TrialOut(
        id=trial.id,
        name=trial.name,
        vendor=trial.vendor,
        description=trial.description,
        treated=list(trial.treated),
        control=list(trial.control),
        before_start=trial.before_start,
        before_end=trial.before_end,
        after_start=trial.after_start,
        after_end=trial.after_end,
        hours=list(trial.hours),
        created=trial.created,
        updated=trial.updated,
    )


def cited_out(correction: Correction) -> CitedCorrectionOut:
    """A correction as a trial's answers cite it (without the ids of the keys involved)."""
    fields = msgspec.structs.asdict(correction)
    del fields["created_by_key"], fields["withdrawn_by_key"]
    return CitedCorrectionOut(**fields, active=correction.active)


def daily_row(day: DayValues, zone: ZoneInfo | str) -> DailyRowOut:
    """One local date of a period as a flat row; ``t`` is the date's local midnight in
    ``zone`` (a ``ZoneInfo`` or its key)."""
    date = day_date(day.day)
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return DailyRowOut(
        t=datetime(date.year, date.month, date.day, tzinfo=tz).astimezone(UTC),
        date=date.isoformat(),
        phase=day.phase,
        treated_db=round_db_or_none(day.treated_db),
        control_db=round_db_or_none(day.control_db),
        difference_db=round_db_or_none(day.difference_db),
        matched_hours=day.matched_hours,
        selected_hours=day.selected_hours,
    )


def band_out(band: BandEffect) -> BandEffectOut:
    """One third-octave band's effect (dB to 0.01)."""
    return BandEffectOut(
        band_hz=band.band_hz,
        effect_db=round_db_or_none(band.effect_db),
        ci_low_db=round_db_or_none(band.ci_low),
        ci_high_db=round_db_or_none(band.ci_high),
        days_before=band.days_before,
        days_after=band.days_after,
    )


def _phase_out(phase: PhaseSummary, start: datetime, end: datetime) -> PhaseOut:
    return PhaseOut(
        start=start,
        end=end,
        treated_db=round_db_or_none(phase.treated_db),
        control_db=round_db_or_none(phase.control_db),
        difference_db=round_db_or_none(phase.difference_db),
        matched_hours=phase.matched_hours,
        selected_hours=phase.selected_hours,
        coverage=round(phase.coverage, 4),
        complete_days=phase.complete_days,
        days_with_data=phase.days_with_data,
    )


def evaluation_out(result: TrialResult, zone: str) -> EvaluationOut:
    """The JSON model of an evaluation (dB to 0.01, coverage to 0.0001)."""
    trial, ev, r = result.trial, result.evaluation, result.evaluation.baci
    effect = None
    if r is not None:
        effect = EffectOut(
            effect_db=round_db(r.effect_db),
            reduction_db=round_db(r.reduction_db),
            ci_low_db=round_db(r.ci_low),
            ci_high_db=round_db(r.ci_high),
            confidence=r.confidence,
            n_boot=r.n_boot,
            delta_before_db=round_db(r.delta_before),
            delta_after_db=round_db(r.delta_after),
            days_before=r.days_before,
            days_after=r.days_after,
        )
    return EvaluationOut(
        trial_id=trial.id,
        zone=zone,
        hours=list(trial.hours),
        effect=effect,
        before=_phase_out(ev.before, trial.before_start, trial.before_end),
        after=_phase_out(ev.after, trial.after_start, trial.after_end),
        verdict=VerdictOut(status=ev.verdict.status, text=ev.verdict.text),
        thresholds=ThresholdsOut(
            min_hour_coverage=MIN_HOUR_COVERAGE,
            min_day_fraction=MIN_DAY_FRACTION,
            min_days=MIN_DAYS,
            min_phase_coverage=MIN_PHASE_COVERAGE,
        ),
        daily=[daily_row(day, zone) for day in ev.daily],
        bands=[band_out(band) for band in result.bands],
        bands_note=result.bands_note,
        method=METHOD if r is None else f"{METHOD} {r.method}.",
        corrections=[cited_out(c) for c in result.corrections],
        excluded_s=dict(result.excluded_s),
        calibration_uncertain=[
            SpanOut(start=utc(f.start), end=utc(f.end), cause=f.cause, reason=f.reason)
            for f in result.flagged
        ],
        corrections_note=corrections_note(result),
        weather=result.weather,
    )


def summary_row(result: TrialResult) -> SummaryRowOut:
    """The evaluation as one flat row."""
    trial, ev, r = result.trial, result.evaluation, result.evaluation.baci
    return SummaryRowOut(
        trial_id=trial.id,
        name=trial.name,
        vendor=trial.vendor,
        status=ev.verdict.status,
        effect_db=None if r is None else round_db(r.effect_db),
        reduction_db=None if r is None else round_db(r.reduction_db),
        ci_low_db=None if r is None else round_db(r.ci_low),
        ci_high_db=None if r is None else round_db(r.ci_high),
        treated_before_db=round_db_or_none(ev.before.treated_db),
        control_before_db=round_db_or_none(ev.before.control_db),
        treated_after_db=round_db_or_none(ev.after.treated_db),
        control_after_db=round_db_or_none(ev.after.control_db),
        coverage_before=round(ev.before.coverage, 4),
        coverage_after=round(ev.after.coverage, 4),
        complete_days_before=ev.before.complete_days,
        complete_days_after=ev.after.complete_days,
        corrections_applied=len(result.applied),
        verdict=ev.verdict.text,
    )
