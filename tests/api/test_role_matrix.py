"""Every endpoint x every role: allowed, 401, 403 or 404, from one explicit table.

``ROWS`` holds one :class:`Row` per request to make: a method, a route's path template, the
values of its path parameters, and the status class each role expects. Roles:

- ``public``: no ``Authorization`` header;
- ``bad_key``: a well-formed key that does not exist;
- ``vendor``: a vendor key owning the private sensor ``vb-acme-1``;
- ``other_vendor``: a vendor key owning nothing (``vb-acme-1`` is hidden from it);
- ``staff`` and ``admin``;
- ``sensor``: a sensor key for ``esp8266-1``, which may push readings and otherwise sees what the
  public sees.

Expected values: ``OK`` (any 2xx), or 401, 403, 404 exactly.
:func:`test_every_route_is_in_the_table` fails when the app has a route (method and path
template) that no row names, and when a row names a route the app does not have, so a new
endpoint cannot be added without deciding who may call it. Path parameters may name
placeholders (``OWN_TRIAL``, ``RULE``, ...) that the fixture replaces by ids it created;
``DOOMED_*`` ones get a new resource per request, for rows that delete it. Adding a row is a
line::

    Row("GET", "/api/v1/things/{thing_id}", {"thing_id": "t1"}, expect=staff_only()),
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import BaseRoute
from support.lab import ApiLab, headers_by_name
from support.outbox import dead_delivery

from noiselab.api.app import create_app
from noiselab.api.settings import ApiSettings
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROLES = ("public", "bad_key", "vendor", "other_vendor", "staff", "admin", "sensor")
OK = "2xx"
Expect = dict[str, str | int]

PUBLIC_SENSOR = "vb-road-1"
PRIVATE_SENSOR = "vb-acme-1"  # owned by the `vendor` key
UNKNOWN_SENSOR = "vb-nowhere"
PUSHING_SENSOR = "esp8266-1"  # the `sensor` key's
PUSH_BODY: dict[str, Any] = {
    "software_version": "NRZ-2020-133",
    "sensordatavalues": [{"value_type": "noise_LAeq", "value": "54.52"}],
}
# Placeholders in path parameters, replaced by ids the fixture creates:
REVOKED_KEY = "<revocable key>"  # a staff key nobody uses
OWN_TRIAL = "<acme trial>"  # a trial of the `vendor` key's vendor ("acme")
DOOMED_TRIAL = "<trial to delete>"
RULE = "<rule>"
DOOMED_RULE = "<rule to delete>"
DEAD_DELIVERY = "<dead webhook delivery>"  # a new one per request: a retry revives it
CORRECTION = "<correction>"
DOOMED_CORRECTION = "<correction to withdraw>"  # a new one per request: withdrawn only once
UNKNOWN_ID = "999999"
BAD_KEY = "nl_0123456789abcdef_" + "x" * 43


def anyone() -> Expect:
    """Public endpoint: everyone, but a presented key must be valid."""
    return dict.fromkeys(ROLES, OK) | {"bad_key": 401}


def open_to_all() -> Expect:
    """No key check at all (probes): a bad key does not matter."""
    return dict.fromkeys(ROLES, OK)


def hidden_from_public() -> Expect:
    """A private sensor: its vendor, staff and admin; everyone else 404 (like unknown)."""
    return {
        "public": 404,
        "bad_key": 401,
        "vendor": OK,
        "other_vendor": 404,
        "staff": OK,
        "admin": OK,
        "sensor": 404,
    }


def not_found() -> Expect:
    """An unknown resource: 404 for every valid caller."""
    return dict.fromkeys(ROLES, 404) | {"bad_key": 401}


def roles_only(*allowed: str, missing: int | None = None) -> Expect:
    """Keys of ``allowed`` roles (with ``missing``: the resource is unknown, so that status);
    other keys 403; no key or a bad one 401."""
    expect: Expect = {"public": 401, "bad_key": 401}
    for role in ("vendor", "other_vendor", "staff", "admin", "sensor"):
        role_name = "vendor" if role == "other_vendor" else role
        if role_name in allowed:
            expect[role] = OK if missing is None else missing
        else:
            expect[role] = 403
    return expect


def keyed() -> Expect:
    """Any valid key; no key or a bad one 401."""
    return roles_only("vendor", "staff", "admin")


def keyed_not_found() -> Expect:
    """An unknown resource behind any key: 404 for every key, 401 without a valid one."""
    return roles_only("vendor", "staff", "admin", missing=404)


def own_trial() -> Expect:
    """A vendor's trial: that vendor, staff and admin; another vendor 404 (like unknown)."""
    return keyed() | {"other_vendor": 404}


def staff_only() -> Expect:
    return roles_only("staff", "admin")


def admin_only() -> Expect:
    return roles_only("admin")


