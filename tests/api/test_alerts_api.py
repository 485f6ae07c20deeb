"""The alert lifecycle over HTTP (TestClient on real SQLite files): alerts opened by the
evaluator, acknowledged and resolved with notes and history, filtered, and keeping their rule;
and ``noiselab alerts --once`` as a subprocess. Rules and who may call the staff endpoints are
in ``test_alert_rules_api.py``; webhooks in ``tests/alerts/test_webhooks.py`` and
``test_webhook_api.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.alert_office import ALERTS, RULES, T0, Office

from noiselab.api.schemas.alerts import AlertDetailOut, AlertOut
from noiselab.model import Reading, Sensor
from noiselab.store.metadata import AlertRule, MetadataStore
from noiselab.store.sqlite import SqliteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


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


def test_a_rule_with_alerts_cannot_be_deleted(office: Office, client: TestClient) -> None:
    alerts = _open_alerts(office, client)
    deleted = client.delete(f"{RULES}/{alerts[0]['rule_id']}", headers=office.headers["staff"])
    assert deleted.status_code == 409


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
        rule_id = meta.alerts.add_rule(rule).id
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
        (alert,) = meta.alerts.list_alerts(rule_id=rule_id)
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
