"""The weather routes over HTTP on real SQLite files: a station pushing observations (stored,
re-sent idempotently, conflicts and bad values quarantined, the exclusion spans recorded) and
staff reading stations and observations back."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab

from noiselab.api.routes.push import WEATHER_TOPIC
from noiselab.api.schemas.weather import ObservationsOut, WeatherPushOut, WeatherStationOut
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore
from noiselab.weather import WeatherSpans

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
T0 = NOW - 3600  # 11:00Z
PUSH = "/api/v1/push/weather"
OBS = "/api/v1/weather/stations/vb-weather/observations"


class Setup(ApiLab):
    """A station ``vb-weather`` (10 m) serving ``kbm-25m``; keys: the station's sensor key,
    one for another device, staff and vendor; the app's clock at ``NOW``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=NOW)
        with self.meta() as meta:
            self.sensors(Sensor(id="kbm-25m", name="road", source="road", public=True))
            self.weather_station("vb-weather")
            meta.weather.assign("kbm-25m", "vb-weather")
            self.keys = {
                "station": self.key("sensor", "mast", sensors=("vb-weather",)).text,
                "device": self.key("sensor", "diy", sensors=("esp8266-1",)).text,
                "staff": self.key("staff", "kommune").text,
                "vendor": self.key("vendor", "acme").text,
            }


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


@pytest.fixture
def client(setup: Setup) -> Iterator[TestClient]:
    with setup.client() as test_client:
        yield test_client


def auth(setup: Setup, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {setup.keys[who]}"}


def push(
    client: TestClient,
    setup: Setup,
    body: object,
    station: str = "vb-weather",
    who: str = "station",
):
    headers = auth(setup, who) | {"X-Station": station, "Content-Type": "application/json"}
    return client.post(PUSH, content=json.dumps(body).encode(), headers=headers)


MINUTES = [
    {"ts": T0, "wind_speed": 7.0, "wind_gust": 10.0, "temperature": 4.5},
    {"ts": T0 + 60, "wind_speed": 2.0, "precipitation": 0.0},
    {"ts": T0 + 120, "wind_speed": 2.0, "precipitation": 0.4},
]


def test_a_push_is_stored_and_marks_the_invalid_minutes(setup, client):
    response = push(client, setup, MINUTES)
    assert response.status_code == 200, response.text
    assert WeatherPushOut(**response.json()) == WeatherPushOut(
        station_id="vb-weather", stored=3, quarantined=0, reasons=[]
    )
    with MetadataStore(setup.meta_url) as meta:
        start = datetime.fromtimestamp(T0, UTC)
        spans = WeatherSpans(meta).spans("kbm-25m", start, start + timedelta(hours=1))
    assert [(s.start - T0, s.end - T0, s.reason) for s in spans] == [
        (0.0, 60.0, "wind up to 5.8 m/s at 4 m (7.0 m/s at 10 m)"),
        (120.0, 180.0, "precipitation up to 0.4 mm per observation"),
    ]


def test_a_resent_push_changes_nothing_and_a_rewrite_is_quarantined(setup, client):
    assert push(client, setup, MINUTES).status_code == 200
    again = push(client, setup, MINUTES)
    assert again.json()["stored"] == 3
    changed = push(client, setup, [MINUTES[0] | {"wind_speed": 3.0}])
    assert changed.status_code == 422
    assert changed.json()["detail"] == (
        "conflicts with stored reading: at 2026-03-02T11:00:00Z: wind_speed stored 7.0, offered 3.0"
    )
    [entry] = setup.quarantine()
    assert (entry.topic, entry.sensor_id) == (WEATHER_TOPIC, "vb-weather")
    observations = client.get(OBS, headers=auth(setup, "staff")).json()["observations"]
    assert [o["wind_speed"] for o in observations] == [7.0, 2.0, 2.0]


def test_bad_observations_are_quarantined_with_their_reasons(setup, client):
    response = push(client, setup, [MINUTES[1], {"ts": T0, "wind_direction": 400}])
    assert response.status_code == 200
    assert response.json()["quarantined"] == 1
    assert response.json()["reasons"] == [
        "wind_direction: must be at least 0 and below 360 degrees, got 400"
    ]
    refused = push(client, setup, {"wind_speed": 1})
    assert refused.status_code == 422
    assert "ts: required" in refused.json()["detail"]


def test_who_may_push_for_which_station(setup, client):
    assert push(client, setup, MINUTES, who="device").status_code == 403
    assert push(client, setup, MINUTES, who="staff").status_code == 403
    unauthorised = client.post(PUSH, content=b"{}", headers={"X-Station": "vb-weather"})
    assert unauthorised.status_code == 401
    bad = push(client, setup, MINUTES, station="Not A Station")
    assert bad.status_code == 422
    assert "X-Station" in bad.json()["detail"]


def test_an_unregistered_station_is_quarantined(setup, client, tmp_path):
    with setup.meta():
        key = setup.key("sensor", "ghost mast", sensors=("ghost-mast",)).text
    headers = {"Authorization": f"Bearer {key}", "X-Station": "ghost-mast"}
    response = client.post(PUSH, content=json.dumps(MINUTES[0]).encode(), headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("unknown weather station 'ghost-mast'")


def test_staff_list_stations_with_their_sensors(setup, client):
    response = client.get("/api/v1/weather/stations", headers=auth(setup, "staff"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    [station] = [WeatherStationOut(**row) for row in response.json()]
    assert (station.id, station.height_m, station.sensors) == ("vb-weather", 10.0, ["kbm-25m"])
    assert client.get("/api/v1/weather/stations", headers=auth(setup, "vendor")).status_code == 403
    assert client.get("/api/v1/weather/stations").status_code == 401


def test_observations_over_a_bounded_range(setup, client):
    push(client, setup, MINUTES)
    staff = auth(setup, "staff")
    response = client.get(
        OBS, params={"start": "2026-03-02T11:01:00Z", "end": "2026-03-02T12:00:00Z"}, headers=staff
    )
    assert response.status_code == 200
    body = ObservationsOut(**response.json())
    assert [o.ts.timestamp() - T0 for o in body.observations] == [60.0, 120.0]
    assert body.observations[1].precipitation == 0.4
    assert body.observations[1].wind_gust is None
    too_long = client.get(OBS, params={"start": "2025-01-01", "end": "2026-03-01"}, headers=staff)
    assert too_long.status_code == 422
    assert "366 days" in too_long.json()["detail"]
    unknown = client.get("/api/v1/weather/stations/nowhere/observations", headers=staff)
    assert unknown.status_code == 404
    assert client.get(OBS, params={"start": "yesterday"}, headers=staff).status_code == 422
