"""DIY sensors pushing the Sensor.Community shape over HTTP, on real SQLite files.

The payloads are the documented Sensor.Community DNMS examples in ``tests/data/payloads/``
(sources in its README). A push goes the ingest's way: parsed, checked against the registry,
stored durably before the answer, and whatever is refused is quarantined with its reason.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab
from support.paths import PAYLOADS

from noiselab.api.routes.push import MAX_PUSH_BYTES, TOPIC
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.push import PushOut
from noiselab.api.schemas.sensors import PERCENTILES_NOTE
from noiselab.model import Reading, Sensor
from noiselab.store.sqlite import SqliteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
PUSH = "/api/v1/push/sensor-community"
DEVICE = "esp8266-12345678"


class Setup(ApiLab):
    """Two registered DIY sensors, a sensor key for the first and one for an unregistered
    device, a staff key and a vendor key; the app's clock stands at ``NOW``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, now=NOW)
        with self.meta():
            self.sensors(
                Sensor(id=DEVICE, name="DIY DNMS", source="road", public=True),
                Sensor(id="esp8266-99", name="another", source="road", public=True),
            )
            self.keys = {
                "sensor": self.key("sensor", "diy", sensors=(DEVICE,)).text,
                "unregistered": self.key("sensor", "new", sensors=("esp8266-424242",)).text,
                "staff": self.key("staff", "kommune").text,
                "vendor": self.key("vendor", "acme", sensors=(DEVICE,)).text,
            }

    def readings(
        self, sensor_id: str = DEVICE, start: float = 0, end: float = 2e9
    ) -> list[Reading]:
        """The stored readings of ``sensor_id`` (the documented device unless named)."""
        return super().readings(sensor_id, start, end)

    def quarantined(self) -> list[tuple[str, str | None, str]]:
        """The quarantined messages as ``(topic, sensor_id, reason)``, newest first."""
        return [(e.topic, e.sensor_id, e.reason) for e in self.quarantine(limit=100)]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


@pytest.fixture
def client(setup: Setup) -> Iterator[TestClient]:
    with setup.client() as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(key: str, user: str = "diy") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def push(
    client: TestClient, headers: dict[str, str], body: bytes, sensor: str | None = DEVICE
) -> object:
    extra = {"X-Sensor": sensor, "X-PIN": "15"} if sensor is not None else {}
    return client.post(
        PUSH, content=body, headers=headers | extra | {"Content-Type": "application/json"}
    )


