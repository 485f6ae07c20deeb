"""Evaluation of a vendor trial: hourly levels of treated and control sensors in, BACI effect,
daily values, coverage and a plain-language verdict out.

Levels are dB re 20 µPa (LAeq,1h, A-weighted; LZeq for bands); coverage is measured seconds over
the hour's seconds (0..1); days are integer labels (local date ordinals). Every mean is energetic.

Steps, each a function here:

1. :func:`combine_sensors` — several treated (or control) sensors become one hourly level: the
   energetic mean of the sensors, equal weights, in hours where *every* sensor of the group
   measured at least :data:`MIN_HOUR_COVERAGE` of the hour (else missing). Requiring all of
   them keeps the mix of positions the same in both phases; an hour with one sensor missing
   would otherwise shift the group level by the difference between positions.
2. :func:`evaluate_trial` — per phase the *matched hours* (both groups present, hour of day
   selected), weighted by ``min(coverage_T, coverage_C)``; daily and phase levels; the
   BACI effect with its day-block bootstrap interval (:func:`noiselab.analysis.baci.baci`);
   a :class:`Verdict`.
3. :func:`band_effects` — the same BACI per third-octave band where spectra exist.

Verdict thresholds (choices of this project, stated in ``docs/trials.md``): a phase has enough
data when it has at least :data:`MIN_DAYS` *complete days* — days on which at least
:data:`MIN_DAY_FRACTION` of the selected hours are matched — and at least
:data:`MIN_PHASE_COVERAGE` of its selected hours are matched. A week is the minimum because
traffic noise has a weekly cycle (weekday/weekend flows); the day bootstrap needs several days
to say anything about the spread between days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.analysis.baci import BaciResult, baci

__all__ = [
    "MIN_DAYS",
    "MIN_DAY_FRACTION",
    "MIN_HOUR_COVERAGE",
    "MIN_PHASE_COVERAGE",
    "BandEffect",
    "BandPhase",
    "DayValues",
    "PhaseHours",
    "PhaseSummary",
    "TrialEvaluation",
    "Verdict",
    "VerdictStatus",
    "band_effects",
    "combine_sensors",
    "evaluate_trial",
    "verdict",
]

BoolArray = npt.NDArray[np.bool_]

MIN_HOUR_COVERAGE = 0.5
"""An hour of one sensor counts when it measured at least half of it."""
MIN_DAY_FRACTION = 0.5
"""A day is complete when at least half of its selected hours are matched."""
MIN_DAYS = 7
"""Complete days each phase needs for a verdict (one weekly traffic cycle)."""
MIN_PHASE_COVERAGE = 0.5
"""Share of a phase's selected hours that must be matched for a verdict."""

VerdictStatus = Literal["insufficient_data", "reduction", "increase", "no_significant_change"]


def combine_sensors(
    levels: npt.ArrayLike, coverage: npt.ArrayLike, min_coverage: float = MIN_HOUR_COVERAGE
) -> tuple[FloatArray, FloatArray]:
    """One hourly level for a group of sensors: ``10·log10(mean_s 10^(L_s,h/10))``.

    ``levels`` and ``coverage`` have shape ``(sensors, hours)`` (``NaN`` level = no data).
    An hour is kept only where every sensor has a level and ``coverage >= min_coverage``;
    elsewhere the level is ``NaN`` and the coverage 0. The group's coverage of a kept hour is
    the smallest of its sensors'. Example: 60 and 70 dB give 67.40 dB.
    """
    lv = np.atleast_2d(np.asarray(levels, dtype=np.float64))
    cv = np.atleast_2d(np.asarray(coverage, dtype=np.float64))
    if lv.shape != cv.shape:
        raise ValueError(f"levels {lv.shape} and coverage {cv.shape} must have the same shape")
    ok = (~np.isnan(lv) & (cv >= min_coverage)).all(axis=0)
    energy = np.power(10.0, np.where(np.isnan(lv), -np.inf, lv) / 10.0).mean(axis=0)
    with np.errstate(divide="ignore"):
        combined = np.where(ok, 10.0 * np.log10(energy), np.nan)
    return combined, np.where(ok, cv.min(axis=0), 0.0)


@dataclass(frozen=True, slots=True)
class PhaseHours:
    """One phase hour by hour: group levels (dB, ``NaN`` missing) and coverage (0..1) of the
    treated and the control group, each hour's ``day`` label and whether its local hour of day
    is ``selected`` for the evaluation. All arrays have one element per hour."""

    treated: FloatArray
    control: FloatArray
    treated_coverage: FloatArray
    control_coverage: FloatArray
    day: IntArray
    selected: BoolArray

    def matched(self) -> tuple[BoolArray, FloatArray]:
        """The matched hours (both present, selected) and their weights ``min(cov_T, cov_C)``."""
        weight = np.minimum(self.treated_coverage, self.control_coverage)
        ok = self.selected & ~np.isnan(self.treated) & ~np.isnan(self.control) & (weight > 0)
        return ok, np.where(ok, weight, 0.0)


