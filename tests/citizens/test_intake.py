"""What a citizen's report must be to be accepted: its time window, the map's area, the
category, and the cleaning of its text (control characters gone, markup kept as text)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from noiselab.citizens.intake import (
    MAX_AGE_S,
    MAX_CLOCK_SKEW_S,
    VALLENSBAEK,
    IntakeError,
    accept,
    clean_text,
)
from noiselab.noisemap.geometry import grid_around
from noiselab.noisemap.model import DEFAULT_GRID
from noiselab.store.metadata import CitizenReport

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HERE = {"lat": 55.6283, "lon": 12.3866}


def filed(**changes: Any) -> CitizenReport:
    fields: dict[str, Any] = {**HERE, "category": "road", "received_at": NOW} | changes
    return accept(**fields)


def test_a_plain_report_is_accepted_and_its_time_defaults_to_its_arrival() -> None:
    report = filed(text="  Larm fra motorvejen  ")
    assert (report.ts, report.received_at, report.category) == (NOW, NOW, "road")
    assert report.text == "Larm fra motorvejen"
    assert report.status == "new"
    assert report.id is None


def test_the_time_window_is_seven_days_back_and_a_small_skew_ahead() -> None:
    """Edges included: exactly 7 days ago and exactly 120 s ahead pass; a second more fails.
    Negative control: the same instants pass once received later/earlier accordingly."""
    assert MAX_CLOCK_SKEW_S == 120.0
    assert MAX_AGE_S == 7 * 86_400
    oldest = NOW - timedelta(days=7)
    assert filed(ts=oldest).ts == oldest
    assert filed(ts=NOW + timedelta(seconds=120)).ts == NOW + timedelta(seconds=120)
    with pytest.raises(IntakeError, match=r"^ts: .* is more than 7 days ago"):
        filed(ts=oldest - timedelta(seconds=1))
    with pytest.raises(IntakeError, match=r"^ts: .* is in the future"):
        filed(ts=NOW + timedelta(seconds=121))
    assert filed(ts=oldest - timedelta(seconds=1), received_at=NOW - timedelta(seconds=1))
    with pytest.raises(IntakeError, match="UTC offset"):
        filed(ts=datetime(2026, 3, 2, 11, 0))


def test_the_area_is_the_noise_maps_grid() -> None:
    """The box equals the outer edges of the map's grid to 1e-5° (about 1 m)."""
    west, south, east, north = grid_around(*DEFAULT_GRID).bounds_lonlat()
    for ours, theirs in zip(
        (VALLENSBAEK.west, VALLENSBAEK.south, VALLENSBAEK.east, VALLENSBAEK.north),
        (west, south, east, north),
        strict=True,
    ):
        assert abs(ours - theirs) < 1e-5


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (55.6761, 12.5683),  # Copenhagen city hall: outside
        (55.6105, 12.38),  # just south of the edge
        (55.63, 12.4180),  # just east
        (math.nan, 12.38),
        (55.63, math.inf),
    ],
)
def test_a_point_outside_the_area_is_refused(lat: float, lon: float) -> None:
    with pytest.raises(IntakeError, match=r"^lat, lon: .* outside the map's area: latitudes"):
        filed(lat=lat, lon=lon)


def test_the_corners_of_the_area_are_inside() -> None:
    box = VALLENSBAEK
    for lat, lon in ((box.south, box.west), (box.north, box.east)):
        assert filed(lat=lat, lon=lon).lat == lat


def test_a_category_outside_road_rail_other_is_refused() -> None:
    assert filed(category="rail").category == "rail"
    assert filed(category="other").category == "other"
    with pytest.raises(IntakeError, match="category: 'fireworks' must be one of road, rail, other"):
        filed(category="fireworks")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (None, None),
        ("", None),
        (" \n\t ", None),
        ("Tog\x00 kl. 3\x1b[31m", "Tog kl. 3[31m"),  # NUL and ESC removed
        ("a\r\nb\rc", "a\nb\nc"),  # line ends unified
        ("\u202egnirts", "gnirts"),  # a bidirectional override removed
        ("Cafe\u0301", "Café"),  # NFC
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # markup kept as text
        ("Støj fra Holbækmotorvejen", "Støj fra Holbækmotorvejen"),
    ],
)
def test_text_is_cleaned_of_control_characters(given: str | None, kept: str | None) -> None:
    assert clean_text(given) == kept
    assert filed(text=given).text == kept


def test_text_longer_than_500_characters_after_cleaning_is_refused() -> None:
    """500 characters pass; 501 fail; 500 plus control characters pass (counted after
    cleaning)."""
    assert filed(text="x" * 500).text == "x" * 500
    assert filed(text="x" * 500 + "\x00" * 20).text == "x" * 500
    with pytest.raises(IntakeError, match="text: at most 500 characters, got 501"):
        filed(text="y" * 501)


def test_a_report_holds_no_field_for_personal_data() -> None:
    """What a report can hold: the time, the place, the category, the text and its handling."""
    assert set(CitizenReport.__struct_fields__) == {
        "id", "ts", "received_at", "lat", "lon", "category", "text",
        "status", "handled_at", "handled_by", "handling_note",
    }  # fmt: skip
