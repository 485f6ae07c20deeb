"""The periods the living map is served for, and their time windows.

All windows end at "now" rounded down and are half-open ``[start, end)``, Unix seconds (UTC):

* ``now``: LAeq of the 15 whole minutes before the current minute (as the markers' level);
* ``hour``: LAeq of the 60 whole minutes before the current minute;
* ``24h``: LAeq of the 1,440 whole minutes before the current minute;
* ``year``: Lden of the 365 days (8,760 whole hours) before the current hour, with the
  Danish periods of the API settings (day 07-19, evening 19-22 +5 dB, night 22-07 +10 dB,
  weights 12/3/9 h, Europe/Copenhagen). A rolling year rather than the calendar year, so that
  the figure does not start from nothing every 1 January. Each of day, evening and night is
  fitted separately and the three surfaces combined (:mod:`.terms`).

``ttl_s`` is how long one computed surface is served before it is recomputed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["PERIODS", "Indicator", "PeriodName", "PeriodRules", "PeriodSpec", "window"]

PeriodName = Literal["now", "hour", "24h", "year"]
Indicator = Literal["laeq", "lden"]


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    """One period: its ``name``, ``indicator``, length ``seconds`` and cache life ``ttl_s``."""

    name: PeriodName
    indicator: Indicator
    seconds: int
    ttl_s: float


PERIODS: dict[str, PeriodSpec] = {
    "now": PeriodSpec("now", "laeq", 900, 60.0),
    "hour": PeriodSpec("hour", "laeq", 3600, 60.0),
    "24h": PeriodSpec("24h", "laeq", 86_400, 300.0),
    "year": PeriodSpec("year", "lden", 365 * 86_400, 3600.0),
}


@dataclass(frozen=True, slots=True)
class PeriodRules:
    """The local zone and the day and evening hours ``[from, to)`` of Lden (night: the rest)."""

    zone: ZoneInfo
    day: tuple[int, int]
    evening: tuple[int, int]

    @property
    def hours(self) -> tuple[float, float, float]:
        """Lden weights (h) of day, evening and night: 12/3/9 in Denmark."""
        d = float(self.day[1] - self.day[0])
        e = float(self.evening[1] - self.evening[0])
        return d, e, 24.0 - d - e


def window(spec: PeriodSpec, now: float) -> tuple[float, float]:
    """``(start, end)`` (Unix s) of ``spec`` at ``now``: minutes for LAeq, hours for Lden."""
    step = 3600.0 if spec.indicator == "lden" else 60.0
    end = math.floor(now / step) * step
    return end - spec.seconds, end
