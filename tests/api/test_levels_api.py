"""The HTTP API on real SQLite files: readings written through ``SqliteStore.write``, sensors
through ``MetadataStore``, requests through FastAPI's ``TestClient`` (lifespan included).

Expected levels are energetic means worked out by hand in each test's docstring.
"""

from __future__ import annotations

import math
import sqlite3
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab, staff
from support.readings import sensor, steady

from noiselab.api.app import create_app
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.sensors import PERCENTILES_NOTE, LevelsOut
from noiselab.api.settings import ApiSettings
from noiselab.errors import ConfigError
from noiselab.model import Reading, Rejection
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import MAX_POINTS

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()  # a whole 5-minute boundary
"""A Monday noon (UTC), far from daylight-saving changes."""


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def lab(tmp_path: Path) -> ApiLab:
    return ApiLab(tmp_path, now=T0 + 3600)


@pytest.fixture
def levels_lab(lab: ApiLab) -> Iterator[TestClient]:
    """vb-road-1: 60 s at 60 dB (LAFmax 65) from T0, then 60 s at 70 dB (LAFmax 75)."""
    lab.sensors(sensor("vb-road-1"), sensor("vb-private-1", public=False))
    lab.write(
        steady("vb-road-1", T0, 60, 60.0, lafmax=65.0)
        + steady("vb-road-1", T0 + 60, 60, 70.0, lafmax=75.0),
        received_at=T0 + 120,
    )
    with lab.client() as client:
        yield client


# --------------------------------------------------------------------------- sensors


def test_list_shows_public_sensors_with_status_and_last_seen(lab):
    """Now = T0 + 3600 s; stale after 120 s, offline after 3600 s."""
    names = ["fresh", "edge", "stale", "gone", "never"]
    lab.sensors(*(sensor(f"vb-{n}") for n in names), sensor("vb-hidden", public=False))
    now = lab.clock.now
    lab.write(steady("vb-fresh", now - 30, 10, 50.0), received_at=now - 10)
    lab.write(steady("vb-edge", now - 200, 10, 50.0), received_at=now - 120)
    lab.write(steady("vb-stale", now - 700, 10, 50.0), received_at=now - 600)
    lab.write(steady("vb-gone", now - 9000, 10, 50.0), received_at=now - 7200)
    lab.write(steady("vb-hidden", now - 30, 10, 50.0), received_at=now - 10)
    with lab.client() as client:
        response = client.get("/api/v1/sensors")
    assert response.status_code == 200
    by_id = {s["id"]: s for s in response.json()}
    assert sorted(by_id) == sorted(f"vb-{n}" for n in names)
    assert {k: s["status"] for k, s in by_id.items()} == {
        "vb-fresh": "online",
        "vb-edge": "online",
        "vb-stale": "stale",
        "vb-gone": "offline",
        "vb-never": "offline",
    }
    assert by_id["vb-fresh"]["last_seen"] == rfc3339(now - 20)  # end of the latest reading
    assert by_id["vb-gone"]["last_seen"] == rfc3339(now - 8990)
    assert by_id["vb-never"]["last_seen"] is None
    assert by_id["vb-fresh"] | {"status": None, "last_seen": None} == {
        "id": "vb-fresh",
        "name": "Sensor vb-fresh",
        "lat": 55.6242,
        "lon": 12.388,
        "source": "road",
        "status": None,
        "last_seen": None,
    }


def test_status_follows_the_clock(lab):
    lab.sensors(sensor("vb-road-1"))
    lab.write(steady("vb-road-1", T0, 1, 50.0), received_at=T0)
    with lab.client() as client:
        statuses = []
        for age in (0, 120, 121, 3600, 3601):
            lab.clock.now = T0 + age
            statuses.append(client.get("/api/v1/sensors/vb-road-1").json()["status"])
    assert statuses == ["online", "online", "stale", "stale", "offline"]


def test_one_sensor_and_404s(levels_lab):
    response = levels_lab.get("/api/v1/sensors/vb-road-1")
    assert response.status_code == 200
    assert response.json()["description"] == ""
    assert response.json()["last_seen"] == rfc3339(T0 + 120)
    for path in ("nope", "vb-private-1", "UPPER", "x", quote("a/b", safe=""), "%00"):
        response = levels_lab.get(f"/api/v1/sensors/{path}")
        assert response.status_code == 404, path
    assert levels_lab.get("/api/v1/sensors/x").json() == {"detail": "unknown sensor 'x'"}
    assert levels_lab.get("/api/v1/sensors/vb-private-1/levels").status_code == 404
    assert levels_lab.get("/api/v1/sensors/nope/levels?every=1h").json() == {
        "detail": "unknown sensor 'nope'"
    }


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
        },
        {
            "t": rfc3339(T0 + 60),
            "laeq": 70.0,
            "lafmax": 75.0,
            "l10": 70.0,
            "l50": 70.0,
            "l90": 70.0,
            "coverage": 1.0,
        },
    ]


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


