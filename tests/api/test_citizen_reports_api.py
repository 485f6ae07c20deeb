"""``/api/v1/citizen-reports`` through the app on real SQLite files: a citizen files a report
without a key (201 with the id only; 413, 422 and the per-address limit of 5 per 10 minutes
with 429 and ``Retry-After``, behind a trusted proxy by the forwarded address), nothing of the
sender is stored, and staff read each report with the nearest sensors' 15-minute LAeq and mark
it handled once. Who may call what: the role table (``support.role_table``)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab, Key
from support.readings import minutes

from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC).timestamp()
URL = "/api/v1/citizen-reports"
HERE: dict[str, Any] = {"lat": 55.6283, "lon": 12.3866, "category": "road"}
CITIZEN = ("203.0.113.7", 50000)
XSS = "<img src=x onerror=alert(1)>"


class Lab(ApiLab):
    """kbm-25m (public, 181 m from HERE) at 66 dB from 06:30 to 07:00, a private sensor beside
    it, a staff and a vendor key."""

    def __init__(self, root: Path, **settings: Any) -> None:
        super().__init__(root, now=NOW, **settings)
        with self.meta():
            self.sensors(
                Sensor(id="kbm-25m", name="Køge Bugt Motorvejen, 25 m", lat=55.62667,
                       lon=12.38674, source="road"),
                Sensor(id="vb-private", name="Private", lat=55.6283, lon=12.3866, public=False),
            )  # fmt: skip
            self.staff = self.key("staff", "kommune")
            self.vendor = self.key("vendor", "acme")
        self.write(minutes("kbm-25m", NOW - 1800, 30, 66.0), received_at=NOW)

    def citizen(self) -> TestClient:
        return self.client(client=CITIZEN)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def test_a_report_is_filed_without_a_key_and_answers_its_id_only(lab: Lab) -> None:
    with lab.citizen() as client:
        filed = client.post(URL, json=HERE | {"text": "Lastbiler hele tiden"})
        assert filed.status_code == 201, filed.text
        assert filed.json() == {"id": 1}
        assert filed.headers["Cache-Control"] == "private, no-store"
    with MetadataStore(lab.meta_url) as meta:
        stored = meta.citizen_reports.get(1)
    assert stored is not None
    assert (stored.lat, stored.lon, stored.category, stored.text) == (
        55.6283, 12.3866, "road", "Lastbiler hele tiden",
    )  # fmt: skip
    assert stored.ts == stored.received_at == datetime.fromtimestamp(NOW, UTC)


def test_nothing_of_the_sender_is_stored(lab: Lab) -> None:
    """The sender's address appears in no byte of the metadata files (database and journal).
    Negative control: the same scan finds the report's text."""
    with lab.citizen() as client:
        assert client.post(URL, json=HERE | {"text": "tog om natten"}).status_code == 201
        limiter = client.app.state.report_limiter  # type: ignore[attr-defined]
        assert len(limiter) == 1
        assert limiter.hashed(CITIZEN[0]) != CITIZEN[0]
    files = [p for p in lab.root.iterdir() if p.name.startswith("metadata.db")]
    data = b"".join(p.read_bytes() for p in files)
    assert b"tog om natten" in data
    assert CITIZEN[0].encode() not in data


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"lat": 55.6761, "lon": 12.5683}, "lat, lon: (55.6761, 12.5683) is outside the map's"),
        ({"category": "fireworks"}, "category: input should be 'road', 'rail' or 'other'"),
        ({"text": "x" * 501}, "text: string should have at most 500 characters"),
        ({"ts": "2026-02-20T07:00:00Z"}, "ts: 2026-02-20T07:00:00+00:00 is more than 7 days ago"),
        ({"ts": "2026-03-02T07:05:00Z"}, "is in the future"),
        ({"ts": "2026-03-02T07:00:00"}, "ts: input should have timezone info"),
        ({"lat": "north"}, "lat: input should be a valid number"),
        ({"name": "Anne", "email": "a@b.dk"}, "name: extra inputs are not permitted"),
    ],
)
def test_bad_reports_answer_422_naming_the_field(
    lab: Lab, changes: dict[str, Any], says: str
) -> None:
    with lab.citizen() as client:
        answer = client.post(URL, json=HERE | changes)
        assert answer.status_code == 422, answer.text
        assert says in answer.json()["detail"]
    with MetadataStore(lab.meta_url) as meta:
        assert meta.citizen_reports.find() == []


