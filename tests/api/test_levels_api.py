"""``/api/v1/sensors/{id}/levels`` on real SQLite files: readings written through
``SqliteStore.write``, sensors through ``MetadataStore``, requests through FastAPI's ``TestClient``
(lifespan included). Buckets from 1 s to local days, and the Grafana epoch-millisecond times the
levels, events and indicators routes take.

Expected levels are energetic means worked out by hand in each test's docstring. The sensor
routes are tested in ``test_sensors_api.py``, refused parameters in
``test_level_parameters_api.py``, health, metrics and settings in ``test_operations_api.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab, staff
from support.levels_api import T0, rfc3339
from support.readings import sensor, steady

from noiselab.api.schemas.sensors import PERCENTILES_NOTE, LevelsOut
from noiselab.model import Reading

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


# --------------------------------------------------------------------------- levels


def levels(client: TestClient, **params: str) -> dict:
    response = client.get("/api/v1/sensors/vb-road-1/levels", params=params, headers=staff(client))
    assert response.status_code == 200, response.text
    LevelsOut.model_validate(response.json())  # the documented shape, nothing more
    return response.json()


def test_levels_per_minute(levels_lab):
    """Each minute holds one steady level: LAeq = L10 = L50 = L90 = that level, coverage 1."""
    body = levels(levels_lab, start=rfc3339(T0), end=rfc3339(T0 + 300), every="1m")
    assert body["sensor_id"] == "vb-road-1"
    assert (body["every"], body["start"], body["end"]) == ("1m", rfc3339(T0), rfc3339(T0 + 300))
    assert body["points"] == [
        {
            "t": rfc3339(T0),
            "laeq": 60.0,
            "lafmax": 65.0,
            "l10": 60.0,
            "l50": 60.0,
            "l90": 60.0,
            "coverage": 1.0,
            "excluded_s": 0.0,
        },
        {
            "t": rfc3339(T0 + 60),
            "laeq": 70.0,
            "lafmax": 75.0,
            "l10": 70.0,
            "l50": 70.0,
            "l90": 70.0,
            "coverage": 1.0,
            "excluded_s": 0.0,
        },
    ]
    assert (body["weather"], body["as_measured"]) == ("exclude", False)
    assert body["excluded_s"] == {"correction": 0.0, "annotation": 0.0, "weather": 0.0}


def test_levels_say_why_percentiles_are_missing_for_long_readings(lab):
    """A DNMS-like sensor reports LAeq over 145-s intervals: its buckets keep the energetic
    LAeq (two readings, 50 and 60 dB: 10·log10((145·10^5 + 145·10^6) / 290) = 57.40 dB) but
    L10/L50/L90 are null, and the answer says why. A 1-s sensor's answer has no note."""
    lab.sensors(sensor("dnms-1"), sensor("vb-road-1"))
    lab.write(
        [
            Reading(sensor_id="dnms-1", ts=T0, laeq=50.0, duration=145.0),
            Reading(sensor_id="dnms-1", ts=T0 + 145, laeq=60.0, duration=145.0),
            *steady("vb-road-1", T0, 60, 60.0),
        ],
        received_at=T0 + 300,
    )
    with lab.client() as client:
        window = {"start": rfc3339(T0), "end": rfc3339(T0 + 900), "every": "15m"}
        body = client.get("/api/v1/sensors/dnms-1/levels", params=window).json()
        LevelsOut.model_validate(body)
        [point] = body["points"]
        assert (point["laeq"], point["l10"], point["l50"], point["l90"]) == (57.4, None, None, None)
        assert point["coverage"] == round(290 / 900, 4)
        assert body["notes"] == [PERCENTILES_NOTE]
        assert "cannot be computed" in body["notes"][0]
        steady_body = client.get("/api/v1/sensors/vb-road-1/levels", params=window).json()
        assert steady_body["points"][0]["l50"] == 60.0
        assert steady_body["notes"] == []


def test_levels_per_second(levels_lab):
    body = levels(levels_lab, start=rfc3339(T0 + 55), end=rfc3339(T0 + 65), every="1s")
    assert [p["t"] for p in body["points"]] == [rfc3339(T0 + 55 + i) for i in range(10)]
    assert [p["laeq"] for p in body["points"]] == [60.0] * 5 + [70.0] * 5
    assert {p["coverage"] for p in body["points"]} == {1.0}


