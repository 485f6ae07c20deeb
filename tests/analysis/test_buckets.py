"""Bucket helpers of the level queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from noiselab.analysis.buckets import local_hours_are_utc_hours


def test_local_hours_are_utc_hours_in_copenhagen_but_not_in_india():
    cph = ZoneInfo("Europe/Copenhagen")
    start = datetime(2026, 1, 1, tzinfo=cph)
    assert local_hours_are_utc_hours(start, start + timedelta(days=365), cph)  # both DST days
    india = ZoneInfo("Asia/Kolkata")  # UTC+05:30: local midnight is 18:30Z
    local = datetime(2026, 1, 1, tzinfo=india)
    assert not local_hours_are_utc_hours(local, local + timedelta(days=2), india)