def staff_not_found() -> Expect:
    return roles_only("staff", "admin", missing=404)


@dataclass(frozen=True)
class Row:
    """One request of the matrix: ``path`` is the route's template, ``params`` fill it;
    ``query`` and ``body`` are sent as given; ``expect`` maps each role to OK/401/403/404."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    expect: Expect = field(default_factory=anyone)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        url = self.path
        for name, value in self.params.items():
            url = url.replace("{" + name + "}", value)
        return f"{self.method} {url}"


S = "/api/v1/sensors/{sensor_id}"
PUB, PRIV, UNK = (
    {"sensor_id": PUBLIC_SENSOR},
    {"sensor_id": PRIVATE_SENSOR},
    {"sensor_id": UNKNOWN_SENSOR},
)
WEEK = {"start": "2026-03-01", "end": "2026-03-03"}
T = "/api/v1/trials/{trial_id}"
R = "/api/v1/alert-rules/{rule_id}"
D = "/api/v1/alerts/deliveries/{delivery_id}/retry"
TRIAL_BODY: dict[str, Any] = {
    "name": "Barrier at the motorway",
    "vendor": "acme",
    "treated": [PRIVATE_SENSOR],
    "control": [PUBLIC_SENSOR],
    "before_start": "2026-02-08T23:00:00Z",
    "before_end": "2026-03-01T23:00:00Z",
    "after_start": "2026-03-01T23:00:00Z",
    "after_end": "2026-03-22T23:00:00Z",
}
C = "/api/v1/corrections/{correction_id}"
CORRECTION_BODY: dict[str, Any] = {
    "sensor_id": PUBLIC_SENSOR,
    "start": "2026-03-01T10:00:00Z",
    "end": "2026-03-01T10:30:00Z",
    "kind": "exclude",
    "reason": "Road works beside the sensor",
}
WITHDRAW_BODY = {"reason": "Entered twice"}
RULE_BODY: dict[str, Any] = {
    "name": "Night LAeq,1h above 55 dB",
    "kind": "level",
    "metric": "laeq",
    "threshold": 55.0,
    "window_s": 3600,
    "local_hours": [22, 7],
}

ROWS: list[Row] = [
    # sensors
    Row("GET", "/api/v1/sensors"),
    Row("GET", S, PUB),
    Row("GET", S, PRIV, hidden_from_public()),
    Row("GET", S, UNK, not_found()),
    Row("GET", S + "/levels", PUB, query=WEEK | {"every": "1h"}),
    Row("GET", S + "/levels", PRIV, hidden_from_public(), query=WEEK | {"every": "1h"}),
    Row("GET", S + "/levels", UNK, not_found(), query=WEEK),
    Row("GET", S + "/indicators", PUB, query=WEEK),
    Row("GET", S + "/indicators", PRIV, hidden_from_public(), query=WEEK),
    Row("GET", S + "/indicators", UNK, not_found(), query=WEEK),
    Row("GET", S + "/events", PUB, query=WEEK),
    Row("GET", S + "/events", PRIV, hidden_from_public(), query=WEEK),
    Row("GET", S + "/events", UNK, not_found(), query=WEEK),
    # keys (admin)
    Row("GET", "/api/v1/keys", expect=admin_only()),
    Row("POST", "/api/v1/keys", expect=admin_only(), body={"name": "m", "role": "staff"}),
    Row("DELETE", "/api/v1/keys/{key_id}", {"key_id": REVOKED_KEY}, admin_only()),
    Row(
        "DELETE",
        "/api/v1/keys/{key_id}",
        {"key_id": "0123456789abcdef"},
        roles_only("admin", missing=404),
    ),
    # operations
    Row("GET", "/healthz", expect=open_to_all()),
    Row("GET", "/metrics", expect=open_to_all()),
    # trials (vendors read their own; staff and admin write)
    Row("GET", "/api/v1/trials", expect=keyed()),
    Row("POST", "/api/v1/trials", expect=staff_only(), body=TRIAL_BODY),
    *(
        Row("GET", T + suffix, {"trial_id": OWN_TRIAL}, own_trial())
        for suffix in ("", "/evaluation", "/daily", "/summary", "/bands", "/report", "/export.csv")
    ),
    *(
        Row("GET", T + suffix, {"trial_id": UNKNOWN_ID}, keyed_not_found())
        for suffix in ("", "/evaluation", "/daily", "/summary", "/bands", "/report", "/export.csv")
    ),
    Row("PUT", T, {"trial_id": OWN_TRIAL}, staff_only(), body=TRIAL_BODY),
    Row("PUT", T, {"trial_id": UNKNOWN_ID}, staff_not_found(), body=TRIAL_BODY),
    Row("DELETE", T, {"trial_id": DOOMED_TRIAL}, staff_only()),
    Row("DELETE", T, {"trial_id": UNKNOWN_ID}, staff_not_found()),
    # alert rules and alerts (staff)
    Row("GET", "/api/v1/alert-rules", expect=staff_only()),
    Row("POST", "/api/v1/alert-rules", expect=staff_only(), body=RULE_BODY),
    Row("GET", R, {"rule_id": RULE}, staff_only()),
    Row("GET", R, {"rule_id": UNKNOWN_ID}, staff_not_found()),
    Row("PUT", R, {"rule_id": RULE}, staff_only(), body=RULE_BODY),
    Row("PUT", R, {"rule_id": UNKNOWN_ID}, staff_not_found(), body=RULE_BODY),
    Row("DELETE", R, {"rule_id": DOOMED_RULE}, staff_only()),
    Row("DELETE", R, {"rule_id": UNKNOWN_ID}, staff_not_found()),
    Row("POST", R + "/secret", {"rule_id": RULE}, staff_only()),
    Row("POST", R + "/secret", {"rule_id": UNKNOWN_ID}, staff_not_found()),
    Row("GET", "/api/v1/alerts", expect=staff_only()),
    Row("GET", "/api/v1/alerts/deliveries", expect=staff_only(), query={"status": "dead"}),
    Row("POST", D, {"delivery_id": DEAD_DELIVERY}, staff_only()),
    Row("POST", D, {"delivery_id": UNKNOWN_ID}, staff_not_found()),
    Row("GET", "/api/v1/alerts/{alert_id}", {"alert_id": UNKNOWN_ID}, staff_not_found()),
    Row(
        "POST",
        "/api/v1/alerts/{alert_id}/acknowledge",
        {"alert_id": UNKNOWN_ID},
        staff_not_found(),
        body={"note": "checked"},
    ),
    Row(
        "POST",
        "/api/v1/alerts/{alert_id}/resolve",
        {"alert_id": UNKNOWN_ID},
        staff_not_found(),
        body={"note": "checked"},
    ),
    # corrections of stored data (staff)
    Row("GET", "/api/v1/corrections", expect=staff_only()),
    Row("POST", "/api/v1/corrections", expect=staff_only(), body=CORRECTION_BODY),
    Row("GET", C, {"correction_id": CORRECTION}, staff_only()),
    Row("GET", C, {"correction_id": UNKNOWN_ID}, staff_not_found()),
    Row(
        "POST",
        C + "/withdraw",
        {"correction_id": DOOMED_CORRECTION},
        staff_only(),
        body=WITHDRAW_BODY,
    ),
    Row(
        "POST",
        C + "/withdraw",
        {"correction_id": UNKNOWN_ID},
        staff_not_found(),
        body=WITHDRAW_BODY,
    ),
    # staff views
    Row("GET", "/api/v1/quarantine", expect=staff_only()),
    Row("GET", "/api/v1/quarantine/{entry_id}", {"entry_id": UNKNOWN_ID}, staff_not_found()),
    Row("GET", "/api/v1/health/sensors", expect=staff_only()),
    Row("GET", "/api/v1/health", expect=staff_only()),
    # the public map
    Row("GET", "/api/v1/map"),
    Row("GET", "/api/v1/map/rows"),
    Row("GET", "/api/v1/map/config"),
    Row("GET", "/api/v1/map/lines", expect=open_to_all()),
    Row("GET", "/api/v1/map/surface"),
    Row("GET", "/api/v1/map/surface.png", query={"period": "year"}),
    Row("GET", "/api/v1/map/estimate", query={"lat": "55.6267", "lon": "12.3867"}),
    Row("GET", "/", expect=open_to_all()),
    Row("GET", "/map", expect=open_to_all()),
    Row("GET", "/static/{path:path}", {"path:path": "map.js"}, open_to_all()),
    # devices pushing over HTTP (sensor keys)
    Row(
        "POST",
        "/api/v1/push/sensor-community",
        expect=roles_only("sensor"),
        body=PUSH_BODY,
        headers={"X-Sensor": PUSHING_SENSOR},
    ),
]


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
    lab = ApiLab(tmp_path_factory.mktemp("matrix"), public_rate_per_s=1e6, public_burst=1_000_000)
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
            "sensor": lab.key("sensor", "diy", sensors=(PUSHING_SENSOR,)),
        }
        revocable = lab.key("staff", "to revoke").id
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
        fresh = {
            DOOMED_TRIAL: lambda: created("/api/v1/trials", TRIAL_BODY),
            DOOMED_RULE: lambda: created("/api/v1/alert-rules", RULE_BODY),
            DEAD_DELIVERY: lambda: str(dead_delivery(meta, PUBLIC_SENSOR)),
            DOOMED_CORRECTION: lambda: created("/api/v1/corrections", CORRECTION_BODY),
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