# --------------------------------------------------------------------------- bad input

BAD_LEVELS = [
    ({"every": "2m"}, 422, "every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"),
    ({"every": ""}, 422, "every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"),
    ({"every": "1M"}, 422, "every: must be one of"),
    ({"start": "yesterday"}, 422, "start: 'yesterday' is not an RFC 3339 time"),
    ({"start": "2026-03-02T12:00:00"}, 422, "start: '2026-03-02T12:00:00' has no UTC offset"),
    ({"end": "2026-03-02 12:00"}, 422, "end: '2026-03-02 12:00' is not an RFC 3339 time"),
    ({"start": "2026-02-30"}, 422, "start: '2026-02-30' is not a valid time"),
    ({"start": "2026-03-02T25:00:00Z"}, 422, "is not a valid time"),
    ({"start": "2026-03-02T23:59:60Z"}, 422, "is not a valid time"),
    ({"start": "2026-03-02T12:00:00+24:00"}, 422, "is not a valid time"),
    ({"start": "1772452800"}, 422, "is not an RFC 3339 time"),
    ({"start": "\uff12\uff10\uff12\uff16-03-02"}, 422, "is not an RFC 3339 time"),
    ({"start": "x" * 5000}, 422, "xxx...' is not an RFC 3339 time"),
    ({"start": "2026-03-03T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, 422, "start: must be"),
    ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00+01:00"}, 422, "before end"),
    ({"end": "1970-01-01T12:00:00Z"}, 422, "start: 1969-12-31T12:00:00Z is outside 1970-"),
    ({"start": "1969-12-31", "end": "1970-01-02"}, 422, "start: 1969-12-30T23:00:00Z is outside"),
    ({"end": "2100-01-01T00:00:01Z"}, 422, "end: 2100-01-01T00:00:01Z is outside"),
    ({"start": "9999-12-01", "end": "9999-12-31", "every": "1d"}, 422, "is outside"),
    ({"start": "0001-01-01T00:00:00Z", "every": "1d"}, 422, "is outside"),
    ({"end": "0001-01-01T00:00:00+01:00"}, 422, "end: '0001-01-01T00:00:00+01:00' is not a"),
    ({"start": "9999-12-31T23:59:59-01:00"}, 422, "is not a valid time"),
    (
        {"start": "1970-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z", "every": "1h"},
        400,
        f"more than {MAX_POINTS}",
    ),
    (
        {"start": "2026-03-01", "end": "2026-03-03", "every": "1s"},
        400,
        "choose a coarser 'every' or a shorter range",
    ),
]


@pytest.mark.parametrize(("params", "status", "detail"), BAD_LEVELS)
def test_bad_level_parameters_are_4xx_with_a_readable_detail(levels_lab, params, status, detail):
    response = levels_lab.get(
        "/api/v1/sensors/vb-road-1/levels", params=params, headers=staff(levels_lab)
    )
    assert response.status_code == status, response.text
    assert detail in ErrorOut.model_validate(response.json()).detail


def test_validation_errors_keep_fastapis_list(levels_lab):
    body = levels_lab.get("/api/v1/sensors/vb-road-1/levels?every=2m").json()
    assert body["errors"][0]["loc"] == ["query", "every"]


def test_unknown_paths_and_methods_are_4xx(levels_lab):
    assert levels_lab.get("/api/v1/nothing").status_code == 404
    assert levels_lab.post("/api/v1/sensors").status_code == 405
    assert levels_lab.get("/api/v1/sensors/vb-road-1/levels/x").status_code == 404


def test_an_unexpected_error_is_a_logged_json_500(lab, caplog):
    app = create_app(lab.settings)

    def boom() -> None:
        raise RuntimeError("kaput")

    app.add_api_route("/boom", boom)
    with TestClient(app) as client:
        response = client.get("/boom")
        text = client.get("/metrics").text
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "kaput" in caplog.text
    assert 'noiselab_http_requests_total{method="GET",route="/boom",status="500"} 1.0' in text


@st.composite
def query_values(draw: st.DrawFn) -> str | None:
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
    times = st.datetimes(timezones=st.timezones() | st.none()).map(lambda d: d.isoformat())
    dates = st.dates().map(str)
    words = st.sampled_from(
        [
            *("1s", "1m", "5m", "15m", "1h", "1d", "Z", "now", "-1", ""),
            *("0001-01-01", "9999-12-31", "1970-01-01", "1970-01-01T00:00:00Z"),
            *("2100-01-01", "2099-12-31T23:59:59.999Z", "2100-01-01T00:00:00+00:00"),
        ]
    )
    return draw(st.none() | text | times | dates | words)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory) -> Iterator[TestClient]:
    lab = ApiLab(tmp_path_factory.mktemp("fuzz"), now=T0 + 3600)
    lab.sensors(sensor("vb-road-1"))
    lab.write(steady("vb-road-1", T0, 120, 60.0), received_at=T0 + 120)
    with lab.client() as client:
        yield client


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=query_values(), end=query_values(), every=query_values())
def test_random_parameters_never_cause_a_server_error(fuzz_client, start, end, every):
    params = {
        k: v for k, v in {"start": start, "end": end, "every": every}.items() if v is not None
    }
    response = fuzz_client.get(
        "/api/v1/sensors/vb-road-1/levels", params=params, headers=staff(fuzz_client)
    )
    assert response.status_code < 500, (params, response.text)
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str)


