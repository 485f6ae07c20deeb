"""Alert rules and the alert lifecycle over HTTP (TestClient on real SQLite files), webhooks
against a real local HTTP server, and ``noiselab alerts --once`` as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab, headers_by_name

from noiselab.alerts.evaluate import Evaluator
from noiselab.alerts.webhook import WebhookNotifier
from noiselab.api.schemas import alerts as alert_schemas
from noiselab.api.schemas.alerts import AlertDetailOut, AlertOut, RuleOut
from noiselab.model import Reading, Sensor
from noiselab.store.metadata import AlertRepository, AlertRule, MetadataStore
from noiselab.store.sqlite import SqliteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
CPH = ZoneInfo("Europe/Copenhagen")
RULES, ALERTS = "/api/v1/alert-rules", "/api/v1/alerts"
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


class Office(ApiLab):
    """A store and metadata database with two sensors, keys of every role and an app whose
    clock is ``T0``; ``evaluate`` runs the evaluator at the clock's time."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=T0)
        with self.meta():
            self.sensors(
                Sensor(id="road-1", name="road 1", source="road"),
                Sensor(id="road-2", name="road 2", source="road", public=False),
            )
            keys = {
                "admin": self.key("admin", "ops"),
                "staff": self.key("staff", "kommune"),
                "vendor": self.key("vendor", "acme", sensors=("road-2",)),
            }
        self.headers = headers_by_name(keys)

    def loud(self, sensor_id: str, start: float, minutes: int, laeq: float) -> None:
        readings = [
            Reading(sensor_id=sensor_id, ts=start + 60 * i, laeq=laeq, duration=60.0)
            for i in range(minutes)
        ]
        self.write(readings, received_at=start + 60 * minutes)

    def evaluate(self) -> None:
        store, meta = SqliteStore(self.store_path), MetadataStore(self.meta_url)
        try:
            Evaluator(store, meta, zone=CPH).run(self.clock.now)
        finally:
            store.close()
            meta.close()


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return Office(tmp_path)


@pytest.fixture
def client(office: Office) -> Iterator[TestClient]:
    with office.client() as test_client:
        yield test_client


@pytest.fixture(scope="module")
def shared_office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    """One office for the tests whose requests are all refused (401, 403, 422) or only read
    the OpenAPI document: they change nothing, so they share its files and app."""
    return Office(tmp_path_factory.mktemp("office"))


@pytest.fixture(scope="module")
def shared_client(shared_office: Office) -> Iterator[TestClient]:
    with shared_office.client() as test_client:
        yield test_client


def _open_alerts(office: Office, client: TestClient) -> list[dict[str, Any]]:
    """A 15-min LAeq rule above 60 dB on road-1 and road-2, both loud (70 dB): two alerts."""
    rule = {"name": "loud", "metric": "laeq", "window_s": 900, "threshold": 60.0}
    created = client.post(RULES, json=rule, headers=office.headers["staff"])
    assert created.status_code == 201, created.text
    office.loud("road-1", T0 - 900, 15, 70.0)
    office.loud("road-2", T0 - 900, 15, 70.0)
    office.evaluate()
    alerts = client.get(
        ALERTS, params={"rule_id": created.json()["id"]}, headers=office.headers["staff"]
    )
    assert alerts.status_code == 200
    return list(alerts.json())


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
    ]
    for rule in rules:
        RuleOut.model_validate(rule)


def test_rule_crud(office: Office, client: TestClient) -> None:
    staff = office.headers["staff"]
    created = client.post(RULES, json=NIGHT_RULE, headers=staff)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["local_hours"] == [22, 7]
    assert rule["builtin"] is False
    assert rule["created"] == "2026-03-02T12:00:00Z"
    assert client.get(f"{RULES}/{rule['id']}", headers=staff).json() == rule
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


def test_a_rule_with_alerts_cannot_be_deleted(office: Office, client: TestClient) -> None:
    alerts = _open_alerts(office, client)
    deleted = client.delete(f"{RULES}/{alerts[0]['rule_id']}", headers=office.headers["staff"])
    assert deleted.status_code == 409


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


# --------------------------------------------------------------------------- alerts