def test_a_body_over_8_kib_answers_413(lab: Lab) -> None:
    """8 KiB + 1 byte is refused before it is parsed; negative control: a body of exactly
    8,192 bytes (padded with spaces) is read and filed."""
    body = b'{"lat": 55.6283, "lon": 12.3866, "category": "road"}'
    headers = {"Content-Type": "application/json"}
    with lab.citizen() as client:
        over = client.post(URL, content=body + b" " * (8193 - len(body)), headers=headers)
        assert over.status_code == 413
        assert over.json()["detail"] == "the body may be at most 8192 bytes"
        exact = client.post(URL, content=body + b" " * (8192 - len(body)), headers=headers)
        assert exact.status_code == 201, exact.text


def test_the_sixth_report_in_ten_minutes_answers_429_with_retry_after(lab: Lab) -> None:
    """5 per 600 s: a token every 120 s. Five pass (a refused one counts too), the sixth waits
    120 s: 429, Retry-After 120. Another address has its own five. 120 s later one more
    passes."""
    with lab.citizen() as client, lab.client(client=("198.51.100.9", 1)) as neighbour:
        for _ in range(4):
            assert client.post(URL, json=HERE).status_code == 201
        assert client.post(URL, json=HERE | {"category": "?"}).status_code == 422
        sixth = client.post(URL, json=HERE)
        assert (sixth.status_code, sixth.headers["Retry-After"]) == (429, "120")
        assert "too many reports from this address" in sixth.json()["detail"]
        assert neighbour.post(URL, json=HERE).status_code == 201
        lab.clock.now += 120  # type: ignore[union-attr]
        assert client.post(URL, json=HERE).status_code == 201
        assert client.post(URL, json=HERE).status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_address_is_limited(tmp_path: Path) -> None:
    """Through the trusted proxy 10.0.0.1 the right-most untrusted X-Forwarded-For hop is the
    sender: two citizens each get their five. Negative control: from an untrusted peer the
    header is ignored, so a changed header does not buy more reports."""
    lab = Lab(tmp_path, trusted_proxies=("10.0.0.1",), citizen_report_burst=2)
    one, two = {"X-Forwarded-For": "192.0.2.1"}, {"X-Forwarded-For": "192.0.2.2"}
    with lab.client(client=("10.0.0.1", 1)) as proxy:
        assert [proxy.post(URL, json=HERE, headers=one).status_code for _ in range(3)] == [
            201, 201, 429,
        ]  # fmt: skip
        assert proxy.post(URL, json=HERE, headers=two).status_code == 201
    with lab.client(client=("192.0.2.50", 1)) as direct:
        codes = [direct.post(URL, json=HERE, headers={"X-Forwarded-For": f"192.0.2.{i}"})
                 for i in range(3)]  # fmt: skip
        assert [c.status_code for c in codes] == [201, 201, 429]


def test_a_presented_bad_key_answers_401(lab: Lab) -> None:
    with lab.citizen() as client:
        bad = client.post(URL, json=HERE, headers={"Authorization": "Bearer nl_x_y"})
        assert bad.status_code == 401
        staff = client.post(URL, json=HERE, headers=lab.staff.headers)
        assert staff.status_code == 201


