"""The levels leave out what the weather, staff annotations and corrections exclude (by
default; ``weather=include`` keeps the weather, ``as_measured=true`` gives the stored levels),
from every value of a bucket, and say how many measured seconds each cause removed — on real
SQLite files through the app's HTTP interface.

The sensor reads one-second levels over 2026-02-10 08:00-09:00 local (07:00-08:00 UTC): 70 dB
(LAFmax 75) for the first half hour, 60 dB (LAFmax 65) for the second, so the hand-computed
levels show whether the first half was left out: kept, the hour is
``10·log10((1800·10^7 + 1800·10^6) / 3600) = 10·log10(5.5·10^6) = 67.40`` dB with L10 70.0;
without it, 60.00 dB with L10 = L90 = 60.0, LAFmax 65 and coverage 0.5."""

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
from support.readings import sensor

from noiselab.api.schemas.sensors import LEFT_OUT_NOTE, LevelsOut
from noiselab.model import Reading
from noiselab.store.metadata import Calibration, MetadataStore

CPH = ZoneInfo("Europe/Copenhagen")
SENSOR = "vb-road-1"
LEVELS = f"/api/v1/sensors/{SENSOR}/levels"


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    """2026-02-``day`` ``hour``:``minute`` Copenhagen, as an aware UTC datetime."""
    return datetime(2026, 2, day, hour, minute, tzinfo=CPH).astimezone(UTC)


HOUR = {"start": at(8).isoformat(), "end": at(9).isoformat(), "every": "1h"}


@dataclass
class Api:
    client: Any
    staff: dict[str, str]
    meta: MetadataStore


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    lab = ApiLab(tmp_path, now=datetime(2026, 2, 20, tzinfo=UTC).timestamp())
    lab.sensors(sensor(SENSOR))
    t0 = at(8).timestamp()
    loud = [Reading(SENSOR, t0 + i, 70.0, 1.0, 75.0) for i in range(1800)]
    quiet = [Reading(SENSOR, t0 + i, 60.0, 1.0, 65.0) for i in range(1800, 3600)]
    lab.write(loud + quiet, received_at=t0 + 3600)
    key = lab.key("staff", "kommune")
    with MetadataStore(lab.meta_url) as meta, lab.client() as client:
        yield Api(client, key.headers, meta)


def levels(api: Api, headers: dict[str, str] | None = None, **params: str) -> dict[str, Any]:
    response = api.client.get(LEVELS, params=HOUR | params, headers=headers or {})
    assert response.status_code == 200, response.text
    body = response.json()
    LevelsOut.model_validate(body)
    return body


def windy(api: Api, start: datetime, end: datetime) -> None:
    """A weather station for the sensor whose weather made ``[start, end)`` invalid."""
    weather_spans.windy(api.meta, SENSOR, start, end)


def test_nothing_set_apart_gives_the_hour_as_measured(api: Api) -> None:
    body = levels(api)
    (hour,) = body["points"]
    assert (hour["laeq"], hour["lafmax"], hour["l10"], hour["l90"]) == (67.4, 75.0, 70.0, 60.0)
    assert (hour["coverage"], hour["excluded_s"]) == (1.0, 0.0)
    assert body["excluded_s"] == {"correction": 0.0, "annotation": 0.0, "weather": 0.0}
    assert (body["weather"], body["as_measured"], body["notes"]) == ("exclude", False, [])


def test_weather_leaves_laeq_lafmax_percentiles_and_coverage(api: Api) -> None:
    """Wind over the loud half hour: 60.00 dB, LAFmax 65, L10 = L50 = L90 = 60.0, coverage
    0.5, 1,800 s left out for the weather; ``weather=include`` and ``as_measured=true`` give
    67.40 dB back."""
    windy(api, at(8), at(8, 30))
    body = levels(api)
    (hour,) = body["points"]
    assert (hour["laeq"], hour["lafmax"], hour["coverage"]) == (60.0, 65.0, 0.5)
    assert (hour["l10"], hour["l50"], hour["l90"]) == (60.0, 60.0, 60.0)
    assert hour["excluded_s"] == 1800.0
    assert body["excluded_s"] == {"correction": 0.0, "annotation": 0.0, "weather": 1800.0}
    assert body["exclusions"] == []  # weather spans are counted, not listed
    assert LEFT_OUT_NOTE in body["notes"]
    for kept in (levels(api, weather="include"), levels(api, as_measured="true")):
        (hour,) = kept["points"]
        assert (hour["laeq"], hour["lafmax"], hour["l10"], hour["coverage"]) == (67.4, 75, 70, 1)
        assert kept["excluded_s"]["weather"] == 0.0
    assert levels(api, as_measured="true")["as_measured"] is True


