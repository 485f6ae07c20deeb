"""``GET /api/v1/health``: the health checks with the store's disk usage per sensor, for staff
and admin keys only, measured at most every 5 minutes; null figures for an InfluxDB store.
``/healthz`` stays public and says no more than "ok"."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.http_fake import Answer, RecordingServer
from support.lab import ApiLab
from support.paths import DATA
from support.readings import sensor, steady

from noiselab.api.app import create_app
from noiselab.api.routes.health import DISK_USAGE_TTL_S
from noiselab.api.schemas.health import HealthDetailOut
from noiselab.api.settings import ApiSettings
from noiselab.store.sqlite import SqliteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 3, 9, 15, tzinfo=UTC).timestamp()
HEALTH = "/api/v1/health"


class Desk(ApiLab):
    """Two sensors with data (one private), a staff, an admin and a vendor key."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=NOW)
        with self.meta():
            self.sensors(sensor("kbm-25m"), sensor("kbm-50m", public=False))
            self.keys = {role: self.key(role).headers for role in ("staff", "admin", "vendor")}
        self.write(steady("kbm-25m", NOW - 7200, 3600, 55.0), received_at=NOW - 3600)
        self.write(steady("kbm-50m", NOW - 7200, 600, 60.0), received_at=NOW - 3600)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return Desk(tmp_path)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with desk.client() as running:
        yield running


def test_staff_and_admin_see_each_sensors_disk_bytes_and_the_total(client, desk) -> None:
    with SqliteStore(desk.store_path) as store:
        expected = store.disk_usage()
    for role in ("staff", "admin"):
        response = client.get(HEALTH, headers=desk.keys[role])
        assert response.status_code == 200, response.text
        assert response.headers["Cache-Control"] == "private, no-store"
        body = HealthDetailOut.model_validate(response.json())
        assert (body.status, body.store) == ("ok", "sqlite")
        assert {s.sensor_id: s.disk_bytes for s in body.sensors} == expected
        assert [s.sensor_id for s in body.sensors] == ["kbm-25m", "kbm-50m"]
        assert body.disk_bytes == sum(expected.values())
        assert body.disk_measured_at == datetime.fromtimestamp(NOW, UTC)
    sizes = {s["sensor_id"]: s["disk_bytes"] for s in response.json()["sensors"]}
    assert sizes["kbm-25m"] > sizes["kbm-50m"] > 0  # 3,600 readings against 600


@pytest.mark.parametrize(("who", "status"), [("public", 401), ("vendor", 403)])
def test_the_public_and_vendors_get_no_disk_usage(client, desk, who, status) -> None:
    response = client.get(HEALTH, headers=desk.keys.get(who, {}))
    assert response.status_code == status
    assert "disk_bytes" not in response.text
    public = client.get("/healthz")
    assert public.json() == {"status": "ok"}


def test_disk_usage_is_measured_at_most_every_five_minutes(client, desk) -> None:
    """Measuring reads every page of the file: more data written meanwhile shows only once
    the figures are older than 5 minutes of the app's clock."""
    first = client.get(HEALTH, headers=desk.keys["staff"]).json()
    desk.write(steady("kbm-50m", NOW - 3600, 3600, 60.0), received_at=NOW)
    assert desk.clock is not None
    desk.clock.now = NOW + DISK_USAGE_TTL_S - 1
    assert client.get(HEALTH, headers=desk.keys["staff"]).json() == first
    desk.clock.now = NOW + DISK_USAGE_TTL_S
    later = client.get(HEALTH, headers=desk.keys["staff"]).json()
    assert later["disk_measured_at"] == "2026-03-03T09:20:00Z"
    assert later["sensors"][1]["disk_bytes"] > first["sensors"][1]["disk_bytes"]
    assert later["disk_bytes"] > first["disk_bytes"]


def test_an_influxdb_store_reports_null_figures(desk, monkeypatch) -> None:
    """InfluxDB manages its own storage: the sensors it holds (from its activity), no bytes."""
    fake = RecordingServer()
    try:
        fake.answer(
            "/api/v2/query",
            Answer(200, (DATA / "influx" / "activity.csv").read_bytes(), "text/csv; charset=utf-8"),
        )
        monkeypatch.setenv("NOISELAB_INFLUX_TOKEN", "s3cret-token")
        port = fake.url.rsplit(":", 1)[1]
        settings = ApiSettings(
            store_url=f"influxdb://127.0.0.1:{port}?org=lab&bucket=noise",
            meta_url=desk.meta_url,
            clock=lambda: NOW,
        )
        with TestClient(create_app(settings)) as client:
            response = client.get(HEALTH, headers=desk.keys["staff"])
    finally:
        fake.close()
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "store": "influxdb",
        "disk_bytes": None,
        "disk_measured_at": None,
        "sensors": [
            {"sensor_id": "hbm-50m", "disk_bytes": None},
            {"sensor_id": "kbm-25m", "disk_bytes": None},
        ],
    }
