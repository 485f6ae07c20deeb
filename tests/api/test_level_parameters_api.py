"""Refused parameters of ``/api/v1/sensors/{id}/levels``: each bad ``start``, ``end``, ``every``,
``weather`` or ``as_measured`` is a 4xx with a readable detail, and random parameters and sensor
ids never cause a server error.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab, staff
from support.levels_api import T0
from support.readings import sensor, steady

from noiselab.api.schemas.errors import ErrorOut
from noiselab.store.sqlite import MAX_POINTS

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


# --------------------------------------------------------------------------- bad input

BAD_LEVELS = [
    ({"every": "2m"}, 422, "every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"),
    ({"every": ""}, 422, "every: must be one of 1s, 1m, 5m, 15m, 1h, 1d"),
    ({"every": "1M"}, 422, "every: must be one of"),
    ({"weather": "ignore"}, 422, "weather: input should be 'exclude' or 'include'"),
    ({"as_measured": "perhaps"}, 422, "as_measured:"),
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
@given(
    start=query_values(),
    end=query_values(),
    every=query_values(),
    weather=st.none() | st.sampled_from(["exclude", "include", "x"]),
)
def test_random_parameters_never_cause_a_server_error(fuzz_client, start, end, every, weather):
    chosen = {"start": start, "end": end, "every": every, "weather": weather}
    params = {k: v for k, v in chosen.items() if v is not None}
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
