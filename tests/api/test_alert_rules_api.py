"""Alert rules over HTTP (TestClient on real SQLite files): who may call the staff endpoints,
the built-in health rules, rule CRUD and validation, and the OpenAPI document with its examples.
Alerts themselves, webhooks and ``noiselab alerts --once`` are in ``test_alerts_api.py``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.alert_office import ALERTS, RULES, T0, Office

from noiselab.api.schemas import alerts as alert_schemas
from noiselab.api.schemas.alerts import RuleOut

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NIGHT_RULE = {
    "name": "Night LAeq,15min above 55 dB",
    "kind": "level",
    "metric": "laeq",
    "window_s": 900,
    "threshold": 55.0,
    "source": "road",
    "local_hours": [22, 7],
    "min_duration_s": 300,
    "cooldown_s": 1800,
}


@pytest.fixture(scope="module")
def shared_office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    """One office for the tests whose requests are all refused (401, 403, 422) or only read
    the OpenAPI document: they change nothing, so they share its files and app."""
    return Office(tmp_path_factory.mktemp("office"))


@pytest.fixture(scope="module")
def shared_client(shared_office: Office) -> Iterator[TestClient]:
    with shared_office.client() as test_client:
        yield test_client


# --------------------------------------------------------------------------- roles


ENDPOINTS = [
    ("get", RULES, None),
    ("post", RULES, NIGHT_RULE),
    ("get", f"{RULES}/1", None),
    ("put", f"{RULES}/1", NIGHT_RULE),
    ("delete", f"{RULES}/1", None),
    ("get", ALERTS, None),
    ("get", f"{ALERTS}/1", None),
    ("post", f"{ALERTS}/1/acknowledge", {"note": "x"}),
    ("post", f"{ALERTS}/1/resolve", {"note": "x"}),
    ("get", "/api/v1/quarantine", None),
    ("get", "/api/v1/quarantine/1", None),
    ("get", "/api/v1/health/sensors", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(("who", "status"), [("public", 401), ("vendor", 403)])
def test_staff_endpoints_refuse_the_public_and_vendors(
    shared_office: Office,
    shared_client: TestClient,
    method: str,
    path: str,
    body: Any,
    who: str,
    status: int,
) -> None:
    kwargs: dict[str, Any] = {"headers": shared_office.headers[who]}
    if body is not None:
        kwargs["json"] = body
    response = shared_client.request(method.upper(), path, **kwargs)
    assert response.status_code == status, response.text
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_staff_and_admin_read_rules_and_alerts(
    office: Office, client: TestClient, who: str
) -> None:
    for path in (RULES, ALERTS, "/api/v1/quarantine", "/api/v1/health/sensors"):
        response = client.get(path, headers=office.headers[who])
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "private, no-store"


# --------------------------------------------------------------------------- rules


def test_builtin_health_rules_are_seeded(office: Office, client: TestClient) -> None:
    rules = client.get(RULES, headers=office.headers["staff"]).json()
    assert [(r["kind"], r["window_s"], r["threshold"], r["builtin"]) for r in rules] == [
        ("offline", 3600, None, True),
        ("stuck", 600, 0.0, True),
        ("quarantine_rate", 3600, 0.05, True),
        ("calibration_drift", 86400, None, True),
    ]
    for rule in rules:
        RuleOut.model_validate(rule)


def test_rule_crud(office: Office, client: TestClient) -> None:
    staff = office.headers["staff"]
    created = client.post(RULES, json=NIGHT_RULE, headers=staff)
    assert created.status_code == 201, created.text
    rule = created.json()
    secret = rule.pop("webhook_secret")
    assert secret.startswith("whsec_")
    assert rule["local_hours"] == [22, 7]
    assert rule["builtin"] is False
    assert rule["created"] == "2026-03-02T12:00:00Z"
    assert client.get(f"{RULES}/{rule['id']}", headers=staff).json() == rule  # no secret
    office.clock.now = T0 + 60
    changed = client.put(
        f"{RULES}/{rule['id']}",
        json=NIGHT_RULE | {"threshold": 50.0, "enabled": False},
        headers=staff,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["threshold"], changed.json()["enabled"]) == (50.0, False)
    assert changed.json()["updated"] == "2026-03-02T12:01:00Z"
    assert changed.json()["created"] == "2026-03-02T12:00:00Z"
    assert client.delete(f"{RULES}/{rule['id']}", headers=staff).status_code == 204
    assert client.get(f"{RULES}/{rule['id']}", headers=staff).status_code == 404
    assert client.delete(f"{RULES}/{rule['id']}", headers=staff).status_code == 404
    assert client.put(f"{RULES}/999", json=NIGHT_RULE, headers=staff).status_code == 404


def test_builtin_rules_are_disabled_not_deleted(office: Office, client: TestClient) -> None:
    staff = office.headers["staff"]
    deleted = client.delete(f"{RULES}/1", headers=staff)
    assert deleted.status_code == 409
    assert "disable" in deleted.json()["detail"]
    offline = {"name": "offline 2 h", "kind": "offline", "window_s": 7200, "enabled": False}
    changed = client.put(f"{RULES}/1", json=offline, headers=staff)
    assert changed.status_code == 200
    assert changed.json()["builtin"] is True
    other_kind = client.put(f"{RULES}/1", json=NIGHT_RULE, headers=staff)
    assert other_kind.status_code == 409


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"threshold": 200.0}, "threshold"),
        ({"metric": None}, "metric"),
        ({"local_hours": [22, 25]}, "local_hours"),
        ({"window_s": 45}, "window_s"),
        ({"sensor_ids": ["nope-1"], "source": None}, "unknown sensor"),
        ({"kind": "flood"}, "kind"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_rules_are_422_naming_the_field(
    shared_office: Office, shared_client: TestClient, change: dict[str, Any], word: str
) -> None:
    staff = shared_office.headers["staff"]
    response = shared_client.post(RULES, json=NIGHT_RULE | change, headers=staff)
    assert response.status_code == 422, response.text
    assert word in response.json()["detail"]


def test_bad_path_ids_are_422_not_500(office: Office, client: TestClient) -> None:
    staff = office.headers["staff"]
    assert client.get(f"{RULES}/abc", headers=staff).status_code == 422
    assert client.get(f"{ALERTS}/abc", headers=staff).status_code == 422
    assert client.get(ALERTS, params={"state": "closed"}, headers=staff).status_code == 422
    assert client.get(ALERTS, params={"start": "yesterday"}, headers=staff).status_code == 422


# --------------------------------------------------------------------------- OpenAPI


def test_openapi_documents_the_staff_endpoints_with_examples(shared_client: TestClient) -> None:
    spec = shared_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        RULES,
        f"{RULES}/{{rule_id}}",
        ALERTS,
        f"{ALERTS}/{{alert_id}}",
        f"{ALERTS}/{{alert_id}}/acknowledge",
        f"{ALERTS}/{{alert_id}}/resolve",
        "/api/v1/quarantine",
        "/api/v1/quarantine/{entry_id}",
        "/api/v1/health/sensors",
    ):
        for operation in paths[path].values():
            assert {"401", "403"} <= set(operation["responses"]), path
    schemas = spec["components"]["schemas"]
    for name in (
        "RuleIn",
        "RuleOut",
        "AlertOut",
        "AlertEventOut",
        "NoteIn",
        "QuarantineOut",
        "SensorHealthOut",
    ):
        assert schemas[name].get("examples"), name


@pytest.mark.parametrize("name", alert_schemas.__all__)
def test_every_model_example_is_valid(name: str) -> None:
    model = getattr(alert_schemas, name)
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)
