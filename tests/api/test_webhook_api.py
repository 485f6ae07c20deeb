"""Webhooks over HTTP (TestClient on real SQLite files): where a rule's webhook may point
(422 with the reason when saved), the signing secret shown once, and the delivery outbox
for staff. Who may call these routes is in ``test_role_matrix.py``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.alert_office import RULES, T0, Office
from support.lab import ApiLab, headers_by_name
from support.outbox import dead_delivery

from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

DELIVERIES = "/api/v1/alerts/deliveries"
RULE: dict[str, Any] = {"name": "loud", "metric": "laeq", "window_s": 900, "threshold": 60.0}
REFUSED = [
    ("http://127.0.0.1:8000/api/v1/keys", "loopback"),  # the API's own key endpoint
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]:8000/", "loopback"),
    ("http://2130706433:8000/", "loopback"),
    ("http://0x7f.1:8000/", "loopback"),
    ("http://localhost:8000/", "loopback"),  # resolved when saved
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://10.0.0.8/", "private"),
    ("http://100.64.1.1/", "CGNAT"),
    ("http://user:s3cr3t-pw@hooks.example.org/", "credentials"),
    ("ftp://hooks.example.org/", "http"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_an_internal_or_credentialed_url_is_refused_when_saved(
    office: Office, client: TestClient, url: str, reason: str
) -> None:
    staff = office.headers["staff"]
    created = client.post(RULES, json=RULE | {"webhook_url": url}, headers=staff)
    assert created.status_code == 422, created.text
    assert reason in created.json()["detail"]
    assert "s3cr3t-pw" not in created.text
    good = client.post(RULES, json=RULE | {"webhook_url": "https://93.184.216.34/"}, headers=staff)
    assert good.status_code == 201, good.text  # negative control: a public address is fine
    replaced = client.put(
        f"{RULES}/{good.json()['id']}", json=RULE | {"webhook_url": url}, headers=staff
    )
    assert replaced.status_code == 422
    assert reason in replaced.json()["detail"]


@pytest.fixture
def allowing(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    lab = ApiLab(tmp_path, now=T0, webhook_allow=("127.0.0.0/8", "localhost"))
    with lab.meta():
        lab.sensors(Sensor(id="road-1", name="road 1", source="road"))
        staff = headers_by_name({"staff": lab.key("staff", "kommune")})["staff"]
    with lab.client() as client:
        yield client, staff


def test_the_allow_list_setting_lets_internal_receivers_be_saved(
    allowing: tuple[TestClient, dict[str, str]],
) -> None:
    client, staff = allowing
    for url in ("http://127.0.0.1:8080/hook", "http://localhost:8080/", "http://2130706433/"):
        created = client.post(RULES, json=RULE | {"webhook_url": url}, headers=staff)
        assert created.status_code == 201, created.text
    refused = client.post(RULES, json=RULE | {"webhook_url": "http://10.0.0.8/"}, headers=staff)
    assert refused.status_code == 422


def test_the_secret_is_shown_once_and_rotation_replaces_it(
    office: Office, client: TestClient
) -> None:
    staff = office.headers["staff"]
    body = RULE | {"webhook_url": "https://hooks.example.org/noise"}
    created = client.post(RULES, json=body, headers=staff).json()
    secret = created["webhook_secret"]
    assert secret.startswith("whsec_")
    assert len(secret) >= 40
    rule_id = created["id"]
    seen = [
        client.get(RULES, headers=staff).text,
        client.get(f"{RULES}/{rule_id}", headers=staff).text,
        client.put(f"{RULES}/{rule_id}", json=body, headers=staff).text,
        client.get("/openapi.json").text,
    ]
    assert all(secret not in text for text in seen)
    assert all("webhook_secret" not in text for text in seen[:3])
    rotated = client.post(f"{RULES}/{rule_id}/secret", headers=staff)
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["rule_id"] == rule_id
    assert new["webhook_secret"].startswith("whsec_")
    assert new["webhook_secret"] != secret
    with MetadataStore(office.meta_url) as meta:
        assert meta.alerts.webhook_secret(rule_id) == new["webhook_secret"]
    assert client.post(f"{RULES}/999999/secret", headers=staff).status_code == 404


def test_staff_list_deliveries_and_retry_a_dead_one(office: Office, client: TestClient) -> None:
    staff = office.headers["staff"]
    with MetadataStore(office.meta_url) as meta:
        dead = dead_delivery(meta, "road-1")
    rows = client.get(DELIVERIES, params={"status": "dead"}, headers=staff)
    assert rows.status_code == 200
    (row,) = rows.json()
    assert (row["id"], row["status"], row["attempts"], row["event"]) == (dead, "dead", 1, "opened")
    assert row["last_error"] == "HTTP 410"
    assert "payload" not in row
    assert "secret" not in rows.text
    assert client.get(DELIVERIES, params={"status": "pending"}, headers=staff).json() == []
    assert client.get(DELIVERIES, params={"status": "lost"}, headers=staff).status_code == 422
    retried = client.post(f"{DELIVERIES}/{dead}/retry", headers=staff)
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    again = client.post(f"{DELIVERIES}/{dead}/retry", headers=staff)
    assert again.status_code == 409
    assert "pending" in again.json()["detail"]
    assert client.post(f"{DELIVERIES}/999999/retry", headers=staff).status_code == 404