def test_levels_per_five_minutes_is_an_energetic_mean(levels_lab):
    """One 5-min bucket holds 60 s at 60 dB and 60 s at 70 dB:
    LAeq = 10·log10((60·10^6 + 60·10^7) / 120) = 67.4036 -> 67.40 dB (not 65, the arithmetic
    mean); coverage = 120 s / 300 s = 0.4; LAFmax = 75; L10 = 70 and L90 = 60 dB."""
    body = levels(levels_lab, start=rfc3339(T0 - 600), end=rfc3339(T0 + 600), every="5m")
    (point,) = body["points"]
    expected = 10 * math.log10((60 * 10**6 + 60 * 10**7) / 120)
    assert point["laeq"] == round(expected, 2) == 67.40
    assert point["t"] == rfc3339(T0)
    assert point["coverage"] == 0.4
    assert point["lafmax"] == 75.0
    assert (point["l10"], point["l90"]) == (70.0, 60.0)


def test_levels_default_to_the_last_24_hours_in_minutes(levels_lab, lab):
    """Now is T0 + 3600 s, so the default window [now - 24 h, now) holds both minutes."""
    body = levels(levels_lab)
    assert (body["every"], body["end"]) == ("1m", rfc3339(lab.clock.now))
    assert body["start"] == rfc3339(lab.clock.now - 86400)
    assert [p["laeq"] for p in body["points"]] == [60.0, 70.0]
    only_end = levels(levels_lab, end=rfc3339(T0 + 60))
    assert only_end["start"] == rfc3339(T0 + 60 - 86400)
    assert [p["laeq"] for p in only_end["points"]] == [60.0]


def test_offsets_are_converted_to_utc(levels_lab):
    body = levels(levels_lab, start="2026-03-02T13:00:00+01:00", end="2026-03-02T13:01:00.5+01:00")
    assert (body["start"], body["end"]) == (rfc3339(T0), "2026-03-02T12:01:00.500000Z")
    assert [p["laeq"] for p in body["points"]] == [60.0, 70.0]


def test_daily_levels_over_the_autumn_daylight_saving_change(lab):
    """Europe/Copenhagen leaves summer time on 2026-10-25 at 03:00 CEST, so that day lasts 25 h:
    2026-10-24 22:00Z to 2026-10-25 23:00Z.

    - 2026-10-24 (24 h from 2026-10-23 22:00Z): 12 hourly readings at 40 dB -> 40.00 dB,
      coverage 12/24 = 0.5;
    - 2026-10-25 (25 h): 12 h at 50 dB then 12 h at 60 dB -> 10·log10((12·10^5 + 12·10^6) / 24)
      = 57.40 dB, coverage 24/25 = 0.96 (it would be 1.0 on a 24-h day);
    - 2026-10-26: nothing, so no point.
    """
    lab.sensors(sensor("vb-road-1"))
    day1 = datetime(2026, 10, 23, 22, tzinfo=UTC).timestamp()
    day2 = datetime(2026, 10, 24, 22, tzinfo=UTC).timestamp()
    hourly = [
        Reading(sensor_id="vb-road-1", ts=day1 + h * 3600, laeq=40.0, duration=3600)
        for h in range(12)
    ] + [
        Reading(
            sensor_id="vb-road-1", ts=day2 + h * 3600, laeq=50.0 if h < 12 else 60.0, duration=3600
        )
        for h in range(24)
    ]
    lab.write(hourly, received_at=day2 + 86400)
    with lab.client() as client:
        body = levels(client, start="2026-10-24", end="2026-10-27", every="1d")
        hours = levels(client, start="2026-10-25", end="2026-10-26", every="1h")
    assert (body["start"], body["end"]) == ("2026-10-23T22:00:00Z", "2026-10-26T23:00:00Z")
    assert [(p["t"], p["laeq"], p["coverage"]) for p in body["points"]] == [
        ("2026-10-23T22:00:00Z", 40.0, 0.5),
        ("2026-10-24T22:00:00Z", round(10 * math.log10((12e5 + 12e6) / 24), 2), 0.96),
    ]
    assert body["points"][1]["laeq"] == 57.40
    assert len(hours["points"]) == 24  # 24 measured hours of the 25 in that local day
    assert hours["points"][-1]["t"] == "2026-10-25T21:00:00Z"


# --------------------------------------------------------------------------- Grafana epoch ms

T0_MS = int(T0 * 1000)  # 1772452800000: what Grafana's ${__from} expands to for T0


