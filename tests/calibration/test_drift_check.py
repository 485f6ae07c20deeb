"""The calibration service on a real metadata database (SQLite file and PostgreSQL,
``meta_url``): logging a calibration runs the drift check, which opens a staff alert of the
built-in ``calibration_drift`` rule (with its webhook queued when the rule has one); the
evaluator leaves such alerts alone; the calibration-uncertain spans and the history's drifts.

Drifts worked by hand: field calibration 94.6 dB on 94.0 adjusted to 94.0 (offset left 0.0),
then a tone check reading 94.8 (deviation +0.8): drift +0.8 dB > 0.5."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from noiselab.alerts.evaluate import Evaluator
from noiselab.calibration import (
    CalibrationLog,
    CalibrationSpans,
    ToneCheckRecorder,
    with_drift,
)
from noiselab.ingest.tone import parse_tone_message
from noiselab.model import Sensor
from noiselab.store.metadata import AlertRule, Calibration, MetadataStore
from noiselab.store.sqlite import SqliteStore
from noiselab.validity import Span, SpanSource

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 03:00 in Copenhagen
DAY = timedelta(days=1)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SENSOR = "bg-vallensbaek-mose"


@pytest.fixture
def meta(meta_url: str) -> Iterator[MetadataStore]:
    store = MetadataStore(meta_url)
    store.sensors.add(
        [Sensor(id=sid, name=sid, source="background") for sid in (SENSOR, "bg-other")]
    )
    yield store
    store.close()


@pytest.fixture
def calibrations(meta: MetadataStore) -> CalibrationLog:
    return CalibrationLog(meta, clock=NOW.timestamp)


def field(ts: datetime, before: float, after: float | None, **changes: Any) -> Calibration:
    fields: dict[str, Any] = {
        "sensor_id": SENSOR,
        "ts": ts,
        "kind": "field",
        "reference_db": 94.0,
        "before_db": before,
        "after_db": after,
        "by": "J. Hansen",
    }
    return Calibration(**(fields | changes))


def tone(ts: datetime, measured: float, sensor_id: str = SENSOR) -> Calibration:
    return Calibration(
        sensor_id=sensor_id,
        ts=ts,
        kind="tone",
        reference_db=94.0,
        before_db=measured,
        by="tone check",
    )


def drift_rule(meta: MetadataStore) -> AlertRule:
    return next(r for r in meta.alerts.list_rules() if r.kind == "calibration_drift")


def test_a_drift_over_half_a_decibel_opens_a_staff_alert(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    assert calibrations.add(field(T0, 94.6, 94.0)).alerts == []  # the first has no drift
    logged = calibrations.add(tone(T0 + 7 * DAY, 94.8))
    assert logged.calibration is not None
    [alert] = logged.alerts
    rule = drift_rule(meta)
    assert rule.builtin
    assert (alert.rule_id, alert.sensor_id, alert.state) == (rule.id, SENSOR, "open")
    assert (alert.value, alert.unit, alert.threshold) == (0.8, "dB", None)
    assert alert.opened_at == NOW
    assert alert.evidence["drift_db"] == 0.8
    assert alert.evidence["tolerance_db"] == 0.5
    assert alert.evidence["from"]["before_db"] == 94.6
    assert alert.evidence["to"]["kind"] == "tone"
    assert alert.evidence["uncertain_start"] == "2026-11-02T02:00:00Z"
    assert alert.evidence["uncertain_end"] == "2026-11-09T02:00:00Z"
    assert [a.id for a in meta.alerts.list_alerts(state="open")] == [alert.id]


def test_exactly_half_a_decibel_raises_nothing(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """Negative control: 94.6 → 94.0, then 94.5 (drift +0.50 dB) is within tolerance;
    94.51 the next day drifts only +0.01 from it."""
    calibrations.add(field(T0, 94.6, 94.0))
    assert calibrations.add(tone(T0 + DAY, 94.5)).alerts == []
    assert calibrations.add(tone(T0 + 2 * DAY, 94.51)).alerts == []
    assert meta.alerts.list_alerts() == []


def test_a_further_drift_notes_the_open_alert_instead_of_opening_another(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """94.0 adjusted to 94.0; tone 94.8 (+0.8, opens); tone 93.6 (-1.2 from 0.8, holds)."""
    calibrations.add(field(T0, 94.0, 94.0))
    [alert] = calibrations.add(tone(T0 + DAY, 94.8)).alerts
    assert calibrations.add(tone(T0 + 2 * DAY, 93.6)).alerts == []
    [still] = meta.alerts.list_alerts()
    assert (still.id, still.value, still.last_value) == (alert.id, 0.8, -1.2)


def test_the_rules_webhook_is_queued_with_the_alert(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """A staff rule of the same kind for this sensor with a webhook: its alert opens too, and
    its ``opened`` delivery waits in the outbox for the alert service's sender."""
    hooked = meta.alerts.add_rule(
        AlertRule(
            name="Drift at Vallensbæk Mose",
            kind="calibration_drift",
            sensor_ids=(SENSOR,),
            webhook_url="https://hooks.example.org/drift",
        )
    )
    calibrations.add(field(T0, 94.6, 94.0))
    opened = calibrations.add(tone(T0 + DAY, 95.0)).alerts
    assert sorted(a.rule_id for a in opened) == sorted([drift_rule(meta).id, hooked.id])
    [delivery] = meta.deliveries.list()
    assert (delivery.rule_id, delivery.event, delivery.status) == (hooked.id, "opened", "pending")


