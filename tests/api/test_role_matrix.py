"""Every endpoint x every role: allowed, 401, 403 or 404, from one explicit table.

The table, ``ROWS`` of :mod:`support.role_table`, names the roles and what each expects from
each request. :func:`test_every_route_is_in_the_table` fails when the app has a route (method and
path template) that no row names, and when a row names a route the app does not have, so a new
endpoint cannot be added without deciding who may call it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import BaseRoute
from support.lab import ApiLab, headers_by_name
from support.outbox import dead_delivery
from support.role_table import (
    ANNOTATION,
    ANNOTATION_BODY,
    BAD_KEY,
    CITIZEN_REPORT,
    CITIZEN_REPORT_BODY,
    CORRECTION,
    CORRECTION_BODY,
    DEAD_DELIVERY,
    DOOMED_ANNOTATION,
    DOOMED_CITIZEN_REPORT,
    DOOMED_CORRECTION,
    DOOMED_RULE,
    DOOMED_TRIAL,
    OK,
    OWN_TRIAL,
    PRIVATE_SENSOR,
    PUBLIC_SENSOR,
    PUSHING_SENSOR,
    PUSHING_STATION,
    REVOKED_KEY,
    ROLES,
    ROWS,
    RULE,
    RULE_BODY,
    TRIAL_BODY,
    UNKNOWN_SENSOR,
    WEEK,
    Row,
)

from noiselab.api.app import create_app
from noiselab.api.settings import ApiSettings
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@dataclass
class Matrix:
    client: TestClient
    headers: dict[str, dict[str, str]]
    ids: dict[str, str]
    """Placeholder -> the id the fixture created."""
    fresh: dict[str, Callable[[], str]]
    """Placeholder -> makes a new resource per request (for rows that delete one)."""


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    lab = ApiLab(
        tmp_path_factory.mktemp("matrix"),
        public_rate_per_s=1e6,
        public_burst=1_000_000,
        citizen_report_burst=0,  # every role files reports: no per-address limit here
    )
    with lab.meta():
        lab.sensors(
            Sensor(id=PUBLIC_SENSOR, name="road", source="road", public=True),
            Sensor(id=PRIVATE_SENSOR, name="acme", source="road", public=False),
            Sensor(id=PUSHING_SENSOR, name="diy", source="road", public=False),
        )
        keys = {
            "vendor": lab.key("vendor", "acme", sensors=(PRIVATE_SENSOR,)),
            "other_vendor": lab.key("vendor", "other"),
            "staff": lab.key("staff", "kommune"),
            "admin": lab.key("admin", "ops"),
            "sensor": lab.key("sensor", "diy", sensors=(PUSHING_SENSOR, PUSHING_STATION)),
        }
        revocable = lab.key("staff", "to revoke").id
        lab.weather_station(PUSHING_STATION)
    headers = headers_by_name(keys) | {"bad_key": {"Authorization": f"Bearer {BAD_KEY}"}}
    with lab.client() as client, MetadataStore(lab.meta_url) as meta:
        assert client.app.state.surface.wait_ready(60)  # the living map's routes answer 503 before
        ids = {REVOKED_KEY: revocable}

        def created(path: str, body: dict[str, Any]) -> str:
            response = client.post(path, json=body, headers=headers["admin"])
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        ids[OWN_TRIAL] = created("/api/v1/trials", TRIAL_BODY)
        ids[RULE] = created("/api/v1/alert-rules", RULE_BODY)
        ids[CORRECTION] = created("/api/v1/corrections", CORRECTION_BODY)
        ids[CITIZEN_REPORT] = created("/api/v1/citizen-reports", CITIZEN_REPORT_BODY)
        ids[ANNOTATION] = created("/api/v1/annotations", ANNOTATION_BODY)
        fresh = {
            DOOMED_TRIAL: lambda: created("/api/v1/trials", TRIAL_BODY),
            DOOMED_RULE: lambda: created("/api/v1/alert-rules", RULE_BODY),
            DEAD_DELIVERY: lambda: str(dead_delivery(meta, PUBLIC_SENSOR)),
            DOOMED_CORRECTION: lambda: created("/api/v1/corrections", CORRECTION_BODY),
            DOOMED_CITIZEN_REPORT: lambda: created("/api/v1/citizen-reports", CITIZEN_REPORT_BODY),
            DOOMED_ANNOTATION: lambda: created("/api/v1/annotations", ANNOTATION_BODY),
        }
        yield Matrix(client, headers, ids, fresh)


def _walk(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of API routes, descending into included routers: FastAPI 0.16x
    includes them lazily (an ``_IncludedRouter`` holding the router and its prefix) where
    older versions copied the routes in."""
    for route in routes:
        if isinstance(route, APIRoute):
            for method in route.methods:
                yield method, prefix + route.path
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + str(getattr(context, "prefix", "")))


def app_routes() -> set[tuple[str, str]]:
    """(method, path template) of every API route of a fresh app, hidden ones included
    (HEAD excluded)."""
    app = create_app(ApiSettings(store_url="sqlite:///unused.db", meta_url="sqlite://"))
    found = {(method, path) for method, path in _walk(app.routes) if method != "HEAD"}
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= found, f"the walk missed {sorted(documented - found)}"
    return found


def test_every_route_is_in_the_table() -> None:
    table = {(row.method, row.path) for row in ROWS}
    routes = app_routes()
    assert sorted(routes - table) == [], "routes without a row in ROWS: add their expectations"
    assert sorted(table - routes) == [], "rows naming routes the app does not have"


def test_every_row_names_every_role() -> None:
    for row in ROWS:
        assert set(row.expect) == set(ROLES), row
        assert all(v in (OK, 401, 403, 404) for v in row.expect.values()), row


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=str)
def test_role_gets_the_expected_status(matrix: Matrix, row: Row, role: str) -> None:
    params = {
        name: matrix.fresh[value]() if value in matrix.fresh else matrix.ids.get(value, value)
        for name, value in row.params.items()
    }
    url = row.path
    for name, value in params.items():
        url = url.replace("{" + name + "}", value)
    response = matrix.client.request(
        row.method,
        url,
        params=row.query,
        json=row.body,
        headers=matrix.headers[role] | row.headers,
    )
    expected = row.expect[role]
    if expected == OK:
        assert 200 <= response.status_code < 300, (role, response.status_code, response.text)
    else:
        assert response.status_code == expected, (role, response.text)
        assert isinstance(response.json()["detail"], str)
        if expected == 401:
            assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", ["public", "other_vendor"])
@pytest.mark.parametrize("suffix", ["", "/levels", "/indicators", "/events"])
def test_a_hidden_sensor_reads_exactly_like_an_unknown_one(
    matrix: Matrix, role: str, suffix: str
) -> None:
    """Same status, same body (with the id swapped), same headers that matter."""

    def get(sensor_id: str) -> Any:
        url = f"/api/v1/sensors/{sensor_id}{suffix}"
        return matrix.client.get(url, params=WEEK, headers=matrix.headers[role])

    hidden, unknown = get(PRIVATE_SENSOR), get(UNKNOWN_SENSOR)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.text.replace(PRIVATE_SENSOR, UNKNOWN_SENSOR) == unknown.text
    for header in ("content-type", "cache-control", "vary"):
        assert hidden.headers.get(header) == unknown.headers.get(header)
