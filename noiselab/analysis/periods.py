"""Day-evening-night indicators per local date: Lday, Levening, Lnight, Lden, Ldn, LAeq,24h.

Periods are local wall-clock hours in the configured zone (default Europe/Copenhagen, as
Denmark defines them, SPEC "Units and time"): day [07, 19), evening [19, 22), night
[22, 07 next day). The night starting at 22:00 on date D belongs to D. Every period edge is a
real instant computed with ``zoneinfo`` for its own local date, never by adding 24 h: on the
daylight-saving dates (the last Sundays of March and October, clocks change at 02:00/03:00)
the night before lasts 8 h or 10 h, and each period level averages over those real seconds.

Formulas (levels dB, seconds s, weights h):

* period level ``L_p = 10·log10(Σ overlapᵢ·10^(Lᵢ/10) / Σ overlapᵢ)`` over the readings'
  measured seconds inside the period (readings crossing an edge are split by overlap);
* ``Lden = 10·log10((h_d·10^((L_d+P_d)/10) + h_e·10^((L_e+P_e)/10) + h_n·10^((L_n+P_n)/10))
  / (h_d + h_e + h_n))``, EU Directive 2002/49/EC Annex I, with ``h`` the configured period
  lengths (12/3/9 h for Denmark, 12/4/8 h for the EU default evening 19-23) and penalties
  ``P`` = 0, 5, 10 dB. The weights stay the configured hours on 23-h and 25-h days;
* ``Ldn``: the same with two periods, day + evening together as "day" (07-22, 15 h, no
  penalty) and night (9 h, +10 dB);
* ``LAeq,24h``: the energetic mean over the calendar day 00:00-24:00 local of D (23 h or 25 h
  on daylight-saving days), not the 07-07 indicator day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.buckets import DEFAULT_TZ
from noiselab.analysis.readings import Readings
from noiselab.analysis.segments import SegmentSums, segment_sums

__all__ = [
    "DANISH_PENALTIES",
    "DayIndicators",
    "PeriodTable",
    "composite_rating_level",
    "lden",
    "lden_rows",
    "period_table",
]


DANISH_PENALTIES: tuple[float, float, float] = (0.0, 5.0, 10.0)
"""Day, evening, night penalties in dB: EU Directive 2002/49/EC Annex I, 1 (Lden formula)."""

_SEGMENTS_PER_DATE = 4
"""Per local date D: [00, day start), day, evening, [evening end, 24) (the night of D starts
with the last one and ends with the first one of D + 1)."""


@dataclass(frozen=True, slots=True)
class DayIndicators:
    """Indicators of one local date ``date`` (dB; ``None`` where a period has no data).

    ``lday``/``levening``/``lnight``: period LAeq over the measured seconds; the night starting
    on ``date`` belongs to it. ``lden``: ``None`` unless all three periods have data. ``ldn``:
    ``None`` unless day-or-evening and night have data. ``laeq24``: LAeq over the calendar day
    00:00-24:00 local. ``coverage_*``: measured seconds over the period's real seconds (capped
    at 1), 0.0 when nothing was measured.
    """

    date: date
    lday: float | None
    levening: float | None
    lnight: float | None
    lden: float | None
    ldn: float | None
    laeq24: float | None
    coverage_day: float
    coverage_evening: float
    coverage_night: float
    coverage_24h: float


def composite_rating_level(
    levels: Sequence[float], hours: Sequence[float], penalties: Sequence[float]
) -> float:
    """Composite rating level ``10·log10(Σ hᵢ·10^((Lᵢ+Pᵢ)/10) / Σ hᵢ)`` in dB.

    ``levels``: period levels (dB); ``hours``: period lengths (h, the weights); ``penalties``:
    adjustments (dB). The general form of Lden (EU Directive 2002/49/EC Annex I) and of the
    composite whole-day rating level of ISO 1996-1. Examples: Lden(60, 60, 60) with 12/3/9 h
    and 0/5/10 dB is 66.67 dB; with 12/4/8 h 66.40 dB; Lden(65, 60, 55) with 12/3/9 is 65.00.
    """
    lv = np.asarray(levels, dtype=np.float64).reshape(1, -1)
    h = np.asarray(hours, dtype=np.float64).reshape(-1)
    p = np.asarray(penalties, dtype=np.float64).reshape(-1)
    if not lv.size == h.size == p.size or not lv.size:
        raise ValueError(
            f"need as many levels, hours and penalties, got {lv.size}/{h.size}/{p.size}"
        )
    if not (np.isfinite(lv).all() and np.isfinite(p).all() and (h > 0).all()):
        raise ValueError("levels and penalties must be finite and hours positive")
    return float(_composite(lv, h, p)[0])


def _composite(levels: FloatArray, hours: FloatArray, penalties: FloatArray) -> FloatArray:
    """``composite_rating_level`` of each row of ``levels`` (shape ``(n, periods)``)."""
    rated = levels + penalties
    top = rated.max(axis=1, keepdims=True)
    ratio = (hours * np.power(10.0, (rated - top) / 10.0)).sum(axis=1) / hours.sum()
    return np.asarray(top[:, 0] + 10.0 * np.log10(ratio), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Periods:
    """Validated period hours: day ``[d0, d1)``, evening ``[d1, e1)``, night the rest."""

    day_start: float
    evening_start: float
    evening_end: float

    @classmethod
    def of(cls, day: tuple[float, float], evening: tuple[float, float]) -> _Periods:
        (d0, d1), (e0, e1) = day, evening
        if not (0 <= d0 < d1 == e0 < e1 <= 24 and e1 - d0 < 24):
            raise ValueError(
                f"periods must be day [a, b) then evening [b, c) within 0..24 h with a night"
                f" left over, got day={day}, evening={evening}"
            )
        return cls(float(d0), float(d1), float(e1))

    def hours(self) -> FloatArray:
        """Weights: the configured lengths (h) of day, evening and night."""
        day = self.evening_start - self.day_start
        evening = self.evening_end - self.evening_start
        return np.array([day, evening, 24.0 - day - evening])

    def date_edges(self, day: date, zone: ZoneInfo) -> list[float]:
        """Local 00:00, day start, evening start, evening end of ``day`` as Unix seconds.

        Wall-clock arithmetic (``timedelta`` on an aware datetime keeps the wall time), so
        07:00 is 07:00 local on every date; a wall time that does not exist (inside the spring
        gap) resolves with the offset before the change, as ``zoneinfo`` does for ``fold=0``.
        """
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        hours = (0.0, self.day_start, self.evening_start, self.evening_end)
        return [(midnight + timedelta(hours=h)).timestamp() for h in hours]


def _edges(first: date, count: int, periods: _Periods, zone: ZoneInfo) -> FloatArray:
    """Segment edges for ``count`` dates from ``first``, plus 00:00 and day start of the next
    date (closing the last night): ``4·count + 2`` instants."""
    edges: list[float] = []
    for i in range(count + 1):
        edges.extend(periods.date_edges(first + timedelta(days=i), zone))
    return np.asarray(edges[:-2], dtype=np.float64)


def lden(  # noqa: PLR0917 - the positional signature issue 3 specifies
    ts: npt.ArrayLike,
    laeq: npt.ArrayLike,
    durations: npt.ArrayLike | None = None,
    tz: str | ZoneInfo = DEFAULT_TZ,
    day: tuple[float, float] = (7, 19),
    evening: tuple[float, float] = (19, 22),
    *,
    penalties: tuple[float, float, float] = DANISH_PENALTIES,
    start: date | None = None,
    end: date | None = None,
) -> list[DayIndicators]:
    """Day-evening-night indicators per local date (module docstring for the formulas).

    ``ts``: interval starts (Unix s, any order); ``laeq``: LAeq of each interval (dB);
    ``durations``: interval lengths (s, default 1 s). ``day``/``evening``: local hours
    ``(start, end)``; the night is the rest of the 24 h; the weights of Lden are these lengths
    (12/3/9 h by default, Denmark; ``evening=(19, 23)`` gives the EU default 12/4/8).
    ``penalties``: day, evening, night adjustments (dB). ``start``/``end``: the local dates
    ``[start, end)`` to report, every one of them even without data; by default from the first
    to the last date with any data. Examples: constant 60 dB all day gives Lden 66.67 dB
    (12/3/9) or 66.40 dB (12/4/8); day 65, evening 60, night 55 dB give 65.00 dB (12/3/9).
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    r = Readings.of(ts, laeq, durations)
    first, last = _date_range(r, zone, start, end)
    if (last - first).days <= 0:
        return []
    rows = lden_rows(_table(r, zone, day, evening, first, last), penalties)
    return rows if start is not None and end is not None else _trim(rows, start, end)