def test_a_disabled_rule_or_another_sensor_raises_nothing(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    rule = drift_rule(meta)
    assert rule.id is not None
    meta.alerts.replace_rule(rule.id, msgspec.structs.replace(rule, enabled=False), NOW)
    calibrations.add(field(T0, 94.6, 94.0))
    assert calibrations.add(tone(T0 + DAY, 95.0)).alerts == []
    assert meta.alerts.list_alerts() == []


def test_a_back_dated_entry_is_judged_against_the_one_after_it(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """Tone checks on days 0 (94.0) and 2 (94.1); a field visit entered later for day 1:
    found at 94.0, adjusted to 93.4 (offset left -0.6): drift from day 0 is 0.0 - 0.0 = 0.0,
    drift to day 2 is 0.1 - (-0.6) = +0.7: an alert."""
    calibrations.add(tone(T0, 94.0))
    calibrations.add(tone(T0 + 2 * DAY, 94.1))
    [alert] = calibrations.add(field(T0 + DAY, 94.0, 93.4)).alerts
    assert alert.value == 0.7


def test_the_evaluator_leaves_drift_alerts_open(
    tmp_path: Path, meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """A periodic pass does not judge (so never resolves) a drift alert: only staff do."""
    calibrations.add(field(T0, 94.6, 94.0))
    [alert] = calibrations.add(tone(T0 + DAY, 95.0)).alerts
    with SqliteStore(tmp_path / "readings.db") as store:
        evaluator = Evaluator(store, meta, zone=ZoneInfo("Europe/Copenhagen"))
        outcome = evaluator.run((NOW + 30 * DAY).timestamp())
    assert alert.id not in [a.id for a in outcome.resolved]
    found = meta.alerts.get_alert(alert.id)
    assert found is not None
    assert found.state == "open"


def test_spans_flag_the_data_between_drifted_calibrations(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """Day 0 field 94.6 → 94.0; day 7 tone 94.8 (+0.8); day 8 tone 94.85 (+0.05): one span,
    [day 0, day 7), flagged (not excluded). A withdrawn entry stops counting: without day 7,
    day 8 drifts 0.85 - 0.0 = +0.85 dB from day 0, so the span is [day 0, day 8)."""
    calibrations.add(field(T0, 94.6, 94.0))
    drifted = calibrations.add(tone(T0 + 7 * DAY, 94.8)).calibration
    calibrations.add(tone(T0 + 8 * DAY, 94.85))
    source: SpanSource = CalibrationSpans(meta)
    expected = Span(
        T0.timestamp(),
        (T0 + 7 * DAY).timestamp(),
        "calibration",
        "calibration uncertain: drift +0.80 dB between calibrations on 2026-11-02 and 2026-11-09",
        excludes=False,
    )
    assert source.spans(SENSOR, T0 + 3 * DAY, T0 + 4 * DAY) == [expected]
    assert source.spans(SENSOR, T0 - DAY, T0 + 30 * DAY) == [expected]
    assert source.spans(SENSOR, T0 + 7 * DAY, T0 + 30 * DAY) == []  # after it, half-open
    assert source.spans(SENSOR, T0 - DAY, T0) == []
    assert source.spans("bg-other", T0, T0 + 30 * DAY) == []
    assert drifted is not None
    assert drifted.id is not None
    meta.calibrations.withdraw(drifted.id, by="kommune", reason="the calibrator was cold")
    [longer] = source.spans(SENSOR, T0, T0 + 30 * DAY)
    assert (longer.start, longer.end) == (T0.timestamp(), (T0 + 8 * DAY).timestamp())
    assert longer.reason.endswith(
        "drift +0.85 dB between calibrations on 2026-11-02 and 2026-11-10"
    )


def test_history_shows_deviation_and_drift_since_the_previous_active_entry(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """94.6 → 94.0 (dev +0.6, no drift); 94.3 withdrawn (dev +0.3, no drift); 94.2 (dev +0.2,
    drift 0.2 - 0.0 = +0.2, skipping the withdrawn one)."""
    calibrations.add(field(T0, 94.6, 94.0))
    wrong = calibrations.add(tone(T0 + DAY, 94.3)).calibration
    assert wrong is not None
    assert wrong.id is not None
    meta.calibrations.withdraw(wrong.id, by="kommune", reason="test tone")
    calibrations.add(tone(T0 + 2 * DAY, 94.2))
    history = with_drift(meta.calibrations.history(SENSOR))
    assert [(h.deviation_db, h.drift_db) for h in history] == [(0.6, None), (0.3, None), (0.2, 0.2)]


def test_the_ingest_sink_logs_tone_checks_once_and_refuses_unknown_sensors(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    received = (T0 + DAY).timestamp()
    payload = b'{"ts": "2026-11-03T02:00:00Z", "reference_db": 94.0, "measured_db": 95.1}'
    calibrations.add(field(T0, 94.6, 94.0))
    recorder = ToneCheckRecorder(calibrations)
    parsed = parse_tone_message(f"noiselab/{SENSOR}/calibration", payload, received)
    assert recorder.record(parsed.checks) == []
    assert recorder.record(parsed.checks) == []  # a re-delivery
    assert [c.before_db for c in meta.calibrations.history(SENSOR)] == [94.6, 95.1]
    [alert] = meta.alerts.list_alerts()
    assert alert.value == 1.1
    stranger = parse_tone_message("noiselab/bg-nowhere/calibration", payload, received)
    [refused] = recorder.record(stranger.checks)
    assert refused.reason.startswith("unknown sensor 'bg-nowhere'")
    assert (refused.topic, refused.raw) == ("noiselab/bg-nowhere/calibration", payload)


def test_the_ingest_sink_quarantines_a_differing_check_at_a_logged_instant(
    meta: MetadataStore, calibrations: CalibrationLog
) -> None:
    """The check at 2026-11-03T02:00:00Z reads 95.1 dB (drift +1.1 after the field calibration
    to 94.0: one alert); a later message reports 94.3 dB for the same instant. It is refused
    with both values, the log keeps 95.1 and the alert its value: nothing differing is dropped
    silently, nothing logged is overwritten. An identical re-delivery is refused nothing."""
    received = (T0 + DAY).timestamp()
    topic = f"noiselab/{SENSOR}/calibration"
    first = b'{"ts": "2026-11-03T02:00:00Z", "reference_db": 94.0, "measured_db": 95.1}'
    other = b'{"ts": 1793671200, "reference_db": 94.0, "measured_db": 94.3}'
    calibrations.add(field(T0, 94.6, 94.0))
    recorder = ToneCheckRecorder(calibrations)
    assert recorder.record(parse_tone_message(topic, first, received).checks) == []
    checks = parse_tone_message(topic, first + b" ", received + 60).checks
    checks += parse_tone_message(topic, other, received + 60).checks
    [refused] = recorder.record(checks)
    assert refused.reason == (
        "conflicts with stored tone check: at 2026-11-03T02:00:00Z: "
        "measured_db stored 95.1, offered 94.3"
    )
    assert (refused.topic, refused.sensor_id, refused.raw) == (topic, SENSOR, other)
    assert refused.received_at == received + 60
    assert [c.before_db for c in meta.calibrations.history(SENSOR)] == [94.6, 95.1]
    [alert] = meta.alerts.list_alerts()
    assert (alert.value, alert.last_value) == (1.1, 1.1)