def _file(client: TestClient, **changes: Any) -> int:
    answer = client.post(URL, json=HERE | changes)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_staff_read_reports_with_the_nearest_public_sensors_levels(lab: Lab) -> None:
    """A report at 06:50:10: window [06:43, 06:58), all 66 dB minutes: LAeq 66.0, coverage 1.
    kbm-25m is 181 m away (haversine); the private sensor at the very spot is not shown.
    A report at 06:20 lies before the data: the sensor is listed with null."""
    with lab.citizen() as client:
        late = _file(client, ts="2026-03-02T06:50:10Z", text=XSS)
        early = _file(client, ts="2026-03-02T06:20:00Z", category="rail")
        listed = client.get(URL, headers=lab.staff.headers)
        assert listed.status_code == 200, listed.text
        assert listed.headers["Cache-Control"] == "private, no-store"
        rows = {row["id"]: row for row in listed.json()}
        assert rows[late]["nearby"] == [
            {"sensor_id": "kbm-25m", "name": "Køge Bugt Motorvejen, 25 m", "source": "road",
             "distance_m": 181.0, "laeq": 66.0, "coverage": 1.0}
        ]  # fmt: skip
        assert (rows[late]["nearest_sensor_id"], rows[late]["nearest_laeq"]) == ("kbm-25m", 66.0)
        assert rows[late]["nearest_distance_m"] == 181.0
        assert rows[late]["text"] == XSS  # as stored: a JSON string, shown as text by readers
        assert listed.headers["Content-Type"] == "application/json"
        assert rows[early]["nearby"][0]["laeq"] is None
        assert rows[early]["nearest_laeq"] is None
        assert rows[late]["ts"] == "2026-03-02T06:50:10Z"
        assert rows[late]["status"] == "new"

        one = client.get(f"{URL}/{late}", headers=lab.staff.headers)
        assert one.json() == rows[late]
        assert client.get(f"{URL}/999", headers=lab.staff.headers).status_code == 404
        in_range = client.get(
            URL,
            params={"start": "2026-03-02T06:30:00Z", "end": "2026-03-02T07:00:00Z"},
            headers=lab.staff.headers,
        )
        assert [row["id"] for row in in_range.json()] == [late]
        assert client.get(URL, params={"start": "2026-03-03", "end": "2026-03-02"},
                          headers=lab.staff.headers).status_code == 422  # fmt: skip
        assert client.get(URL, headers=lab.vendor.headers).status_code == 403
        assert client.get(URL).status_code == 401


def test_staff_mark_a_report_handled_once(lab: Lab) -> None:
    with lab.citizen() as client:
        made = _file(client)
        handle = f"{URL}/{made}/handle"
        lab.clock.now += 3600  # type: ignore[union-attr]
        done = client.post(
            handle, json={"note": " Checked the sensor. "}, headers=lab.staff.headers
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["status"], body["handled_by"], body["handling_note"]) == (
            "handled", "kommune", "Checked the sensor.",
        )  # fmt: skip
        assert body["handled_at"] == "2026-03-02T08:00:00Z"
        again = client.post(handle, json={"note": "again"}, headers=lab.staff.headers)
        assert again.status_code == 409
        assert (
            f"report {made} was handled at 2026-03-02T08:00Z by kommune" in again.json()["detail"]
        )
        assert client.post(f"{URL}/999/handle", json={"note": "x"},
                           headers=lab.staff.headers).status_code == 404  # fmt: skip
        blank = client.post(handle, json={"note": ""}, headers=lab.staff.headers)
        assert blank.status_code == 422
        new = client.get(URL, params={"status": "new"}, headers=lab.staff.headers).json()
        handled = client.get(URL, params={"status": "handled"}, headers=lab.staff.headers).json()
        assert (new, [row["id"] for row in handled]) == ([], [made])
        assert client.get(URL, params={"status": "done"},
                          headers=lab.staff.headers).status_code == 422  # fmt: skip


def test_the_limit_can_be_turned_off(tmp_path: Path) -> None:
    lab = Lab(tmp_path, citizen_report_burst=0)
    with lab.citizen() as client:
        assert all(client.post(URL, json=HERE).status_code == 201 for _ in range(8))


def test_keys_do_not_leak_into_the_public_answer(lab: Lab) -> None:
    """Key, staff key: the answer is still the id only."""
    key: Key = lab.staff
    with lab.citizen() as client:
        assert client.post(URL, json=HERE, headers=key.headers).json() == {"id": 1}