def test_buckets_left_out_whole_are_omitted_and_still_counted(api: Api) -> None:
    """In 15-minute buckets the two of 08:00 and 08:15 are wholly in the wind: not listed,
    their 1,800 s counted; the other two keep 60 dB with nothing left out."""
    windy(api, at(8), at(8, 30))
    body = levels(api, every="15m")
    assert [p["t"] for p in body["points"]] == ["2026-02-10T07:30:00Z", "2026-02-10T07:45:00Z"]
    assert [(p["laeq"], p["coverage"], p["excluded_s"]) for p in body["points"]] == [
        (60.0, 1.0, 0.0),
        (60.0, 1.0, 0.0),
    ]
    assert body["excluded_s"]["weather"] == 1800.0


def test_a_public_caller_gets_the_same_levels_and_cache_headers(api: Api) -> None:
    """No key: the weather is left out alike, and the settled hour may be kept 300 s."""
    windy(api, at(8), at(8, 30))
    response = api.client.get(LEVELS, params=HOUR)
    assert response.status_code == 200, response.text
    assert response.json()["points"][0]["laeq"] == 60.0
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_an_excluding_annotation_is_left_out_listed_and_counted_first(api: Api) -> None:
    """Wind 08:00-08:30 and an excluding annotation 08:15-08:45: the annotation's 1,800 s
    are counted for it (a staff decision comes first), the wind's other 900 s for the weather;
    the hour keeps 08:45-09:00, 60 dB over 900 s (coverage 0.25)."""
    windy(api, at(8), at(8, 30))
    made = api.client.post(
        "/api/v1/annotations",
        json={
            "start": at(8, 15).isoformat(),
            "end": at(8, 45).isoformat(),
            "sensor_ids": [SENSOR],
            "category": "roadworks",
            "text": "Lane closure on Køge Bugt Motorvejen",
            "exclude": True,
        },
        headers=api.staff,
    )
    assert made.status_code == 201, made.text
    body = levels(api)
    (hour,) = body["points"]
    assert (hour["laeq"], hour["coverage"], hour["excluded_s"]) == (60.0, 0.25, 2700.0)
    assert body["excluded_s"] == {"correction": 0.0, "annotation": 1800.0, "weather": 900.0}
    assert [(s["cause"], s["start"], s["end"]) for s in body["exclusions"]] == [
        ("annotation", "2026-02-10T07:15:00Z", "2026-02-10T07:45:00Z")
    ]


def test_an_offset_correction_applies_and_its_edge_drops_the_percentiles(api: Api) -> None:
    """-10 dB over 08:00-08:30 (the loud half): the hour is 60.00 dB with LAFmax 65 (75 - 10
    = 65 too); the offset ends inside the hour, so L10/L50/L90 are null and the answer says
    why. The 08:00 15-minute bucket lies under it: 60.0 for LAeq and L10."""
    made = api.client.post(
        "/api/v1/corrections",
        json={
            "sensor_id": SENSOR,
            "start": at(8).isoformat(),
            "end": at(8, 30).isoformat(),
            "kind": "offset",
            "offset_db": -10.0,
            "reason": "Microphone read 10 dB high after the storm",
        },
        headers=api.staff,
    )
    assert made.status_code == 201, made.text
    body = levels(api)
    (hour,) = body["points"]
    assert (hour["laeq"], hour["lafmax"], hour["l10"], hour["excluded_s"]) == (60, 65, None, 0)
    assert any("offset correction begins or ends" in note for note in body["notes"])
    first = levels(api, every="15m")["points"][0]
    assert (first["laeq"], first["l10"], first["l90"]) == (60.0, 60.0, 60.0)


def test_calibration_uncertain_spans_are_listed_and_not_left_out(api: Api) -> None:
    for day, before in ((9, 94.0), (12, 94.8)):
        api.meta.calibrations.add(
            Calibration(
                sensor_id=SENSOR,
                ts=at(10, day=day),
                kind="field",
                reference_db=94.0,
                before_db=before,
                after_db=94.0,
                by="J. Hansen",
            )
        )
    body = levels(api)
    assert [(s["cause"], s["start"], s["end"]) for s in body["calibration_uncertain"]] == [
        ("calibration", "2026-02-10T07:00:00Z", "2026-02-10T08:00:00Z")
    ]
    assert body["points"][0]["coverage"] == 1.0


def test_a_span_begun_days_before_the_range_still_applies(api: Api) -> None:
    """Wind from the 5th to 08:30 on the 10th: the hour asked for loses its first half as
    when the span began at 08:00."""
    windy(api, at(8, day=5), at(8, 30))
    (hour,) = levels(api)["points"]
    assert (hour["laeq"], hour["coverage"], hour["excluded_s"]) == (60.0, 0.5, 1800.0)