def period_table(  # noqa: PLR0917 - the same positional order as lden
    ts: npt.ArrayLike,
    laeq: npt.ArrayLike,
    durations: npt.ArrayLike | None,
    tz: ZoneInfo,
    day: tuple[float, float],
    evening: tuple[float, float],
    *,
    start: date,
    end: date,
) -> PeriodTable:
    """The energy, measured and real seconds of each period of the local dates
    ``[start, end)`` (arguments as for :func:`lden`): what :func:`lden` computes its rows
    from, and what a long-term indicator over many dates sums
    (:mod:`noiselab.analysis.long_term`)."""
    if (end - start).days <= 0:
        raise ValueError(f"end: must be after start ({start} >= {end})")
    return _table(Readings.of(ts, laeq, durations), tz, day, evening, start, end)


def _table(  # noqa: PLR0917 - private, one call shape
    r: Readings,
    zone: ZoneInfo,
    day: tuple[float, float],
    evening: tuple[float, float],
    first: date,
    last: date,
) -> PeriodTable:
    periods = _Periods.of(day, evening)
    count = (last - first).days
    edges = _edges(first, count, periods, zone)
    days = tuple(first + timedelta(days=i) for i in range(count))
    return PeriodTable.of(segment_sums(r, edges), edges, days, periods.hours())