def test_levels_take_grafana_epoch_milliseconds(levels_lab):
    """start/end as epoch ms select the same window as RFC 3339: over T0..T0+120 s at 5m the
    one bucket is 10·log10((60·10^6 + 60·10^7)/120) = 67.40 dB, coverage 120/300 = 0.4."""
    body = levels(levels_lab, start=str(T0_MS), end=str(T0_MS + 120_000), every="5m")
    assert (body["start"], body["end"]) == ("2026-03-02T12:00:00Z", "2026-03-02T12:02:00Z")
    [point] = body["points"]
    assert (point["t"], point["laeq"], point["coverage"]) == ("2026-03-02T12:00:00Z", 67.4, 0.4)
    same = levels(levels_lab, start="2026-03-02T12:00:00Z", end="2026-03-02T12:02:00Z", every="5m")
    assert same["points"] == body["points"]


def test_events_take_grafana_epoch_milliseconds(levels_lab):
    """Above an absolute 65 dB the 70-dB minute is one event: 60 s long, LAeq 70 dB, SEL
    70 + 10·log10(60) = 87.78 dB."""
    response = levels_lab.get(
        "/api/v1/sensors/vb-road-1/events",
        params={"start": str(T0_MS), "end": str(T0_MS + 3_600_000), "threshold": "65"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["start"], body["end"]) == ("2026-03-02T12:00:00Z", "2026-03-02T13:00:00Z")
    [event] = body["events"]
    assert (event["start"], event["leq"], event["sel"]) == ("2026-03-02T12:01:00Z", 70.0, 87.78)


@pytest.fixture
def day_lab(lab: ApiLab) -> Iterator[TestClient]:
    """Minute readings at a steady 60 dB over local 2026-03-02 00:00 to 03-03 07:00 (UTC+1)."""
    lab.sensors(sensor("vb-road-1"))
    first = datetime(2026, 3, 1, 23, 0, tzinfo=UTC).timestamp()
    minutes = range(int(first), int(first + 31 * 3600), 60)
    lab.write([Reading("vb-road-1", float(t), 60.0, duration=60.0) for t in minutes], T0)
    with lab.client() as client:
        yield client


def _indicator_dates(client: TestClient, start: str, end: str) -> list[str]:
    response = client.get(
        "/api/v1/sensors/vb-road-1/indicators", params={"start": start, "end": end}
    )
    assert response.status_code == 200, response.text
    return [day["date"] for day in response.json()["days"]]


@pytest.mark.parametrize(
    ("start", "end", "dates"),
    [
        # 10:00Z-15:00Z on 03-02 is 11:00-16:00 local: that date only (end rounds up).
        (str(T0_MS - 7_200_000), str(T0_MS + 10_800_000), ["2026-03-02"]),
        # end at local midnight (23:00Z) is exclusive; a millisecond later includes 03-03.
        ("2026-03-02T00:00:00+01:00", "2026-03-02T23:00:00Z", ["2026-03-02"]),
        ("2026-03-02T00:00:00+01:00", "2026-03-02T23:00:00.001Z", ["2026-03-02", "2026-03-03"]),
        # start 23:30Z on 03-01 is 00:30 local on 03-02: the local date, not the UTC one.
        ("2026-03-01T23:30:00Z", "2026-03-03", ["2026-03-02"]),
        ("2026-03-02", "2026-03-03", ["2026-03-02"]),
    ],
)
def test_indicators_map_instants_to_local_dates(day_lab, start, end, dates):
    assert _indicator_dates(day_lab, start, end) == dates


def test_indicators_by_epoch_milliseconds_match_the_dates(day_lab):
    """Steady 60 dB: Lden = 10·log10((12·10^6 + 3·10^6.5 + 9·10^7)/24) = 66.67 dB; the row's t
    is local midnight of 2026-03-02 in UTC (23:00Z the day before, winter time)."""
    by_ms = day_lab.get(
        "/api/v1/sensors/vb-road-1/indicators",
        params={"start": str(T0_MS), "end": str(T0_MS + 1000)},
    ).json()
    by_date = day_lab.get(
        "/api/v1/sensors/vb-road-1/indicators", params={"start": "2026-03-02", "end": "2026-03-03"}
    ).json()
    assert by_ms == by_date
    [day] = by_ms["days"]
    assert (day["date"], day["t"], day["lden"]) == ("2026-03-02", "2026-03-01T23:00:00Z", 66.67)
    assert (day["coverage_day"], day["coverage_evening"], day["coverage_night"]) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    "path", ["levels?every=15m&", "events?", "indicators?"], ids=["levels", "events", "indicators"]
)
def test_epoch_seconds_are_refused_with_a_readable_422(levels_lab, path):
    """Ten digits are epoch seconds, not Grafana's milliseconds: refused, never misread as
    a time in January 1970."""
    response = levels_lab.get(f"/api/v1/sensors/vb-road-1/{path}start=1772452800")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("start: '1772452800' is not an RFC 3339 time")
    assert "epoch milliseconds" in detail
