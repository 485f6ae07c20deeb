"""Indicators and events over HTTP, on real SQLite files, against hand-computed values."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.lab import ApiLab
from support.readings import sensor, steady

from noiselab.api.schemas.events import EventsOut
from noiselab.api.schemas.indicators import IndicatorsOut
from noiselab.model import Reading

CPH = ZoneInfo("Europe/Copenhagen")


def _local(y: int, m: int, d: int, h: int = 0) -> float:
    return datetime(y, m, d, h, tzinfo=CPH).timestamp()


def _period_level(ts: float) -> float:
    """60 dB by day (07-19), 55 dB in the evening (19-22), 50 dB at night (local time)."""
    hour = datetime.fromtimestamp(ts, CPH).hour
    if 7 <= hour < 19:
        return 60.0
    return 55.0 if 19 <= hour < 22 else 50.0


@pytest.fixture
def dst_lab(tmp_path: Path) -> Iterator[object]:
    """Minute readings (60 s each) following the period levels from Saturday 2026-03-28 00:00
    local to Sunday 07:00 local: the night of the 28th is only 8 hours long (02:00 -> 03:00)."""
    lab = ApiLab(tmp_path, now=_local(2026, 4, 1))
    lab.sensors(sensor("vb-road-1"))
    start, end = _local(2026, 3, 28), _local(2026, 3, 29, 7)
    minutes = range(int(start), int(end), 60)
    lab.write(
        [Reading("vb-road-1", float(t), _period_level(t), duration=60.0) for t in minutes],
        received_at=end,
    )
    with lab.client() as client:
        yield client


def test_indicators_per_local_date_over_the_spring_change(dst_lab) -> None:
    """Lday 60, Levening 55, Lnight 50 on 2026-03-28. Danish Lden = 10·log10((12·10^6 +
    3·10^((55+5)/10) + 9·10^((50+10)/10))/24) = 60.00 dB; Ldn = 10·log10((12·10^6 + 3·10^5.5
    + 9·10^6)/24) = 59.38 dB (day+evening 07-22 = 15 h: 10·log10((12·10^6+3·10^5.5)/15) =
    59.32; then (15·10^5.932 + 9·10^6)/24). The 8-hour night is fully covered (coverage 1.0).
    The 29th has no evening or night data: its Lden is null."""
    body = dst_lab.get(
        "/api/v1/sensors/vb-road-1/indicators", params={"start": "2026-03-28", "end": "2026-03-30"}
    ).json()
    IndicatorsOut.model_validate(body)  # the documented response model describes the body
    first, second = body["days"]
    assert first["date"] == "2026-03-28"
    assert (first["lday"], first["levening"], first["lnight"]) == (60.0, 55.0, 50.0)
    assert first["lden"] == pytest.approx(60.00, abs=0.01)
    day_evening = 10 * math.log10((12 * 10**6 + 3 * 10**5.5) / 15)
    ldn = 10 * math.log10((15 * 10 ** (day_evening / 10) + 9 * 10**6) / 24)
    assert first["ldn"] == pytest.approx(ldn, abs=0.01)
    assert first["coverage"] == {"day": 1.0, "evening": 1.0, "night": 1.0}
    guideline = body["guideline"]  # one date with an Lden: its mean is that Lden
    assert (guideline["lden_db"], guideline["days_with_lden"]) == (58.0, 1)  # a road sensor
    assert guideline["lden_mean"] == pytest.approx(60.0, abs=0.01)
    assert guideline["above"] is True
    assert guideline["margin_db"] == pytest.approx(2.0, abs=0.01)
    assert guideline["label_en"] == "above the guideline value"
    assert "yearly" in guideline["note"]
    assert second["date"] == "2026-03-29"
    assert second["lday"] is None
    assert second["lden"] is None
    assert second["coverage"]["day"] == 0.0
    assert body["zone"] == "Europe/Copenhagen"


def test_periods_follow_the_settings(tmp_path: Path) -> None:
    """Constant 60 dB all day with the EU default evening 19-23: weights 12/4/8 and
    Lden = 10·log10((12·10^6 + 4·10^6.5 + 8·10^7)/24) = 66.40 dB (66.67 with 12/3/9)."""
    lab = ApiLab(tmp_path, now=_local(2026, 6, 10))
    lab.settings = replace(lab.settings, evening=(19, 23))
    lab.sensors(sensor("vb-road-1"))
    start, end = _local(2026, 6, 1), _local(2026, 6, 2, 7)
    lab.write(
        [
            Reading("vb-road-1", float(t), 60.0, duration=60.0)
            for t in range(int(start), int(end), 60)
        ],
        received_at=end,
    )
    with lab.client() as client:
        body = client.get(
            "/api/v1/sensors/vb-road-1/indicators",
            params={"start": "2026-06-01", "end": "2026-06-02"},
        ).json()
    assert body["periods"] == {
        "day": "07-19",
        "evening": "19-23",
        "night": "23-07",
        "weights": "12/4/8",
    }
    assert body["days"][0]["lden"] == pytest.approx(66.40, abs=0.01)


def test_daily_levels_follow_the_zone_setting(tmp_path: Path) -> None:
    """With zone UTC the 1d buckets of /levels start at UTC midnight, not Copenhagen's."""
    lab = ApiLab(tmp_path, now=T0 + 86400)
    lab.settings = replace(lab.settings, zone="UTC")
    lab.sensors(sensor("vb-road-1"))
    lab.write(steady("vb-road-1", T0, 60, 50.0), received_at=T0 + 60)
    with lab.client() as client:
        body = client.get(
            "/api/v1/sensors/vb-road-1/levels",
            params={"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z", "every": "1d"},
        ).json()
    assert [p["t"] for p in body["points"]] == ["2026-03-02T00:00:00Z"]