def _date_range(
    r: Readings, zone: ZoneInfo, start: date | None, end: date | None
) -> tuple[date, date]:
    """``[first, last)`` dates to compute: the given ones, else from one date before the first
    reading (whose night it may be) to the date of the last reading's end; empty without data
    and without both dates."""
    if not r.size:
        return (start, end) if start is not None and end is not None else (date.min, date.min)
    t0, t1 = r.span()
    first = datetime.fromtimestamp(t0, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(t1, zone).date() + timedelta(days=1)
    return (first if start is None else start), (last if end is None else end)


def _trim(rows: list[DayIndicators], start: date | None, end: date | None) -> list[DayIndicators]:
    """Drop the dates without any data at the ends that were not fixed by the caller."""
    has = [row.coverage_24h > 0 or row.coverage_night > 0 for row in rows]
    if not any(has):
        return []
    lo = 0 if start is not None else has.index(True)
    hi = len(rows) if end is not None else len(rows) - has[::-1].index(True)
    return rows[lo:hi]


@dataclass(frozen=True, slots=True)
class PeriodTable:
    """Per local date (rows, in ``dates`` order) and period (columns ``DAY``, ``EVENING``,
    ``NIGHT``, ``FULL_DAY`` = 00-24 local, ``DAY_EVENING`` = day start to evening end): the
    ``energy`` (Σ seconds·10^((L - ``ref``)/10)), the ``measured`` seconds and the ``real``
    seconds of the period (23-h and 25-h days included). ``edges`` are the segment edges
    (Unix s): per date local 00:00, day start, evening start, evening end, then 00:00 and
    day start of the date after the last. ``hours`` are the Lden weights (h) of day, evening,
    night."""

    energy: FloatArray
    measured: FloatArray
    real: FloatArray
    ref: float
    edges: FloatArray
    dates: tuple[date, ...]
    hours: FloatArray

    DAY: ClassVar[int] = 0
    EVENING: ClassVar[int] = 1
    NIGHT: ClassVar[int] = 2
    FULL_DAY: ClassVar[int] = 3
    DAY_EVENING: ClassVar[int] = 4

    @classmethod
    def of(
        cls, sums: SegmentSums, edges: FloatArray, dates: tuple[date, ...], hours: FloatArray
    ) -> PeriodTable:
        count = len(dates)
        return cls(
            _by_period(sums.energy, count),
            _by_period(sums.seconds, count),
            _by_period(np.diff(edges), count),
            sums.ref,
            edges,
            dates,
            hours,
        )

    def levels(self) -> FloatArray:
        """Period levels (dB), NaN where nothing was measured."""
        out = np.full(self.measured.shape, np.nan)
        has = self.measured > 0
        out[has] = self.ref + 10.0 * np.log10(self.energy[has] / self.measured[has])
        return out

    def coverage(self) -> FloatArray:
        return np.minimum(1.0, self.measured / self.real)


def _by_period(per_segment: FloatArray, count: int) -> FloatArray:
    """Per-segment values (``4·count + 1``) summed into columns day, evening, night, 24 h,
    07-22 for each date."""
    seg = per_segment[: _SEGMENTS_PER_DATE * count].reshape(count, _SEGMENTS_PER_DATE)
    early, day, evening, late = seg.T
    next_early = per_segment[_SEGMENTS_PER_DATE::_SEGMENTS_PER_DATE]
    night = late + next_early
    return np.column_stack((day, evening, night, early + day + evening + late, day + evening))


def lden_rows(
    table: PeriodTable, penalties: tuple[float, float, float] = DANISH_PENALTIES
) -> list[DayIndicators]:
    """The indicators of each date of ``table`` (what :func:`lden` answers)."""
    return _indicators(table, np.asarray(penalties, dtype=np.float64))


def _indicators(table: PeriodTable, penalties: FloatArray) -> list[DayIndicators]:
    level = table.levels()
    cover = table.coverage()
    hours = table.hours
    den = _composite(level[:, :3], hours, penalties)
    dn = _composite(level[:, [4, 2]], np.array([hours[0] + hours[1], hours[2]]), penalties[[0, 2]])
    return [
        DayIndicators(
            date=d,
            lday=_opt(lv[0]),
            levening=_opt(lv[1]),
            lnight=_opt(lv[2]),
            lden=_opt(den_d),
            ldn=_opt(dn_d),
            laeq24=_opt(lv[3]),
            coverage_day=cv[0],
            coverage_evening=cv[1],
            coverage_night=cv[2],
            coverage_24h=cv[3],
        )
        for d, lv, cv, den_d, dn_d in zip(
            table.dates, level.tolist(), cover.tolist(), den.tolist(), dn.tolist(), strict=True
        )
    ]


def _opt(value: float) -> float | None:
    """``None`` for a missing (NaN) level."""
    return None if math.isnan(value) else value