def test_a_documented_push_is_stored_as_one_145_s_reading(setup, client):
    """The DNMS values describe the interval that just ended: ts = now - 145 s, duration 145,
    LAeq 54.52, LA_min 48.31 -> lafmin, LA_max 67.09 -> lafmax."""
    response = push(
        client, bearer(setup.keys["sensor"]), (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    )
    assert response.status_code == 200, response.text
    PushOut.model_validate(response.json())
    assert response.json() == {"sensor_id": DEVICE, "stored": 1, "quarantined": 0, "reasons": []}
    assert setup.readings() == [
        Reading(
            sensor_id=DEVICE,
            ts=NOW - 145,
            laeq=54.52,
            duration=145.0,
            lafmax=67.09,
            lafmin=48.31,
        )
    ]
    assert setup.quarantined() == []


def test_basic_auth_with_the_key_as_password_and_the_prefixed_shape(setup, client):
    """The firmware's own-API setting sends Basic auth; its full JSON carries DNMS_ names and
    values that are not noise (samples, signal), which are ignored."""
    body = (PAYLOADS / "dnms-prefixed.json").read_bytes()
    response = push(client, basic(setup.keys["sensor"]), body, sensor="ESP8266-12345678")
    assert response.status_code == 200, response.text
    [reading] = setup.readings()
    assert (reading.laeq, reading.lafmin, reading.lafmax) == (54.52, 48.31, 67.09)


def test_the_levels_api_then_says_percentiles_cannot_be_computed(setup, client):
    push(
        client, bearer(setup.keys["sensor"]), (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    )
    body = client.get(
        f"/api/v1/sensors/{DEVICE}/levels",
        params={"start": "2026-03-02T11:45:00Z", "end": "2026-03-02T12:00:00Z", "every": "15m"},
    ).json()
    [point] = body["points"]
    assert point["laeq"] == 54.52
    assert (point["l10"], point["l50"], point["l90"]) == (None, None, None)
    assert body["notes"] == [PERCENTILES_NOTE]


@pytest.mark.parametrize(
    ("who", "status"),
    [("none", 401), ("bad", 401), ("staff", 403), ("vendor", 403)],
)
def test_only_sensor_keys_push(setup, client, who, status):
    headers = {
        "none": {},
        "bad": bearer("nl_0123456789abcdef_" + "x" * 43),
        "staff": bearer(setup.keys["staff"]),
        "vendor": bearer(setup.keys["vendor"]),
    }[who]
    response = push(client, headers, (PAYLOADS / "dnms-sensor-community.json").read_bytes())
    assert response.status_code == status, response.text
    ErrorOut.model_validate(response.json())
    assert setup.readings() == []


def test_a_sensor_key_pushes_only_for_its_own_sensors(setup, client):
    body = (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    response = push(client, bearer(setup.keys["sensor"]), body, sensor="esp8266-99")
    assert response.status_code == 403
    assert "esp8266-99" in response.json()["detail"]
    assert setup.readings("esp8266-99") == []


def test_a_sensor_key_reads_like_the_public(setup, client):
    """It sees public sensors in public buckets only, and no trials."""
    headers = bearer(setup.keys["sensor"])
    levels = f"/api/v1/sensors/{DEVICE}/levels"
    assert client.get(levels, params={"every": "1m"}, headers=headers).status_code == 403
    assert client.get(levels, params={"every": "15m"}, headers=headers).status_code == 200
    assert client.get("/api/v1/trials", headers=headers).status_code == 403
    assert client.get("/api/v1/quarantine", headers=headers).status_code == 403


def test_an_unregistered_sensor_is_quarantined_and_422(setup, client):
    body = (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    response = push(client, bearer(setup.keys["unregistered"]), body, sensor="esp8266-424242")
    assert response.status_code == 422
    assert "unknown sensor 'esp8266-424242'" in response.json()["detail"]
    [(topic, sensor_id, reason)] = setup.quarantined()
    assert (topic, sensor_id) == (TOPIC, "esp8266-424242")
    assert reason.startswith("unknown sensor")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            b'{"software_version": "x", "sensordatavalues": '
            b'[{"value_type": "noise_LAeq", "value": "abc"}]}',
            "abc",
        ),
        (
            b'{"software_version": "x", "sensordatavalues": '
            b'[{"value_type": "noise_LAeq", "value": "171.5"}]}',
            "171.5",
        ),
        (b"not json at all", "json"),
        (b'{"sensordatavalues": [{"value_type": "SDS_P1", "value": "3.1"}]}', "noise_laeq"),
    ],
    ids=["not-a-number", "too-loud", "not-json", "no-noise-values"],
)
def test_bad_pushes_are_quarantined_with_a_reason(setup, client, body, words):
    response = push(client, bearer(setup.keys["sensor"]), body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert words in detail.lower()
    [(topic, sensor_id, reason)] = setup.quarantined()
    assert (topic, sensor_id, reason) == (TOPIC, DEVICE, detail)
    assert setup.readings() == []


def test_bad_headers_and_oversized_bodies(setup, client):
    body = (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    headers = bearer(setup.keys["sensor"])
    assert push(client, headers, body, sensor=None).status_code == 422
    assert push(client, headers, body, sensor="Not A Sensor!").status_code == 422
    huge = b'{"pad": "' + b"x" * MAX_PUSH_BYTES + b'"}'
    assert push(client, headers, huge).status_code == 413
    assert setup.readings() == []
    assert setup.quarantined() == []


def test_the_answer_comes_after_the_durable_write(setup, client):
    """A second process sees the reading as soon as the push has answered."""
    push(
        client, bearer(setup.keys["sensor"]), (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    )
    with SqliteStore(setup.store_path) as other:
        assert other.count_readings(DEVICE) == 1