def test_alerts_are_flat_rows_with_the_main_numbers(office: Office, client: TestClient) -> None:
    alerts = _open_alerts(office, client)
    assert sorted(a["sensor_id"] for a in alerts) == ["road-1", "road-2"]
    alert = alerts[0]
    AlertOut.model_validate(alert)
    assert (alert["state"], alert["value_db"], alert["threshold_db"]) == ("open", 70.0, 60.0)
    assert alert["opened_at"] == "2026-03-02T12:00:00Z"
    assert alert["unit"] == "dB"
    flat = {k: v for k, v in alert.items() if k != "evidence"}
    assert all(not isinstance(v, (dict, list)) for v in flat.values())


def test_acknowledge_and_resolve_with_notes_and_history(office: Office, client: TestClient) -> None:
    alert_id = _open_alerts(office, client)[0]["id"]
    staff, admin = office.headers["staff"], office.headers["admin"]
    office.clock.now = T0 + 120
    acked = client.post(
        f"{ALERTS}/{alert_id}/acknowledge", json={"note": "road works"}, headers=staff
    )
    assert acked.status_code == 200, acked.text
    body = AlertDetailOut.model_validate(acked.json())
    assert body.state == "acknowledged"
    assert acked.json()["acknowledged_at"] == "2026-03-02T12:02:00Z"
    again = client.post(f"{ALERTS}/{alert_id}/acknowledge", json={"note": ""}, headers=staff)
    assert again.status_code == 409
    assert "acknowledged" in again.json()["detail"]
    office.clock.now = T0 + 600
    resolved = client.post(
        f"{ALERTS}/{alert_id}/resolve", json={"note": "works done"}, headers=admin
    )
    assert resolved.status_code == 200
    assert (resolved.json()["state"], resolved.json()["open_s"]) == ("resolved", 600.0)
    twice = client.post(f"{ALERTS}/{alert_id}/resolve", json={}, headers=staff)
    assert twice.status_code == 409
    ack_late = client.post(f"{ALERTS}/{alert_id}/acknowledge", json={}, headers=staff)
    assert ack_late.status_code == 409
    history = client.get(f"{ALERTS}/{alert_id}", headers=staff).json()["history"]
    staff_id = staff["Authorization"].split("_")[1]
    admin_id = admin["Authorization"].split("_")[1]
    assert [(h["action"], h["actor"], h["actor_key_id"], h["note"], h["at"]) for h in history] == [
        ("opened", "evaluator", None, "rule 'loud' holds", "2026-03-02T12:00:00Z"),
        ("acknowledged", "kommune", staff_id, "road works", "2026-03-02T12:02:00Z"),
        ("resolved", "ops", admin_id, "works done", "2026-03-02T12:10:00Z"),
    ]


def test_unknown_alerts_are_404(office: Office, client: TestClient) -> None:
    staff = office.headers["staff"]
    assert client.get(f"{ALERTS}/999", headers=staff).status_code == 404
    assert client.post(f"{ALERTS}/999/resolve", json={}, headers=staff).status_code == 404
    long_note = client.post(f"{ALERTS}/999/resolve", json={"note": "x" * 3000}, headers=staff)
    assert long_note.status_code == 422


def test_alert_filters(office: Office, client: TestClient) -> None:
    alerts = _open_alerts(office, client)
    staff = office.headers["staff"]
    by_sensor = {a["sensor_id"]: a["id"] for a in alerts}
    client.post(f"{ALERTS}/{by_sensor['road-2']}/resolve", json={}, headers=staff)

    def ids(**params: Any) -> list[int]:
        """Alerts of the rule (the built-in stuck rule sees the constant 70 dB too)."""
        params = {"rule_id": alerts[0]["rule_id"]} | params
        response = client.get(ALERTS, params=params, headers=staff)
        assert response.status_code == 200, response.text
        return sorted(a["id"] for a in response.json())

    assert ids(state="open") == [by_sensor["road-1"]]
    assert ids(state="resolved") == [by_sensor["road-2"]]
    assert ids(sensor_id="road-2") == [by_sensor["road-2"]]
    assert ids(rule_id=alerts[0]["rule_id"]) == sorted(by_sensor.values())
    assert ids(rule_id=1) == []  # the built-in offline rule: data arrived at T0
    t0_ms = str(int(T0 * 1000))
    assert ids(end=t0_ms) == []  # opened at T0: not before it
    assert ids(start=t0_ms, end=str(int(T0 * 1000) + 60_000)) == sorted(by_sensor.values())
    assert ids(start="2026-03-02T13:00:00Z") == [by_sensor["road-1"]]  # road-2 resolved at T0
    assert len(ids(limit=1)) == 1


# --------------------------------------------------------------------------- webhooks


