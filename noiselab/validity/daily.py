"""Daily indicators (Lday, Levening, Lnight, Lden, LAeq,24h per local date) of one sensor with
its validity applied: staff corrections, and the exclusion spans of the weather, annotations
and corrections left out, with the measured seconds each cause removed from each date.

The indicators route and the monthly and annual reports both compute through here, so a
report's Lden and the API's are the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import local_hours_are_utc_hours
from noiselab.analysis.corrections import (
    EXCLUSION_ORDER,
    ExcludedRows,
    RangeCorrection,
    interval_levels,
)
from noiselab.analysis.periods import DayIndicators, PeriodTable, lden_rows, period_table
from noiselab.corrections import validated_series
from noiselab.corrections.overlay import HOUR_S
from noiselab.store.base import ReadingStore, Series

__all__ = [
    "DailyPlan",
    "ValidDay",
    "ValidPeriod",
    "daily_indicators",
    "excluded_by_date",
    "valid_period",
]


@dataclass(frozen=True, slots=True)
class DailyPlan:
    """How daily indicators are computed: the ``zone`` of local dates and the ``day`` and
    ``evening`` periods in local hours (the night is the rest; Denmark: 7-19, 19-22)."""

    zone: ZoneInfo
    day: tuple[int, int] = (7, 19)
    evening: tuple[int, int] = (19, 22)


@dataclass(frozen=True, slots=True)
class ValidDay(DayIndicators):
    """A date's indicators and the measured seconds left out of its day, evening and night
    periods (the local date's day start to the next one's) by cause: ``excluded_s`` maps each
    cause of :data:`~noiselab.analysis.corrections.EXCLUSION_ORDER` to seconds."""

    excluded_s: tuple[tuple[str, float], ...] = ()

    def excluded(self) -> dict[str, float]:
        """``excluded_s`` as a mapping."""
        return dict(self.excluded_s)


@dataclass(frozen=True, slots=True)
class ValidPeriod:
    """One sensor's local dates with its validity applied, as the reports read them:
    ``days`` (each date's indicators and excluded seconds), the ``table`` they were computed
    from (energy and seconds per date and period, for long-term indicators), the local
    hours with data (``hour_starts`` Unix s, ``hour_laeq`` LAeq,1h dB over the seconds kept,
    ``hour_lafmax`` the highest LAFmax dB, NaN where unknown) and ``excluded`` (seconds per
    date and cause, columns in :data:`EXCLUSION_ORDER`)."""

    days: list[ValidDay]
    table: PeriodTable
    hour_starts: FloatArray
    hour_laeq: FloatArray
    hour_lafmax: FloatArray
    excluded: np.ndarray


def daily_indicators(  # noqa: PLR0917 - pickled positionally to a worker process
    store: ReadingStore,
    plan: DailyPlan,
    sensor_id: str,
    first: date,
    last: date,
    ranges: Sequence[RangeCorrection] = (),
) -> list[ValidDay]:
    """The indicators of the local dates ``[first, last)`` from the hourly roll-up (8,760 rows
    a year), or the per-minute one where the zone's local hours are not whole UTC hours, with
    ``ranges`` (corrections and exclusion spans on whole minutes) applied."""
    return valid_period(store, plan, sensor_id, first, last, ranges, hours=False).days


def valid_period(  # noqa: PLR0917 - the same positional order as daily_indicators
    store: ReadingStore,
    plan: DailyPlan,
    sensor_id: str,
    first: date,
    last: date,
    ranges: Sequence[RangeCorrection] = (),
    *,
    hours: bool = True,
) -> ValidPeriod:
    """:func:`daily_indicators` with what it was computed from, and (with ``hours``) the
    hourly levels of the same rows; one read of the store."""
    # The night of the last date ends the next morning; LAeq,24h needs whole local days.
    fetch_from = datetime(first.year, first.month, first.day, tzinfo=plan.zone)
    after = last + timedelta(days=1)
    fetch_to = datetime(after.year, after.month, after.day, tzinfo=plan.zone)
    whole_hours = local_hours_are_utc_hours(fetch_from, fetch_to, plan.zone)
    cells, excluded = validated_series(
        store,
        sensor_id,
        fetch_from.astimezone(UTC),
        fetch_to.astimezone(UTC),
        ranges,
        hourly=whole_hours,
    )
    table = period_table(
        cells.ts,
        cells.laeq,
        cells.duration,
        plan.zone,
        plan.day,
        plan.evening,
        start=first,
        end=last,
    )
    days = lden_rows(table)
    by_date = excluded_by_date(excluded, first, last, plan.zone, plan.day[0])
    valid = [
        ValidDay(
            **{f: getattr(d, f) for f in DayIndicators.__dataclass_fields__},
            excluded_s=tuple(zip(EXCLUSION_ORDER, by_date[i].tolist(), strict=True)),
        )
        for i, d in enumerate(days)
    ]
    empty = np.zeros(0)
    starts, laeq, lafmax = empty, empty, empty
    if hours:
        starts, laeq, lafmax = _hourly(cells, fetch_from.timestamp(), fetch_to.timestamp())
    return ValidPeriod(valid, table, starts, laeq, lafmax, by_date)


def _hourly(cells: Series, t0: float, t1: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The hours from ``t0`` (a local midnight) to ``t1`` with data in ``cells``: their starts,
    LAeq,1h over the measured seconds and highest LAFmax (NaN where none is known)."""
    starts = np.arange(t0, t1, HOUR_S)
    levels, seconds = interval_levels(cells.ts, cells.laeq, cells.duration, starts, HOUR_S)
    index = np.searchsorted(starts, cells.ts, side="right") - 1
    inside = (index >= 0) & (index < starts.size)
    lafmax = np.full(starts.shape, -np.inf)
    known = inside & np.isfinite(cells.lafmax)
    np.maximum.at(lafmax, index[known], cells.lafmax[known])
    lafmax[np.isinf(lafmax)] = np.nan
    has = seconds > 0
    return starts[has], levels[has], lafmax[has]


def excluded_by_date(
    excluded: ExcludedRows, first: date, last: date, zone: ZoneInfo, day_start_hour: int
) -> np.ndarray:
    """Seconds left out per local date of ``[first, last)`` (rows) and cause (columns, in
    :data:`EXCLUSION_ORDER`): a row belongs to the date whose day period starts at or before
    its start and whose next date's does not (the date's day, evening and night)."""
    count = (last - first).days
    edges = np.array(
        [
            datetime.combine(
                first + timedelta(days=i), datetime.min.time().replace(hour=day_start_hour)
            )
            .replace(tzinfo=zone)
            .timestamp()
            for i in range(count + 1)
        ]
    )
    table = np.zeros((count, len(EXCLUSION_ORDER)))
    row = np.searchsorted(edges, excluded.ts, side="right") - 1
    inside = (row >= 0) & (row < count)
    np.add.at(table, (row[inside], excluded.cause[inside]), excluded.duration[inside])
    return table
