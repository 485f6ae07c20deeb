"""Staff views over HTTP on real SQLite files: browsing the quarantine and sensor health."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab

from noiselab.api.schemas.alerts import QuarantineDetailOut, QuarantineOut, SensorHealthOut
from noiselab.model import Reading, Rejection, Sensor
from noiselab.store.metadata import AlertRule

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC).timestamp()
"""14:00 in Copenhagen (CET): 14 h = 50,400 s since local midnight (23:00 UTC on 1 March)."""
MIDNIGHT = datetime(2026, 3, 1, 23, 0, tzinfo=UTC).timestamp()
QUARANTINE = "/api/v1/quarantine"
HEALTH = "/api/v1/health/sensors"


def _reject(
    sensor_id: str | None, n: int, at: float, reason: str, raw: bytes | None = None
) -> Rejection:
    topic = f"noiselab/{sensor_id or 'Bad Topic'}/levels"
    body = raw if raw is not None else f'{{"ts": {n}, "laeq": 999}}'.encode()
    return Rejection(topic, sensor_id, body, reason, received_at=at)


class Desk(ApiLab):
    """Sensors, readings, rejections and keys in real files; an app whose clock is NOW."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=NOW)
        with self.meta() as meta:
            self.sensors(
                Sensor(id="road-1", name="road 1", source="road"),
                Sensor(id="road-2", name="road 2", source="road", public=False),
                Sensor(id="rail-1", name="rail 1", source="rail"),
            )
            self.keys = {
                "staff": self.key("staff", "kommune").text,
                "vendor": self.key("vendor", "acme").text,
            }
            meta.quarantine.add(
                [
                    _reject("road-1", i, MIDNIGHT + 600 * (i + 1), "laeq: 999 is outside 0-160 dB")
                    for i in range(3)
                ]
                + [_reject("road-1", 9, MIDNIGHT - 1800, "ts: 412.0 s in the future")]
                + [_reject("road-2", 0, NOW - 60, "Unknown sensor")]
                + [
                    _reject(
                        None,
                        0,
                        NOW - 30,
                        "topic: not noiselab/<sensor>/levels",
                        b"\xff\xfe" + b"x" * 1500,
                    )
                ]
            )
            rule = meta.alerts.add_rule(
                AlertRule(name="loud", metric="laeq", threshold=60.0, window_s=900)
            )
            meta.alerts.open_new(
                rule,
                "road-1",
                now=datetime.fromtimestamp(NOW, UTC),
                value=61.0,
                unit="dB",
                evidence={},
            )
        # road-1: 30 one-minute readings today (1800 s) and one yesterday, before midnight.
        readings = [Reading("road-1", MIDNIGHT + 3600 + 60 * i, 55.0, 60.0) for i in range(30)]
        readings.append(Reading("road-1", MIDNIGHT - 600, 55.0, 60.0))
        self.write(readings, received_at=NOW - 20)
        self.staff = {"Authorization": f"Bearer {self.keys['staff']}"}


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return Desk(tmp_path)


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with desk.client() as test_client:
        yield test_client


def _ids(client: TestClient, desk: Desk, **params: Any) -> list[int]:
    response = client.get(QUARANTINE, params=params, headers=desk.staff)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


# --------------------------------------------------------------------------- quarantine


def test_quarantine_rows_are_flat_newest_first(desk: Desk, client: TestClient) -> None:
    rows = client.get(QUARANTINE, headers=desk.staff).json()
    assert [r["id"] for r in rows] == [6, 5, 4, 3, 2, 1]
    for row in rows:
        QuarantineOut.model_validate(row)
    first = rows[-1]
    assert first["topic"] == "noiselab/road-1/levels"
    assert first["sensor_id"] == "road-1"
    assert first["reason"] == "laeq: 999 is outside 0-160 dB"
    assert first["raw"] == '{"ts": 0, "laeq": 999}'
    assert first["raw_truncated"] is False
    assert first["received_at"] == "2026-03-01T23:10:00Z"
    binary = rows[0]
    assert binary["sensor_id"] is None
    assert binary["raw_bytes"] == 1502
    assert binary["raw_truncated"] is True
    assert len(binary["raw"]) == 1000
    assert binary["raw"].startswith("\ufffd")


