"""The period a report covers: a calendar month or year of local dates, and the same period a
year before (for the comparison every report carries).

A month is named ``YYYY-MM`` and a year ``YYYY``. The dates are local (the deployment's zone):
a report of November covers the day, evening and night periods of 1 to 30 November, the last
night ending on the morning of 1 December.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["FIRST_YEAR", "LAST_YEAR", "ReportPeriod", "parse_period"]

FIRST_YEAR, LAST_YEAR = 1971, 2099
"""The years a report may cover (the stores keep instants from 1970 to 2099)."""

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_YEAR = re.compile(r"[0-9]{4}")
Kind = Literal["month", "year"]


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """A month (``month`` 1-12) or a year (``month`` None) of local dates ``[first, last)``."""

    year: int
    month: int | None = None

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise ValueError(f"year {self.year}: must be {FIRST_YEAR}-{LAST_YEAR}")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month}: must be 01-12")

    @property
    def kind(self) -> Kind:
        """``"month"`` or ``"year"``."""
        return "year" if self.month is None else "month"

    @property
    def label(self) -> str:
        """``YYYY-MM`` or ``YYYY``."""
        return str(self.year) if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def first(self) -> date:
        """The first local date."""
        return date(self.year, self.month or 1, 1)

    @property
    def last(self) -> date:
        """The local date after the last one."""
        if self.month is None or self.month == 12:
            return date(self.year + 1, 1, 1)
        return date(self.year, self.month + 1, 1)

    @property
    def days(self) -> int:
        """Dates in the period."""
        return (self.last - self.first).days

    def year_before(self) -> ReportPeriod:
        """The same month or year one year earlier."""
        return ReportPeriod(self.year - 1, self.month)

    def months(self) -> list[ReportPeriod]:
        """The months of a year, or the month itself."""
        if self.month is not None:
            return [self]
        return [ReportPeriod(self.year, m) for m in range(1, 13)]


def parse_period(text: str) -> ReportPeriod:
    """``YYYY-MM`` as a month, ``YYYY`` as a year; anything else raises ``ValueError`` naming
    the value."""
    value = text.strip()
    if match := _MONTH.fullmatch(value):
        return ReportPeriod(int(match[1]), int(match[2]))
    if _YEAR.fullmatch(value):
        return ReportPeriod(int(value))
    raise ValueError(f"{value[:20]!r} is not a month (YYYY-MM) or a year (YYYY)")
