"""Who may call what: one row per request to make, with the status class each role expects.

The role matrix (``tests/api/test_role_matrix.py``) sends every row as every role; the
schemathesis run (``tests/api/test_schemathesis.py``) reads from it which roles an operation
refuses outright (:func:`refusals`) and which it lets through (:func:`admitted`), and checks that
no generated request of a refused role gets through.

``ROWS`` holds one :class:`Row` per request: a method, a route's path template, the values of
its path parameters, and the status class each role expects. Roles:

- ``public``: no ``Authorization`` header;
- ``bad_key``: a well-formed key that does not exist;
- ``vendor``: a vendor key owning the private sensor ``vb-acme-1``;
- ``other_vendor``: a vendor key owning nothing (``vb-acme-1`` is hidden from it);
- ``staff`` and ``admin``;
- ``sensor``: a sensor key for ``esp8266-1`` and the weather station ``vb-weather``, which may
  push readings and observations and otherwise sees what the public sees.

Expected values: ``OK`` (any 2xx), or 401, 403, 404 exactly. Path parameters may name
placeholders (``OWN_TRIAL``, ``RULE``, ...) that the matrix's fixture replaces by ids it
created; ``DOOMED_*`` ones get a new resource per request, for rows that delete it. Adding a row
is a line::

    Row("GET", "/api/v1/things/{thing_id}", {"thing_id": "t1"}, expect=staff_only()),
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANNOTATION",
    "ANNOTATION_BODY",
    "BAD_KEY",
    "CITIZEN_REPORT",
    "CITIZEN_REPORT_BODY",
    "DEAD_DELIVERY",
    "DOOMED_ANNOTATION",
    "DOOMED_CITIZEN_REPORT",
    "DOOMED_RULE",
    "DOOMED_TRIAL",
    "OK",
    "OWN_TRIAL",
    "PRIVATE_SENSOR",
    "PUBLIC_SENSOR",
    "PUSHING_SENSOR",
    "PUSHING_STATION",
    "PUSH_BODY",
    "REVOKED_KEY",
    "ROLES",
    "ROWS",
    "RULE",
    "RULE_BODY",
    "TRIAL_BODY",
    "UNKNOWN_SENSOR",
    "WEATHER_BODY",
    "WEEK",
    "Expect",
    "Row",
    "admitted",
    "refusals",
]

ROLES = ("public", "bad_key", "vendor", "other_vendor", "staff", "admin", "sensor")
OK = "2xx"
Expect = dict[str, str | int]

PUBLIC_SENSOR = "vb-road-1"
PRIVATE_SENSOR = "vb-acme-1"  # owned by the `vendor` key
UNKNOWN_SENSOR = "vb-nowhere"
PUSHING_SENSOR = "esp8266-1"  # the `sensor` key's
PUSHING_STATION = "vb-weather"  # a registered weather station the `sensor` key also lists
WEATHER_BODY: dict[str, Any] = {"ts": "2026-03-01T10:00:00Z", "wind_speed": 3.2}
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
CITIZEN_REPORT = "<citizen report>"
DOOMED_CITIZEN_REPORT = "<citizen report to handle>"  # a new one per request: handled only once
ANNOTATION = "<annotation>"
DOOMED_ANNOTATION = "<annotation to withdraw>"  # a new one per request: withdrawn only once
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
CR = "/api/v1/citizen-reports/{report_id}"
CITIZEN_REPORT_BODY: dict[str, Any] = {
    "lat": 55.6283,
    "lon": 12.3866,
    "category": "road",
    "text": "Lastbiler hele natten",
}
HANDLE_BODY = {"note": "Compared with the nearest sensor"}
W = "/api/v1/weather/stations/{station_id}/observations"
CALIBRATION_BODY: dict[str, Any] = {
    "ts": "2026-03-01T10:00:00Z",
    "reference_db": 94.0,
    "before_db": 94.2,
    "after_db": 94.0,
    "by": "J. Hansen",
}
A = "/api/v1/annotations/{annotation_id}"
ANNOTATION_BODY: dict[str, Any] = {
    "start": "2026-03-01T07:00:00Z",
    "end": "2026-03-01T15:00:00Z",
    "sensor_ids": [PUBLIC_SENSOR],
    "category": "roadworks",
    "text": "Lane closure on the motorway",
    "exclude": True,
}
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
    # citizens' reports: filed by anyone (a presented key must be valid), read by staff
    Row("POST", "/api/v1/citizen-reports", body=CITIZEN_REPORT_BODY),
    Row("GET", "/api/v1/citizen-reports", expect=staff_only()),
    Row("GET", "/api/v1/reports/{period}", {"period": "2026-02"}, expect=staff_only()),
    Row("GET", CR, {"report_id": CITIZEN_REPORT}, staff_only()),
    Row("GET", CR, {"report_id": UNKNOWN_ID}, staff_not_found()),
    Row(
        "POST",
        CR + "/handle",
        {"report_id": DOOMED_CITIZEN_REPORT},
        staff_only(),
        body=HANDLE_BODY,
    ),
    Row("POST", CR + "/handle", {"report_id": UNKNOWN_ID}, staff_not_found(), body=HANDLE_BODY),
    # weather stations and their observations (staff)
    Row("GET", "/api/v1/weather/stations", expect=staff_only()),
    Row("GET", W, {"station_id": PUSHING_STATION}, staff_only(), query=WEEK),
    Row("GET", W, {"station_id": UNKNOWN_SENSOR}, staff_not_found(), query=WEEK),
    # the calibration log of a sensor (staff)
    Row("GET", S + "/calibrations", PUB, staff_only()),
    Row("GET", S + "/calibrations", PRIV, staff_only()),
    Row("GET", S + "/calibrations", UNK, staff_not_found()),
    Row("POST", S + "/calibrations", PUB, staff_only(), body=CALIBRATION_BODY),
    Row("POST", S + "/calibrations", UNK, staff_not_found(), body=CALIBRATION_BODY),
    # annotations of periods and places (staff), and their Grafana feed
    Row("GET", "/api/v1/annotations", expect=staff_only()),
    Row("POST", "/api/v1/annotations", expect=staff_only(), body=ANNOTATION_BODY),
    Row("GET", "/api/v1/annotations/feed", expect=staff_only(), query=WEEK),
    Row("GET", A, {"annotation_id": ANNOTATION}, staff_only()),
    Row("GET", A, {"annotation_id": UNKNOWN_ID}, staff_not_found()),
    Row(
        "POST",
        A + "/withdraw",
        {"annotation_id": DOOMED_ANNOTATION},
        staff_only(),
        body=WITHDRAW_BODY,
    ),
    Row(
        "POST",
        A + "/withdraw",
        {"annotation_id": UNKNOWN_ID},
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
    Row(
        "POST",
        "/api/v1/push/weather",
        expect=roles_only("sensor"),
        body=WEATHER_BODY,
        headers={"X-Station": PUSHING_STATION},
    ),
]


REFUSED = frozenset({401, 403})


def _rows_of(method: str, path: str) -> list[Row]:
    rows = [row for row in ROWS if (row.method, row.path) == (method.upper(), path)]
    if not rows:
        raise KeyError(f"{method.upper()} {path}: no row in ROWS")
    return rows


def admitted(method: str, path: str) -> list[str]:
    """The roles past the role check of the operation ``method path``: some row lets them
    through (2xx) or answers 404 (the resource, not the operation, is refused); in the order of
    ``ROLES``. ``KeyError`` for an operation no row names."""
    rows = _rows_of(method, path)
    return [role for role in ROLES if any(row.expect[role] in (OK, 404) for row in rows)]


def refusals(method: str, path: str) -> dict[str, frozenset[int]]:
    """The roles that may not use the operation ``method path`` (a path template) at all, each
    with the statuses its rows expect for it (401 or 403): a role that some row of the operation
    lets through, or answers 404 (the resource is hidden, not the operation), is left out.
    ``KeyError`` for an operation no row names."""
    rows = _rows_of(method, path)
    found: dict[str, frozenset[int]] = {}
    for role in ROLES:
        statuses = {row.expect[role] for row in rows}
        if statuses <= REFUSED:
            found[role] = frozenset(int(status) for status in statuses)
    return found
