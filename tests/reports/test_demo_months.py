"""The months the demo writes a staff report for: local months, across a year's end."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from noiselab.demo_reports import months_between

CPH = ZoneInfo("Europe/Copenhagen")


def test_a_backfill_across_new_year_gives_both_months() -> None:
    end = datetime(2027, 1, 3, 12, tzinfo=CPH).timestamp()
    assert months_between(end - 7 * 86_400, end, CPH) == ["2026-12", "2027-01"]


def test_months_are_local_dates() -> None:
    """2026-11-30 23:30 UTC is 1 December 00:30 in Copenhagen."""
    instant = datetime.fromisoformat("2026-11-30T23:30:00+00:00").timestamp()
    assert months_between(instant, instant, CPH) == ["2026-12"]
