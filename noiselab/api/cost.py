"""What a read will cost, estimated before it runs: pure functions of its parameters.

A cost is counted in *units*: one per stored row the read touches (a raw 1-s reading, a
per-minute or an hourly roll-up cell) plus :data:`POINT_UNITS` per point or row it answers
(building and encoding an answer's point costs about as much CPU as reading a row). Measured on
the project's two-core host (``tests/api/test_abuse_http.py``'s data), a unit is some 5-6 µs of
CPU: a 7-day ``events`` read is ~0.61 M units (3.9 s), a one-day ``levels`` at ``every=1s``
~0.17 M units (0.9 s).

The estimates are upper bounds from the range alone (a sensor that measured a tenth of the time
costs less than estimated); they never read the store. Budgets and limits in these units:
:class:`~noiselab.api.limits.Limits`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from noiselab.analysis.buckets import Every

__all__ = [
    "POINT_UNITS",
    "RAW_RATE_HZ",
    "Cost",
    "events_cost",
    "indicators_cost",
    "levels_cost",
    "weather_cost",
]

POINT_UNITS = 1
"""Units per point answered."""
RAW_RATE_HZ = 1.0
"""Raw readings per second a sensor is assumed to send (the project's sensors send 1 s LAeq)."""


@dataclass(frozen=True, slots=True)
class Cost:
    """Rows a read touches and points it answers; ``units`` weighs them together."""

    rows: int
    points: int

    @property
    def units(self) -> int:
        """``rows + POINT_UNITS * points``."""
        return self.rows + POINT_UNITS * self.points


def _seconds(first: datetime, last: datetime) -> float:
    return max(0.0, (last - first).total_seconds())


def levels_cost(first: datetime, last: datetime, every: Every, *, cut_hours: int = 0) -> Cost:
    """``levels`` over ``[first, last)`` in ``every`` buckets: raw readings for ``1s``, else
    the per-minute roll-up (hourly cells from ``1h`` up, and the 60 minutes of each of the
    ``cut_hours`` that an edge of a correction or exclusion cuts); one point per bucket (plus
    the partial ones at both ends)."""
    span = _seconds(first, last)
    width = every.seconds or 86_400
    source = 1.0 / RAW_RATE_HZ if every is Every.S1 else 3600.0 if width >= 3600 else 60.0
    rows = math.ceil(span / source) + (60 * cut_hours if width >= 3600 else 0)
    return Cost(rows=rows, points=math.ceil(span / width) + 1)


def events_cost(first: datetime, last: datetime, before_s: float, after_s: float) -> Cost:
    """``events`` over ``[first, last)``: the raw readings from ``before_s`` before ``first``
    to ``after_s`` after ``last``; the events answered are few and not counted."""
    return Cost(
        rows=math.ceil((_seconds(first, last) + before_s + after_s) * RAW_RATE_HZ), points=0
    )


def indicators_cost(first: date, last: date, *, whole_hours: bool = True) -> Cost:
    """``indicators`` of the local dates ``[first, last)``: the hourly roll-up (per-minute where
    local hours are not whole UTC hours) of those dates and the next one, one row per date."""
    days = max(0, (last - first).days)
    per_day = 24 if whole_hours else 1440
    return Cost(rows=(days + 1) * per_day, points=days)


def weather_cost(first: datetime, last: datetime) -> Cost:
    """Weather observations over ``[first, last)``: one row and one point per minute (a
    station reports once a minute)."""
    minutes = math.ceil(_seconds(first, last) / 60.0) + 1
    return Cost(rows=minutes, points=minutes)