@settings(max_examples=100, deadline=None)
@given(sensor_id=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=80))
def test_random_sensor_ids_never_cause_a_server_error(fuzz_client, sensor_id):
    for suffix in ("", "/levels"):
        response = fuzz_client.get(
            f"/api/v1/sensors/{quote(sensor_id, safe='')}{suffix}", headers=staff(fuzz_client)
        )
        assert response.status_code < 500, (sensor_id, response.text)


# --------------------------------------------------------------------------- operations


def test_healthz_ok(levels_lab):
    assert levels_lab.get("/healthz").json() == {"status": "ok"}


def test_healthz_503_when_the_metadata_database_is_broken(lab):
    with lab.client() as client:
        with sqlite3.connect(lab.meta_url.removeprefix("sqlite:///")) as conn:
            conn.execute("DROP TABLE quarantine")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"detail": "metadata database does not answer"}


def test_a_broken_database_is_503_not_500(lab):
    lab.sensors(sensor("vb-road-1"))
    with lab.client() as client:
        with sqlite3.connect(lab.meta_url.removeprefix("sqlite:///")) as conn:
            conn.execute("DROP TABLE sensors")
        response = client.get("/api/v1/sensors")
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
    assert "Retry-After" not in response.headers  # a missing table is not worth retrying


def test_metrics_count_requests_by_route_template_and_show_gauges(levels_lab, lab):
    meta = MetadataStore(lab.meta_url)
    meta.quarantine.add(
        [
            Rejection(
                topic="noiselab/x/levels",
                sensor_id="x",
                raw=b"{}",
                reason="ts is required",
                received_at=T0,
            )
        ]
    )
    meta.close()
    levels_lab.get("/api/v1/sensors/vb-road-1/levels")
    levels_lab.get("/api/v1/sensors/vb-road-1/levels?every=2m")
    levels_lab.get("/api/v1/sensors/nope")
    levels_lab.get("/no/such/path")
    response = levels_lab.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = "/api/v1/sensors/{sensor_id}/levels"
    for line in (
        f'noiselab_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0',
        f'noiselab_http_requests_total{{method="GET",route="{route}",status="422"}} 1.0',
        'noiselab_http_requests_total{method="GET",route="/api/v1/sensors/{sensor_id}",'
        'status="404"} 1.0',
        'noiselab_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0',
        f'noiselab_http_request_duration_seconds_count{{method="GET",route="{route}"}} 2.0',
        "noiselab_sensors_registered 2.0",
        "noiselab_quarantine_rejections 1.0",
    ):
        assert line in text, line


def test_two_apps_in_one_process_have_separate_metrics(lab):
    with lab.client() as first, lab.client() as second:
        first.get("/healthz")
        assert 'route="/healthz"' in first.get("/metrics").text
        assert 'route="/healthz"' not in second.get("/metrics").text


def test_openapi_documents_the_routes(levels_lab):
    assert levels_lab.get("/docs").status_code == 200
    spec = levels_lab.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/sensors/{sensor_id}/levels"]["get"]
    assert operation["description"].startswith("Energetic LAeq")
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/LevelsOut"}
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert "/healthz" in spec["paths"]


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zone": "Mars/Olympus"}, "time zone 'Mars/Olympus'"),
        ({"stale_after_s": 0.0}, "need 0 < stale <= offline"),
        ({"stale_after_s": 600.0, "offline_after_s": 60.0}, "need 0 < stale <= offline"),
        ({"store_url": "postgres://x"}, "store URL"),
        ({"meta_url": "not a url"}, "metadata URL"),
    ],
)
def test_settings_are_validated_up_front(changes, message):
    fields = {"store_url": "sqlite:///x.db", "meta_url": "sqlite:///m.db"} | changes
    with pytest.raises(ConfigError, match=message):
        ApiSettings(**fields)


def test_creating_an_app_opens_nothing(tmp_path):
    create_app(ApiSettings(store_url=f"sqlite:///{tmp_path}/a/s.db", meta_url="sqlite:///m.db"))
    assert not (tmp_path / "a").exists()


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
