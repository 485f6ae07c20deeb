"""The pure parser of calibrator-tone checks (``{prefix}/{sensor_id}/calibration``): a good
check becomes a ``tone`` calibration; anything else a rejection with a reason a person can
read; it never raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noiselab.ingest.tone import parse_tone_message, tone_sensor_id

TOPIC = "noiselab/bg-vallensbaek-mose/calibration"
RECEIVED = datetime(2026, 11, 3, 2, 0, 5, tzinfo=UTC).timestamp()


def test_a_check_becomes_a_tone_calibration() -> None:
    payload = b'{"ts": 1793671200, "reference_db": 94.0, "measured_db": 94.12, "extra": 1}'
    checks, rejections = parse_tone_message(TOPIC, payload, RECEIVED)
    assert rejections == []
    [check] = checks
    c = check.calibration
    assert (c.sensor_id, c.kind, c.by) == ("bg-vallensbaek-mose", "tone", "tone check")
    assert (c.reference_db, c.before_db, c.after_db) == (94.0, 94.12, None)
    assert c.ts == datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    assert c.created_at.timestamp() == RECEIVED
    assert (check.topic, check.raw, check.received_at) == (TOPIC, payload, RECEIVED)


def test_rfc3339_times_and_a_matching_sensor_id_are_accepted() -> None:
    payload = (
        b'{"ts": "2026-11-03T03:00:00+01:00", "reference_db": 114, "measured_db": 113.9,'
        b' "sensor_id": "bg-vallensbaek-mose"}'
    )
    [check] = parse_tone_message(TOPIC, payload, RECEIVED).checks
    assert check.calibration.ts == datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    assert check.calibration.reference_db == 114.0


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TOPIC, b"not json", "not UTF-8 JSON"),
        (TOPIC, b"\xff\xfe", "not UTF-8 JSON"),
        (TOPIC, b"[1, 2]", "expected one JSON object, got an array"),
        (TOPIC, b'{"reference_db": 94, "measured_db": 94}', "ts: missing"),
        (
            TOPIC,
            b'{"ts": 1793671200, "reference_db": 94, "measured_db": 171}',
            "measured_db: must be between 0 and 160 dB, got 171",
        ),
        (
            TOPIC,
            b'{"ts": 1793671200, "reference_db": true, "measured_db": 94}',
            "reference_db: expected a number of dB, got boolean true",
        ),
        (TOPIC, b'{"ts": 1793671200, "measured_db": 94}', "reference_db: missing"),
        (
            TOPIC,
            b'{"ts": 1793681200, "reference_db": 94, "measured_db": 94}',
            "ts: 9995 s in the future of the receive time (limit 300 s)",
        ),
        (TOPIC, b'{"ts": 5, "reference_db": 94, "measured_db": 94}', "before 2000-01-01"),
        (TOPIC, b'{"ts": "yesterday", "reference_db": 94, "measured_db": 94}', "RFC 3339"),
        (
            TOPIC,
            b'{"ts": 1793671200, "reference_db": 94, "measured_db": 94, "sensor_id": "x-1"}',
            "sensor_id: 'x-1' is not the topic's 'bg-vallensbaek-mose'",
        ),
        (TOPIC, b'{"ts": 1e999, "reference_db": 94, "measured_db": 94}', "ts: expected"),
        (
            TOPIC,
            b'{"ts": 1793671200, "reference_db": 1' + b"0" * 400 + b', "measured_db": 94}',
            "reference_db: must be between",
        ),
        (TOPIC, b" " * 5000, "at most 4096 bytes"),
        ("noiselab/Bad Id/calibration", b"{}", "is not noiselab/<sensor_id>/calibration"),
    ],
)
def test_bad_checks_are_rejected_with_a_reason(topic: str, payload: bytes, reason: str) -> None:
    checks, [rejection] = parse_tone_message(topic, payload, RECEIVED)
    assert checks == []
    assert reason in rejection.reason
    assert rejection.topic == topic
    assert rejection.raw == payload[:4096]
    assert rejection.received_at == RECEIVED


def test_the_topic_names_the_sensor() -> None:
    assert tone_sensor_id(TOPIC) == "bg-vallensbaek-mose"
    assert tone_sensor_id("lab/x/bg-1/calibration", "lab/x") == "bg-1"
    assert tone_sensor_id("noiselab/bg-1/levels") is None
    assert tone_sensor_id("noiselab/a/b/calibration") is None


FUZZ = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300))
def test_the_parser_never_raises_on_any_bytes(payload: bytes) -> None:
    checks, rejections = parse_tone_message(TOPIC, payload, RECEIVED)
    assert len(checks) + len(rejections) == 1


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["ts", "reference_db", "measured_db", "sensor_id"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=30),
        ),
    )
)
def test_the_parser_never_raises_on_any_object(value: dict[str, object]) -> None:
    payload = json.dumps(value).encode()
    checks, rejections = parse_tone_message(TOPIC, payload, RECEIVED)
    assert len(checks) + len(rejections) == 1