def test_the_guideline_judges_the_energetic_mean_of_the_days() -> None:
    """Daily Lden 60 and 70 dB: mean 10·log10((10^6 + 10^7)/2) = 67.40 dB, 9.40 above the road
    guideline of 58 dB, and not above 68 ("stærkt støjbelastet" needs more)."""
    from datetime import date

    from noiselab.analysis.periods import DayIndicators
    from noiselab.api.routes.indicators import _guideline_json

    def day(value: float | None) -> DayIndicators:
        return DayIndicators(date(2026, 6, 1), None, None, None, value, None, None, 1, 1, 1, 1)

    result = _guideline_json("road", [day(60.0), day(None), day(70.0)])
    assert result is not None
    assert result["lden_mean"] == pytest.approx(67.40, abs=0.01)
    assert result["days_with_lden"] == 2
    assert result["margin_db"] == pytest.approx(9.40, abs=0.01)
    assert result["strongly_affected"] is False
    assert _guideline_json("background", [day(70.0)]) is None


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"start": "28-03-2026"}, 422, "start"),
        ({"start": "2026-03-29", "end": "2026-03-28"}, 422, "before end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, 422, "at most"),
        ({"end": "2026-02-30"}, 422, "end"),
    ],
)
def test_bad_indicator_parameters_are_422(dst_lab, params, status, detail) -> None:
    response = dst_lab.get("/api/v1/sensors/vb-road-1/indicators", params=params)
    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_indicators_of_an_unknown_sensor_are_404(dst_lab) -> None:
    assert dst_lab.get("/api/v1/sensors/nope/indicators").status_code == 404


T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def events_lab(tmp_path: Path) -> Iterator[object]:
    """20 minutes at 50 dB with a 20-s pass-by at 80 dB starting 15 minutes in."""
    lab = ApiLab(tmp_path, now=T0 + 3600)
    lab.sensors(sensor("rail-1"))
    readings = steady("rail-1", T0, 900, 50.0) + steady("rail-1", T0 + 900, 20, 80.0)
    readings += steady("rail-1", T0 + 920, 280, 50.0)
    lab.write(readings, received_at=T0 + 1200)
    with lab.client() as client:
        yield client


def test_events_find_the_pass_by(events_lab) -> None:
    """SEL of 20 s at 80 dB = 80 + 10·log10(20) = 93.01 dB; Leq 80; lmax 80 (no LAFmax sent,
    so the highest LAeq,1s); background 50 dB; 10-dB-down duration 20 s."""
    body = events_lab.get(
        "/api/v1/sensors/rail-1/events",
        params={"start": "2026-03-02T12:00:00Z", "end": "2026-03-02T12:20:00Z"},
    ).json()
    EventsOut.model_validate(body)
    [event] = body["events"]
    assert event["start"] == "2026-03-02T12:15:00Z"
    assert event["end"] == "2026-03-02T12:15:20Z"
    assert event["lmax"] == 80.0
    assert event["lmax_is_fast"] is False
    assert event["sel"] == pytest.approx(80 + 10 * math.log10(20), abs=0.01)
    assert event["leq"] == 80.0
    assert event["background"] == 50.0
    assert event["duration_10db"] == 20.0
    assert "background" in body["method"]


def test_an_event_crossing_the_end_of_the_range_is_measured_whole(events_lab) -> None:
    """The pass-by starts at 12:15:00 and lasts 20 s; a range ending at 12:15:05 still reports
    it whole: SEL 93.01 dB, 20 s."""
    body = events_lab.get(
        "/api/v1/sensors/rail-1/events",
        params={"start": "2026-03-02T12:10:00Z", "end": "2026-03-02T12:15:05Z"},
    ).json()
    [event] = body["events"]
    assert event["duration_s"] == 20.0
    assert event["sel"] == pytest.approx(80 + 10 * math.log10(20), abs=0.01)


def test_events_outside_the_range_are_left_out(events_lab) -> None:
    body = events_lab.get(
        "/api/v1/sensors/rail-1/events",
        params={"start": "2026-03-02T12:16:00Z", "end": "2026-03-02T12:20:00Z"},
    ).json()
    assert body["events"] == []


def test_an_absolute_threshold_above_the_pass_by_finds_nothing(events_lab) -> None:
    body = events_lab.get(
        "/api/v1/sensors/rail-1/events",
        params={"start": "2026-03-02T12:00:00Z", "end": "2026-03-02T12:20:00Z", "threshold": 85},
    ).json()
    assert body["events"] == []
    assert "85 dB" in body["method"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"threshold": "200"}, "threshold"),
        ({"threshold": "loud"}, "threshold"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "at most 7 days"),
        ({"start": "yesterday"}, "start"),
    ],
)
def test_bad_event_parameters_are_422(events_lab, params, detail) -> None:
    response = events_lab.get("/api/v1/sensors/rail-1/events", params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"]