class _Hook(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` POSTs, then 204; keeps the bodies."""

    failures = 2
    received: list[dict[str, Any]] = []  # noqa: RUF012 - reset per test

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        failing = len(type(self).received) <= type(self).failures
        self.send_response(503 if failing else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received = []
    _Hook.failures = 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _hooked_alert(office: Office, url: str, *, attempts: int) -> tuple[AlertRepository, int]:
    office.loud("road-1", T0 - 900, 15, 70.0)
    store, meta = SqliteStore(office.store_path), MetadataStore(office.meta_url)
    repo = meta.alerts
    rule = AlertRule(
        name="hooked",
        metric="laeq",
        window_s=900,
        threshold=60.0,
        sensor_ids=("road-1",),
        webhook_url=url,
    )
    rule_id = repo.add_rule(rule).id
    notifier = WebhookNotifier(repo, attempts=attempts, backoff_s=0.02, timeout_s=2)
    try:
        outcome = Evaluator(store, meta, zone=CPH, notify=notifier).run(T0)
    finally:
        notifier.close(wait=True)
        store.close()
    (alert,) = [a for a in outcome.opened if a.rule_id == rule_id]
    return repo, alert.id


def test_webhook_is_retried_until_it_succeeds(office: Office, hook: str) -> None:
    """The receiver fails twice with 503; the third attempt succeeds and is recorded."""
    repo, alert_id = _hooked_alert(office, hook, attempts=4)
    assert len(_Hook.received) == 3
    body = _Hook.received[-1]
    assert body["event"] == "alert.opened"
    assert body["delivery"] == f"{alert_id}-opened"
    assert body["alert"]["sensor_id"] == "road-1"
    assert body["alert"]["value"] == 70.0
    assert body["alert"]["evidence"]["threshold_db"] == 60.0
    assert body["rule"]["name"] == "hooked"
    last = repo.history(alert_id)[-1]
    assert (last.action, last.actor) == ("notified", "evaluator")
    assert "HTTP 204, attempt 3" in last.note


def test_webhook_gives_up_and_records_the_failure(office: Office, hook: str) -> None:
    _Hook.failures = 10
    repo, alert_id = _hooked_alert(office, hook, attempts=2)
    assert len(_Hook.received) == 2
    last = repo.history(alert_id)[-1]
    assert last.action == "notify_failed"
    assert "HTTP 503 after 2 attempt(s)" in last.note


def test_webhook_to_a_closed_port_fails_without_blocking(office: Office) -> None:
    started = time.monotonic()
    repo, alert_id = _hooked_alert(office, "http://127.0.0.1:9/hook", attempts=2)
    assert time.monotonic() - started < 10
    assert repo.history(alert_id)[-1].action == "notify_failed"


# --------------------------------------------------------------------------- the command


@pytest.mark.process
def test_cli_once_opens_alerts_from_the_store(tmp_path: Path) -> None:
    """``noiselab alerts --once`` on real files, at the real time: the last 10 min at 74.9 and
    75.1 dB alternately (energetic mean 75.00 dB) are above a 70 dB LAeq,5min rule."""
    store_url = f"sqlite:///{tmp_path / 'readings.db'}"
    meta_url = f"sqlite:///{tmp_path / 'metadata.db'}"
    meta = MetadataStore(meta_url)
    store = SqliteStore(tmp_path / "readings.db")
    now = time.time()
    try:
        meta.sensors.add([Sensor(id="road-1", name="road 1", source="road")])
        rule = AlertRule(name="loud", metric="laeq", window_s=300, threshold=70.0)
        meta.alerts.add_rule(rule)
        start = (now // 60 - 10) * 60
        levels = [74.9, 75.1]  # varying, so the built-in stuck rule keeps quiet
        readings = [Reading("road-1", start + s, levels[s % 2]) for s in range(int(now - start))]
        store.write(readings, now)
    finally:
        store.close()
        meta.close()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "noiselab",
            "alerts",
            "--store",
            store_url,
            "--meta",
            meta_url,
            "--once",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "opened 1," in result.stdout
    with MetadataStore(meta_url) as meta:
        (alert,) = meta.alerts.list_alerts(rule_id=4)
    assert alert.sensor_id == "road-1"
    assert alert.value == pytest.approx(75.0, abs=0.01)


@pytest.mark.process
def test_cli_rejects_a_bad_zone(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "noiselab",
            "alerts",
            "--store",
            f"sqlite:///{tmp_path / 'r.db'}",
            "--zone",
            "Mars/Olympus",
            "--once",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Mars/Olympus" in result.stderr


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
