"""Calibrator-tone checks through the whole pipeline, with real processes: a real Mosquitto,
``noiselab ingest`` as a subprocess and real SQLite files. The simulator's nightly checks for a
week (one sensor drifting +0.8 dB from mid-week) are published on ``PREFIX/+/calibration``:
every check becomes a ``tone`` row of the calibration log, the drift opens one staff alert of
the built-in rule, the API lists it and shows the uncertain span, a bad check is quarantined
with its reason, and readings on the levels topic are stored as before.

By hand: a healthy check reads 94.0 ± 0.05 dB, so consecutive checks drift at most 0.1 dB;
the first drifted check reads 94.8 ± 0.05 against 94.0 ± 0.05: a drift of 0.7..0.9 dB."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.pipeline import PipelineLab, publish_all

from noiselab.broker import MosquittoBroker
from noiselab.sensors_sim.tone_checks import DRIFTING_SENSOR, tone_messages
from noiselab.store.metadata import MetadataStore

START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
WEEK = 7 * 86_400.0
HEALTHY = "bg-strandpark"


def wait_for(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.process
def test_tone_checks_are_logged_and_a_drift_raises_the_alert(
    tmp_path: Path, broker: MosquittoBroker, prefix: str, ingest_factory
) -> None:
    lab = PipelineLab(tmp_path, broker, prefix)
    lab.register(DRIFTING_SENSOR, HEALTHY)
    ingest = ingest_factory(*lab.ingest_args())
    checks = tone_messages(
        [DRIFTING_SENSOR, HEALTHY], START, START + WEEK, seed=7, drift_at=START + WEEK / 2
    )
    assert len(checks) == 14  # 03:00 local on each of the 7 nights, two sensors
    bad = json.dumps({"ts": START, "reference_db": 94.0, "measured_db": 171.0}).encode()
    level = json.dumps({"ts": START + 3600, "laeq": 55.0}).encode()
    messages = [(f"{prefix}/{m.sensor_id}/calibration", m.payload) for m in checks]
    messages += [(f"{prefix}/{HEALTHY}/calibration", bad), (lab.topic(HEALTHY), level)]
    publish_all(broker, messages)
    publish_all(broker, messages[:3])  # re-delivered checks are stored once

    with MetadataStore(lab.meta_url) as meta:
        wait_for(lambda: len(meta.calibrations.history(DRIFTING_SENSOR)) == 7)
        wait_for(lambda: len(meta.calibrations.history(HEALTHY)) == 7)
        wait_for(lambda: len(meta.quarantine.newest(limit=10)) >= 1)
        rows = meta.calibrations.history(DRIFTING_SENSOR)
        alerts = meta.alerts.list_alerts()
        quarantined = meta.quarantine.newest(limit=10)
    assert {(r.kind, r.by, r.after_db) for r in rows} == {("tone", "tone check", None)}
    assert [round(r.before_db) for r in rows] == [
        94,
        94,
        94,
        94,
        95,
        95,
        95,
    ]  # drifted from 2026-11-06
    [alert] = alerts  # one open alert: the healthy sensor raised none
    assert (alert.sensor_id, alert.state, alert.unit) == (DRIFTING_SENSOR, "open", "dB")
    assert alert.value is not None
    assert 0.7 <= alert.value <= 0.9
    assert alert.rule_name == "Calibration drift above 0.5 dB"
    assert [q.reason for q in quarantined] == [
        "measured_db: must be between 0 and 160 dB, got 171.0"
    ]
    lab.wait_count(1)  # the levels path is unchanged

    history = lab_history(lab)
    [span] = history["uncertain"]
    assert span["drift_db"] == alert.value
    assert [c["drift_exceeds"] for c in history["calibrations"]].count(True) == 1
    assert ingest.stop() == 0


def lab_history(lab: PipelineLab) -> dict[str, object]:
    with lab.client() as client:
        response = client.get(
            f"/api/v1/sensors/{DRIFTING_SENSOR}/calibrations", headers=lab.staff()
        )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.process
def test_a_differing_tone_check_at_a_logged_instant_is_quarantined_with_both_values(
    tmp_path: Path, broker: MosquittoBroker, prefix: str, ingest_factory
) -> None:
    """History is immutable for tone checks as for readings. The check of 2026-11-02T03:00:00Z
    reads 94.02 dB; the same message again is a re-delivery (no entry, no quarantine); 94.52 dB
    for that instant, sent twice, is quarantined once with both values, and the log keeps
    94.02. A reading published last shows that everything before it was taken."""
    lab = PipelineLab(tmp_path, broker, prefix)
    lab.register(HEALTHY)
    ingest = ingest_factory(*lab.ingest_args())
    topic = f"{prefix}/{HEALTHY}/calibration"
    first = json.dumps({"ts": START + 3 * 3600, "reference_db": 94.0, "measured_db": 94.02})
    other = json.dumps({"ts": START + 3 * 3600, "reference_db": 94.0, "measured_db": 94.52})
    level = json.dumps({"ts": START + 4 * 3600, "laeq": 55.0})
    messages = [(topic, first), (topic, first), (topic, other), (topic, other)]
    publish_all(broker, [(t, p.encode()) for t, p in [*messages, (lab.topic(HEALTHY), level)]])
    lab.wait_count(1)

    with MetadataStore(lab.meta_url) as meta:
        rows = meta.calibrations.history(HEALTHY)
        quarantined = meta.quarantine.newest(limit=10)
    assert [(r.kind, r.before_db) for r in rows] == [("tone", 94.02)]
    [entry] = quarantined
    assert entry.reason == (
        "conflicts with stored tone check: at 2026-11-02T03:00:00Z: "
        "measured_db stored 94.02, offered 94.52"
    )
    assert (entry.topic, entry.sensor_id, entry.raw) == (topic, HEALTHY, other.encode())
    assert ingest.stop() == 0
