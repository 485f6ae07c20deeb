"""The daily indicators leave out what the weather, staff annotations and corrections exclude,
say how many measured seconds each cause removed, offer ``weather=include``, and list the
"calibration uncertain" spans — on real SQLite files through real HTTP.

The sensor reads a steady 60 dB in one-minute readings over 2026-02-10 (local, UTC+1), so the
levels stay 60 dB whatever is left out and the hand-computed figures are the seconds and the
coverages: the day period is 12 h = 43,200 s, the evening 3 h = 10,800 s."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import weather_spans
from support.lab import ApiLab
from support.readings import minutes, sensor

from noiselab.api.schemas.indicators import IndicatorsOut
from noiselab.store.metadata import Calibration, MetadataStore

CPH = ZoneInfo("Europe/Copenhagen")
SENSOR = "vb-road-1"
INDICATORS = f"/api/v1/sensors/{SENSOR}/indicators"
DAY = {"start": "2026-02-10", "end": "2026-02-11"}


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """2026-02-``day`` ``hour``:``minute`` Copenhagen, as an aware UTC datetime."""
    return datetime(2026, 2, day, hour, minute, tzinfo=CPH).astimezone(UTC)


@dataclass
class Api:
    client: Any
    staff: dict[str, str]
    meta: MetadataStore


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    lab = ApiLab(tmp_path, now=datetime(2026, 2, 20, tzinfo=UTC).timestamp())
    lab.sensors(sensor(SENSOR))
    start = datetime(2026, 2, 10, tzinfo=CPH).timestamp()
    lab.write(minutes(SENSOR, start, 31 * 60, 60.0), received_at=start + 31 * 3600)
    key = lab.key("staff", "kommune")
    with MetadataStore(lab.meta_url) as meta, lab.client() as client:
        yield Api(client, key.headers, meta)


def indicators(api: Api, **params: str) -> dict[str, Any]:
    response = api.client.get(INDICATORS, params=DAY | params)
    assert response.status_code == 200, response.text
    body = response.json()
    IndicatorsOut.model_validate(body)
    return body


def windy(api: Api, start: datetime, end: datetime) -> None:
    """A weather station for the sensor whose weather made ``[start, end)`` invalid."""
    weather_spans.windy(api.meta, SENSOR, start, end)


def test_nothing_set_apart_gives_zero_seconds_and_empty_lists(api: Api) -> None:
    body = indicators(api)
    assert body["weather"] == "exclude"
    assert body["excluded_s"] == {"correction": 0.0, "annotation": 0.0, "weather": 0.0}
    assert (body["exclusions"], body["calibration_uncertain"]) == ([], [])
    assert body["days"][0]["coverage_day"] == 1.0


def test_weather_is_left_out_by_default_and_kept_on_request(api: Api) -> None:
    windy(api, at(8), at(8, 30))
    day = indicators(api)["days"][0]
    # 30 one-minute readings of the day period: 1,800 s; coverage (43,200 - 1,800) / 43,200.
    assert day["excluded_s"]["weather"] == 1800.0
    assert day["excluded_weather_s"] == 1800.0
    assert day["coverage_day"] == round(41_400 / 43_200, 4) == 0.9583
    assert day["lday"] == 60.0
    kept = indicators(api, weather="include")
    assert kept["weather"] == "include"
    assert kept["days"][0]["excluded_s"]["weather"] == 0.0
    assert kept["days"][0]["coverage_day"] == 1.0


def test_a_weather_span_off_whole_minutes_leaves_its_minutes_out_whole(api: Api) -> None:
    windy(api, at(8, 0).replace(second=20), at(8, 1).replace(second=10))
    # 08:00:20-08:01:10 touches the minutes 08:00 and 08:01: 120 s left out.
    assert indicators(api)["days"][0]["excluded_s"]["weather"] == 120.0


def test_an_excluding_annotation_is_left_out_listed_and_takes_precedence_over_weather(
    api: Api,
) -> None:
    windy(api, at(19), at(19, 30))
    made = api.client.post(
        "/api/v1/annotations",
        json={
            "start": at(19).isoformat(),
            "end": at(20).isoformat(),
            "sensor_ids": [SENSOR],
            "category": "event",
            "text": "Festival at Vallensbæk Strand",
            "exclude": True,
        },
        headers=api.staff,
    )
    assert made.status_code == 201, made.text
    body = indicators(api)
    day = body["days"][0]
    # The evening's first hour: 3,600 s, all counted for the annotation (a staff decision
    # comes first), none for the weather span inside it; evening coverage 7,200 / 10,800.
    assert day["excluded_s"] == {"correction": 0.0, "annotation": 3600.0, "weather": 0.0}
    assert day["coverage_evening"] == 0.6667
    assert day["levening"] == 60.0
    assert [(s["cause"], s["start"], s["end"]) for s in body["exclusions"]] == [
        ("annotation", "2026-02-10T18:00:00Z", "2026-02-10T19:00:00Z")
    ]
    assert "Festival" in body["exclusions"][0]["reason"]


def test_a_correction_is_counted_under_its_cause(api: Api) -> None:
    made = api.client.post(
        "/api/v1/corrections",
        json={
            "sensor_id": SENSOR,
            "start": at(23).isoformat(),
            "end": at(23, 30).isoformat(),
            "kind": "exclude",
            "reason": "Microphone cover off",
        },
        headers=api.staff,
    )
    assert made.status_code == 201, made.text
    day = indicators(api)["days"][0]
    assert day["excluded_s"]["correction"] == 1800.0
    # The night is 9 h = 32,400 s; the readings end 07:00 on the 11th, so all but 1,800 s.
    assert day["coverage_night"] == round(30_600 / 32_400, 4)


def test_calibration_uncertain_spans_are_listed_clipped_to_the_range(api: Api) -> None:
    for day, before, after in ((9, 94.0, 94.0), (12, 94.8, 94.0)):
        api.meta.calibrations.add(
            Calibration(
                sensor_id=SENSOR,
                ts=at(10, day=day),
                kind="field",
                reference_db=94.0,
                before_db=before,
                after_db=after,
                by="J. Hansen",
            )
        )
    body = indicators(api)
    # Drift 94.8 - 94.0 - (94.0 - 94.0) = +0.8 dB > 0.5 dB between the 9th and the 12th;
    # the answer's range is the 10th, 00:00-24:00 local (23:00-23:00 UTC).
    assert [(s["cause"], s["start"], s["end"]) for s in body["calibration_uncertain"]] == [
        ("calibration", "2026-02-09T23:00:00Z", "2026-02-10T23:00:00Z")
    ]
    assert "0.8" in body["calibration_uncertain"][0]["reason"]
    # Flagged, not left out.
    assert body["days"][0]["coverage_day"] == 1.0
