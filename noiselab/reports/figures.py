"""The figures of one sensor over a run of local dates (a report's whole period, one month of
a year or one date), computed from its :class:`~noiselab.validity.daily.ValidPeriod`.

Conventions (docs/staff.md, "Reports"):

* the accounted time is the dates' day, evening and night periods, from the day start of the
  first date to the day start of the date after the last (the same seconds Lden covers);
* ``coverage`` is the measured seconds kept over those real seconds;
* ``excluded_s`` the measured seconds each cause left out (weather, annotation, correction);
* ``outage_s`` the seconds neither measured nor excluded: the sensor sent nothing, or what it
  sent was quarantined;
* ``calibration_uncertain_s`` the seconds between two field calibrations that drifted more than
  0.5 dB apart (the data is kept and flagged, not left out);
* a date is "above the guideline value" when its Lden is (strictly); an hour is when its
  rating level is (:mod:`noiselab.analysis.long_term`); for rail at dwellings, the hours whose
  highest LAFmax is above the LAmax guideline value (85 dB) are counted too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from noiselab.analysis.corrections import EXCLUSION_ORDER
from noiselab.analysis.guidelines import GuidelineValue
from noiselab.analysis.long_term import LongTerm, hour_penalties, hours_above, long_term
from noiselab.validity import SensorValidity
from noiselab.validity.daily import ValidPeriod

__all__ = ["Figures", "figures_of"]


@dataclass(frozen=True, slots=True)
class Figures:
    """One sensor's figures over the dates ``[first, last)`` of a period (module docstring).
    Counts "above" are ``None`` where the sensor's source has no such guideline value."""

    label: str
    levels: LongTerm
    days_with_lden: int
    days_above: int | None
    hours_with_data: int
    hours_above: int | None
    hours_lafmax_above: int | None
    excluded_s: dict[str, float]
    outage_s: float
    calibration_uncertain_s: float

    @property
    def excluded_total_s(self) -> float:
        """Seconds left out by every cause together."""
        return sum(self.excluded_s.values())


def figures_of(  # noqa: PLR0917 - one period's inputs, all needed
    label: str,
    period: ValidPeriod,
    rows: slice,
    guideline: GuidelineValue | None,
    lafmax_guideline: GuidelineValue | None,
    validity: SensorValidity | None,
) -> Figures:
    """The figures of the dates ``rows`` (a slice of ``period``'s dates, step 1)."""
    table = period.table
    lo, hi, _ = rows.indices(len(table.dates))
    levels = long_term(table, rows)
    # Day start of the first date to day start of the date after the last (PeriodTable.edges).
    t0, t1 = float(table.edges[4 * lo + 1]), float(table.edges[4 * hi + 1])
    in_hours = (period.hour_starts >= t0) & (period.hour_starts < t1)
    laeq = period.hour_laeq[in_hours]
    lden_values = [d.lden for d in period.days[rows] if d.lden is not None]
    excluded = period.excluded[rows].sum(axis=0) if hi > lo else np.zeros(len(EXCLUSION_ORDER))
    excluded_s = {cause: float(s) for cause, s in zip(EXCLUSION_ORDER, excluded, strict=True)}
    outage = max(0.0, levels.real_s - levels.measured_s - float(excluded.sum()))
    uncertain = 0.0
    if validity is not None:
        uncertain = sum(span.end - span.start for span in validity.flags(t0, t1))
    days_above = hours_up = lafmax_up = None
    if guideline is not None:
        days_above = sum(1 for v in lden_values if v > guideline.value_db)
        penalties = hour_penalties(period.hour_starts[in_hours], table.edges)
        hours_up = hours_above(laeq, penalties, guideline.value_db)
    if lafmax_guideline is not None:
        lafmax = period.hour_lafmax[in_hours]
        lafmax_up = int(np.count_nonzero(lafmax > lafmax_guideline.value_db))
    return Figures(
        label=label,
        levels=levels,
        days_with_lden=len(lden_values),
        days_above=days_above,
        hours_with_data=int(laeq.size),
        hours_above=hours_up,
        hours_lafmax_above=lafmax_up,
        excluded_s=excluded_s,
        outage_s=outage,
        calibration_uncertain_s=uncertain,
    )
