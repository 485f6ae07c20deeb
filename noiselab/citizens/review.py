"""Citizens' reports of a period and their counts: what staff and the monthly report read.

:func:`reports_of_period` gives every report that was loud at a time in ``[start, end)`` (aware
instants; for a local month pass its local midnights converted to UTC), in the order they
arrived. :func:`summarise` counts reports by category and by status, every category and status
present (zero included), so a table of several months lines up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from noiselab.store.metadata import (
    CATEGORIES,
    REPORT_STATES,
    CitizenReport,
    CitizenReportRepository,
)

__all__ = ["PAGE", "HasCitizenReports", "ReportSummary", "reports_of_period", "summarise"]

PAGE = 1000
"""Reports read per database query."""


class HasCitizenReports(Protocol):
    """What :func:`reports_of_period` uses of a ``MetadataStore``."""

    @property
    def citizen_reports(self) -> CitizenReportRepository:
        """The reports' repository."""
        ...


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """Counts of a set of reports: ``total``, ``by_category`` (``road``, ``rail``, ``other``)
    and ``by_status`` (``new``, ``handled``); every key present, zeros included."""

    total: int
    by_category: dict[str, int]
    by_status: dict[str, int]


def reports_of_period(
    meta: HasCitizenReports, start: datetime, end: datetime
) -> list[CitizenReport]:
    """Every report loud at a time in ``[start, end)``, in arrival order. ``start`` and
    ``end`` must be aware and ``start < end``, else ``ValueError``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end: must be timezone-aware")
    if not start < end:
        raise ValueError("start: must be before end")
    found: list[CitizenReport] = []
    after: int | None = None
    while True:
        page = meta.citizen_reports.find(start=start, end=end, after_id=after, limit=PAGE)
        found.extend(page)
        if len(page) < PAGE:
            return found
        after = page[-1].id


def summarise(reports: Iterable[CitizenReport]) -> ReportSummary:
    """Counts of ``reports`` by category and by status."""
    categories: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for report in reports:
        categories[report.category] += 1
        states[report.status] += 1
    return ReportSummary(
        total=sum(categories.values()),
        by_category={name: categories[name] for name in CATEGORIES},
        by_status={name: states[name] for name in REPORT_STATES},
    )
