"""``/api/v1/sensors/{id}/calibrations`` on real SQLite files: staff log field calibrations and
read the history with each entry's deviation and drift and the calibration-uncertain spans; a
drift over 0.5 dB opens a staff alert listed by ``/api/v1/alerts``; bad requests are 4xx with
a reason, never 500. Access per role is in ``test_role_matrix.py``.

By hand: 2026-11-02 field 94.6 on 94.0 adjusted to 94.0 (deviation +0.6, offset left 0.0);
2026-11-09 tone check 94.8 (deviation +0.8, drift +0.8: the week between is uncertain);
2026-11-10 field 94.85 (deviation +0.85, drift 0.85 - 0.8 = +0.05), adjusted to 94.0."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.lab import ApiLab
from support.readings import sensor

from noiselab.api.schemas.calibrations import CalibrationHistoryOut, CalibrationOut
from noiselab.store.metadata import Calibration

SENSOR = "vb-road-1"
URL = f"/api/v1/sensors/{SENSOR}/calibrations"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Api:
    client: Any
    staff: dict[str, str]
    lab: ApiLab


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    lab = ApiLab(tmp_path, now=NOW.timestamp())
    lab.sensors(sensor(SENSOR))
    key = lab.key("staff", "kommune")
    with lab.client() as client:
        yield Api(client, key.headers, lab)


def body(**changes: Any) -> dict[str, Any]:
    return {
        "ts": "2026-11-02T10:00:00Z",
        "reference_db": 94.0,
        "before_db": 94.6,
        "after_db": 94.0,
        "by": "J. Hansen",
        "note": "Class 1 calibrator, serial 2712",
    } | changes


def post(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.client.post(URL, json=body(**changes), headers=api.staff)
    assert response.status_code == 201, response.text
    return response.json()


def tone_check(api: Api, ts: datetime, measured: float) -> None:
    with api.lab.meta() as meta:
        meta.calibrations.add(
            Calibration(
                sensor_id=SENSOR,
                ts=ts,
                kind="tone",
                reference_db=94.0,
                before_db=measured,
                by="tone check",
            )
        )


def test_a_field_calibration_is_logged_with_who_and_its_deviation(api: Api) -> None:
    made = CalibrationOut.model_validate(post(api))
    assert (made.kind, made.by, made.reference_db, made.before_db, made.after_db) == (
        "field",
        "J. Hansen",
        94.0,
        94.6,
        94.0,
    )
    assert (made.deviation_db, made.drift_db, made.drift_exceeds) == (0.6, None, False)
    assert made.created_at == NOW
    with api.lab.meta() as meta:
        stored = meta.calibrations.get(made.id)
    assert stored is not None
    assert stored.created_by_key is not None  # the key that logged it, kept for the audit


def test_by_defaults_to_the_keys_name_and_ts_to_now(api: Api) -> None:
    made = post(api, by=None, ts=None, note="")
    assert made["by"] == "kommune"
    assert made["ts"] == "2026-11-20T12:00:00Z"


def test_the_history_has_drifts_and_uncertain_spans_and_the_drift_raises_an_alert(
    api: Api,
) -> None:
    first = post(api)
    tone_check(api, datetime(2026, 11, 9, 2, 0, tzinfo=UTC), 94.8)
    last = post(api, ts="2026-11-10T09:30:00Z", before_db=94.85, after_db=94.0)
    assert (last["deviation_db"], last["drift_db"], last["drift_exceeds"]) == (0.85, 0.05, False)
    response = api.client.get(URL, headers=api.staff)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    history = CalibrationHistoryOut.model_validate(response.json())
    rows = [(c.kind, c.deviation_db, c.drift_db, c.drift_exceeds) for c in history.calibrations]
    assert rows == [
        ("field", 0.6, None, False),
        ("tone", 0.8, 0.8, True),
        ("field", 0.85, 0.05, False),
    ]
    [span] = history.uncertain
    assert (span.start, span.end, span.drift_db) == (
        datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 9, 2, 0, tzinfo=UTC),
        0.8,
    )
    assert span.from_id == first["id"]
    assert span.reason == (
        "calibration uncertain: drift +0.80 dB between calibrations on 2026-11-02 and 2026-11-09"
    )
    # The tone check went into the store directly, past the drift check. A field visit on
    # 2026-11-12 reading 94.7 after the adjustment to 94.0 on the 10th drifts +0.7 dB: alert.
    posted = post(api, ts="2026-11-12T10:00:00Z", before_db=94.7, after_db=94.0)
    assert (posted["drift_db"], posted["drift_exceeds"]) == (0.7, True)
    alerts = api.client.get("/api/v1/alerts", headers=api.staff).json()
    drift_alerts = [a for a in alerts if a["rule_name"] == "Calibration drift above 0.5 dB"]
    assert [(a["sensor_id"], a["value"], a["state"]) for a in drift_alerts] == [
        (SENSOR, 0.7, "open")
    ]


def test_limit_gives_the_latest_entries(api: Api) -> None:
    for day in (2, 3, 4):
        post(api, ts=f"2026-11-0{day}T10:00:00Z")
    response = api.client.get(URL, params={"limit": 2}, headers=api.staff)
    assert [c["ts"] for c in response.json()["calibrations"]] == [
        "2026-11-03T10:00:00Z",
        "2026-11-04T10:00:00Z",
    ]


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"before_db": 171.0}, "before_db"),
        ({"reference_db": "loud"}, "reference_db"),
        ({"after_db": -1}, "after_db"),
        ({"by": "x" * 101}, "by"),
        ({"note": "x" * 501}, "note"),
        ({"ts": "2026-11-02T10:00:00"}, "ts"),
        ({"ts": "2026-11-21T12:00:00Z"}, "ts: must not lie in the future"),
        ({"ts": "1999-12-31T23:00:00Z"}, "ts: must lie within"),
        ({"by": "a\x00b"}, "NUL"),
        ({"kind": "tone"}, "kind"),
    ],
)
def test_bad_bodies_answer_422_naming_the_field(
    api: Api, changes: dict[str, Any], detail: str
) -> None:
    response = api.client.post(URL, json=body(**changes), headers=api.staff)
    assert response.status_code == 422, response.text
    assert detail in str(response.json()["detail"])


def test_an_unknown_sensor_answers_404(api: Api) -> None:
    url = "/api/v1/sensors/vb-nowhere/calibrations"
    assert api.client.get(url, headers=api.staff).status_code == 404
    assert api.client.post(url, json=body(), headers=api.staff).status_code == 404
