"""The simulator's nightly calibrator-tone checks: 03:00 local time each night, exact across
daylight-saving changes; healthy sensors read the tone within ±0.05 dB, the drifting demo
sensor 0.8 dB higher from ``drift_at``; the same seed gives the same checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from noiselab.analysis.calibration import drifts, uncertain_spans
from noiselab.sensors_sim.tone_checks import (
    DRIFTING_SENSOR,
    REFERENCE_DB,
    check_times,
    next_check,
    tone_messages,
)


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_checks_are_at_three_local_across_the_autumn_change() -> None:
    """Copenhagen leaves summer time on 2026-10-25: 03:00 local is 01:00Z before (CEST,
    UTC+2) and 02:00Z from that night on (CET, UTC+1)."""
    times = check_times(utc(2026, 10, 23), utc(2026, 10, 27))
    assert times == [
        utc(2026, 10, 23, 1),
        utc(2026, 10, 24, 1),
        utc(2026, 10, 25, 2),
        utc(2026, 10, 26, 2),
    ]
    assert check_times(utc(2026, 10, 23, 1), utc(2026, 10, 23, 1)) == []
    assert check_times(utc(2026, 10, 23, 1), utc(2026, 10, 23, 1, 0, 1)) == [utc(2026, 10, 23, 1)]
    assert next_check(utc(2026, 10, 23, 1)) == utc(2026, 10, 24, 1)


def test_the_drifting_sensor_reads_high_from_drift_at_and_makes_one_uncertain_span() -> None:
    start = utc(2026, 11, 2)
    checks = tone_messages(
        [DRIFTING_SENSOR, "bg-strandpark"], start, start + 7 * 86_400, drift_at=start + 3.5 * 86_400
    )
    again = tone_messages(
        [DRIFTING_SENSOR, "bg-strandpark"], start, start + 7 * 86_400, drift_at=start + 3.5 * 86_400
    )
    assert checks == again
    by_sensor: dict[str, list[dict[str, float]]] = {}
    for check in checks:
        by_sensor.setdefault(check.sensor_id, []).append(json.loads(check.payload))
    healthy = by_sensor["bg-strandpark"]
    drifting = by_sensor[DRIFTING_SENSOR]
    assert all(abs(c["measured_db"] - REFERENCE_DB) <= 0.05 for c in healthy)
    assert [c["measured_db"] > 94.5 for c in drifting] == [False] * 4 + [True] * 3
    series = [[c["ts"] for c in drifting], [94.0] * 7, [c["measured_db"] for c in drifting]]
    nan = [float("nan")] * 7
    [span] = uncertain_spans(*series, nan)
    assert (span.start, span.end) == (utc(2026, 11, 5, 2), utc(2026, 11, 6, 2))
    assert 0.7 <= span.drift_db <= 0.9
    healthy_drift = drifts([94.0] * 7, [c["measured_db"] for c in healthy], nan)
    assert max(abs(healthy_drift)) <= 0.1  # negative control: no span for the healthy one


def test_no_drift_without_drift_at() -> None:
    start = utc(2026, 11, 2)
    checks = tone_messages([DRIFTING_SENSOR], start, start + 7 * 86_400)
    assert all(json.loads(c.payload)["measured_db"] < 94.1 for c in checks)