def test_quarantine_filters(desk: Desk, client: TestClient) -> None:
    assert _ids(client, desk, sensor_id="road-2") == [5]
    assert _ids(client, desk, reason="OUTSIDE 0-160") == [3, 2, 1]
    assert _ids(client, desk, reason="100%") == []  # a literal, not a LIKE pattern
    start_ms = str(int(MIDNIGHT * 1000))
    assert _ids(client, desk, sensor_id="road-1", start=start_ms) == [3, 2, 1]
    assert _ids(client, desk, end="2026-03-01T23:15:00Z") == [4, 1]
    assert _ids(client, desk, start="2026-03-02") == [6, 5, 3, 2, 1]  # local midnight


def test_quarantine_pages_with_a_cursor(desk: Desk, client: TestClient) -> None:
    first = client.get(QUARANTINE, params={"limit": 4}, headers=desk.staff)
    assert [r["id"] for r in first.json()] == [6, 5, 4, 3]
    cursor = first.headers["X-Next-Before-Id"]
    assert cursor == "3"
    second = client.get(QUARANTINE, params={"limit": 4, "before_id": cursor}, headers=desk.staff)
    assert [r["id"] for r in second.json()] == [2, 1]
    assert "X-Next-Before-Id" not in second.headers


def test_one_quarantine_entry_in_full(desk: Desk, client: TestClient) -> None:
    response = client.get(f"{QUARANTINE}/6", headers=desk.staff)
    assert response.status_code == 200
    entry = QuarantineDetailOut.model_validate(response.json())
    assert base64.b64decode(entry.raw_base64) == b"\xff\xfe" + b"x" * 1500
    assert entry.raw_truncated is False
    assert entry.raw == "\ufffd\ufffd" + "x" * 1500
    assert client.get(f"{QUARANTINE}/99", headers=desk.staff).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 5000},
        {"start": "soon"},
        {"before_id": 0},
        {"start": "2026-03-02T12:00:00Z", "end": "2026-03-02T11:00:00Z"},
    ],
)
def test_bad_quarantine_queries_are_422(
    desk: Desk, client: TestClient, params: dict[str, Any]
) -> None:
    response = client.get(QUARANTINE, params=params, headers=desk.staff)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_vendors_cannot_browse_the_quarantine(desk: Desk, client: TestClient) -> None:
    vendor = {"Authorization": f"Bearer {desk.keys['vendor']}"}
    assert client.get(QUARANTINE, headers=vendor).status_code == 403
    assert client.get(f"{QUARANTINE}/1").status_code == 401


# --------------------------------------------------------------------------- health


def test_sensor_health_rows(desk: Desk, client: TestClient) -> None:
    """road-1: 1800 s measured since local midnight over 50,400 s elapsed = 0.0357; 3
    rejections today and 4 over 24 h; one open alert. rail-1: never seen."""
    response = client.get(HEALTH, headers=desk.staff)
    assert response.status_code == 200
    rows = {row["sensor_id"]: row for row in response.json()}
    assert sorted(rows) == ["rail-1", "road-1", "road-2"]
    for row in rows.values():
        SensorHealthOut.model_validate(row)
    road = rows["road-1"]
    assert road["status"] == "online"
    assert road["silent_s"] == 20.0
    assert road["last_seen"] == "2026-03-02T00:30:00Z"
    assert road["measured_s_today"] == 1800.0
    assert road["coverage_today"] == round(1800 / 50_400, 4)
    assert (road["quarantined_today"], road["quarantined_24h"]) == (3, 4)
    assert road["open_alerts"] == 1
    rail = rows["rail-1"]
    assert (rail["status"], rail["last_seen"], rail["coverage_today"]) == ("offline", None, 0.0)
    assert rows["road-2"]["quarantined_today"] == 1
    flat = [v for row in rows.values() for v in row.values()]
    assert all(not isinstance(v, (dict, list)) for v in flat)