@dataclass(frozen=True, slots=True)
class DayValues:
    """One day of a phase: energetic means over its matched hours (``None`` without any), the
    difference ``treated - control`` (dB), and its matched and selected hours."""

    phase: Literal["before", "after"]
    day: int
    treated_db: float | None
    control_db: float | None
    difference_db: float | None
    matched_hours: int
    selected_hours: int


@dataclass(frozen=True, slots=True)
class PhaseSummary:
    """One phase: energetic means over all matched hours (dB; ``None`` without any), matched
    and selected hours, ``coverage`` = matched / selected hours, complete days and days with
    any matched hour."""

    treated_db: float | None
    control_db: float | None
    difference_db: float | None
    matched_hours: int
    selected_hours: int
    coverage: float
    complete_days: int
    days_with_data: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome in one word (``status``) and in plain language (``text``)."""

    status: VerdictStatus
    text: str


@dataclass(frozen=True, slots=True)
class TrialEvaluation:
    """What :func:`evaluate_trial` finds. ``baci`` is ``None`` when a phase has fewer than 2 days
    with matched hours (the bootstrap's minimum)."""

    before: PhaseSummary
    after: PhaseSummary
    baci: BaciResult | None
    daily: list[DayValues]
    verdict: Verdict


def _mean_db(levels: FloatArray, weights: FloatArray) -> float | None:
    total = float(weights.sum())
    if total <= 0:
        return None
    return 10.0 * float(np.log10(float(np.sum(weights * np.power(10.0, levels / 10.0))) / total))


def _difference(t: float | None, c: float | None) -> float | None:
    return None if t is None or c is None else t - c


def _days(phase_name: Literal["before", "after"], phase: PhaseHours) -> list[DayValues]:
    ok, weight = phase.matched()
    rows = []
    for day in np.unique(phase.day[phase.selected]).tolist():
        in_day = (phase.day == day) & phase.selected
        mine = in_day & ok
        t = _mean_db(phase.treated[mine], weight[mine])
        c = _mean_db(phase.control[mine], weight[mine])
        rows.append(
            DayValues(
                phase=phase_name,
                day=int(day),
                treated_db=t,
                control_db=c,
                difference_db=_difference(t, c),
                matched_hours=int(mine.sum()),
                selected_hours=int(in_day.sum()),
            )
        )
    return rows


def _summary(phase: PhaseHours, days: list[DayValues]) -> PhaseSummary:
    ok, weight = phase.matched()
    t = _mean_db(phase.treated[ok], weight[ok])
    c = _mean_db(phase.control[ok], weight[ok])
    selected = int(phase.selected.sum())
    return PhaseSummary(
        treated_db=t,
        control_db=c,
        difference_db=_difference(t, c),
        matched_hours=int(ok.sum()),
        selected_hours=selected,
        coverage=int(ok.sum()) / selected if selected else 0.0,
        complete_days=sum(
            1 for d in days if d.matched_hours >= MIN_DAY_FRACTION * d.selected_hours
        ),
        days_with_data=sum(1 for d in days if d.matched_hours > 0),
    )


def _baci(
    before: PhaseHours, after: PhaseHours, n_boot: int, seed: int | None
) -> BaciResult | None:
    (ok_b, w_b), (ok_a, w_a) = before.matched(), after.matched()
    if len(np.unique(before.day[ok_b])) < 2 or len(np.unique(after.day[ok_a])) < 2:
        return None
    return baci(
        before.treated[ok_b],
        before.control[ok_b],
        after.treated[ok_a],
        after.control[ok_a],
        hours_before=w_b[ok_b],
        hours_after=w_a[ok_a],
        day_before=before.day[ok_b],
        day_after=after.day[ok_a],
        n_boot=n_boot,
        seed=seed,
    )


def _shortfalls(name: str, phase: PhaseSummary) -> list[str]:
    problems = []
    if phase.complete_days < MIN_DAYS:
        problems.append(
            f"the {name} period has {phase.complete_days} complete day(s), at least "
            f"{MIN_DAYS} are needed"
        )
    if phase.coverage < MIN_PHASE_COVERAGE:
        problems.append(
            f"the {name} period has {phase.coverage * 100:.0f} % of its hours measured at both "
            f"treated and control sensors, at least {MIN_PHASE_COVERAGE * 100:.0f} % are needed"
        )
    return problems


def verdict(before: PhaseSummary, after: PhaseSummary, result: BaciResult | None) -> Verdict:
    """Plain-language verdict: ``insufficient_data`` when a phase falls short of the thresholds
    (or no effect could be estimated); otherwise ``reduction`` / ``increase`` when the interval
    excludes 0 (significant at its confidence), else ``no_significant_change``."""
    problems = _shortfalls("before", before) + _shortfalls("after", after)
    if result is None or problems:
        reasons = "; ".join(problems) or "a period has fewer than 2 days with matched hours"
        return Verdict("insufficient_data", f"Insufficient data: {reasons}.")
    level = f"{result.confidence * 100:g} %"
    interval = f"{level} confidence interval {-result.ci_high:+.1f} to {-result.ci_low:+.1f} dB"
    if result.ci_high < 0:
        return Verdict(
            "reduction",
            f"The treated site got quieter relative to the control: a reduction of "
            f"{result.reduction_db:.1f} dB ({interval} reduction). The interval excludes 0, so "
            f"the reduction is statistically significant at the {level} level.",
        )
    if result.ci_low > 0:
        return Verdict(
            "increase",
            f"The treated site got louder relative to the control: an increase of "
            f"{result.effect_db:.1f} dB ({interval} reduction). The interval excludes 0, so "
            f"the increase is statistically significant at the {level} level.",
        )
    return Verdict(
        "no_significant_change",
        f"No significant change: the estimated reduction is {result.reduction_db:+.1f} dB "
        f"({interval}); the interval includes 0.",
    )


def evaluate_trial(
    before: PhaseHours, after: PhaseHours, *, n_boot: int = 2000, seed: int | None = 0
) -> TrialEvaluation:
    """BACI evaluation of a trial from its hourly group levels (see the module docstring).

    The bootstrap is seeded (``seed``), so the same data give the same interval.
    """
    daily = _days("before", before) + _days("after", after)
    summary_b = _summary(before, [d for d in daily if d.phase == "before"])
    summary_a = _summary(after, [d for d in daily if d.phase == "after"])
    result = _baci(before, after, n_boot, seed)
    return TrialEvaluation(
        before=summary_b,
        after=summary_a,
        baci=result,
        daily=daily,
        verdict=verdict(summary_b, summary_a, result),
    )


@dataclass(frozen=True, slots=True)
class BandPhase:
    """One phase of band levels: ``treated``/``control`` shape ``(hours, bands)`` LZeq (dB,
    ``NaN`` missing), one ``weight`` (0..1, 0 = not used) and ``day`` label per hour."""

    treated: FloatArray
    control: FloatArray
    weight: FloatArray
    day: IntArray


@dataclass(frozen=True, slots=True)
class BandEffect:
    """BACI of one band (LZeq, dB); effect fields ``None`` when a phase has fewer than 2 days
    with matched hours in that band."""

    band_hz: float
    effect_db: float | None
    ci_low: float | None
    ci_high: float | None
    days_before: int
    days_after: int


def _band_phase(phase: BandPhase, band: int) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    t, c = phase.treated[:, band], phase.control[:, band]
    ok = ~np.isnan(t) & ~np.isnan(c) & (phase.weight > 0)
    return t[ok], c[ok], phase.weight[ok], phase.day[ok]


def band_effects(
    bands_hz: npt.ArrayLike,
    before: BandPhase,
    after: BandPhase,
    *,
    n_boot: int = 1000,
    seed: int | None = 0,
) -> list[BandEffect]:
    """:func:`~noiselab.analysis.baci.baci` per band: ``effect = ΔL_after - ΔL_before`` of
    the band's LZeq (negative: quieter in that band at the treated site)."""
    effects = []
    for band, hz in enumerate(np.asarray(bands_hz, dtype=np.float64).tolist()):
        tb, cb, wb, db = _band_phase(before, band)
        ta, ca, wa, da = _band_phase(after, band)
        n_b, n_a = len(np.unique(db)), len(np.unique(da))
        if n_b < 2 or n_a < 2:
            effects.append(BandEffect(hz, None, None, None, n_b, n_a))
            continue
        r = baci(
            tb,
            cb,
            ta,
            ca,
            hours_before=wb,
            hours_after=wa,
            day_before=db,
            day_after=da,
            n_boot=n_boot,
            seed=seed,
        )
        effects.append(BandEffect(hz, r.effect_db, r.ci_low, r.ci_high, n_b, n_a))
    return effects
