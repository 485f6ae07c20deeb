"""Fault injection: exactly the faults asked for, and the ingest stores what it should."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from support.pipeline import PipelineLab, publish_all

from noiselab.broker import MosquittoBroker
from noiselab.errors import ConfigError
from noiselab.ingest.message import parse_message
from noiselab.ingest.reasons import DURATION_OVERLAPS_NEXT
from noiselab.sensors_sim.faults import (
    FaultSettings,
    Outgoing,
    Planned,
    apply_faults,
    parse_faults,
)
from noiselab.sensors_sim.generate import generate, readings
from noiselab.sensors_sim.site_specs import load_sites
from noiselab.sensors_sim.sites import registry_sensors
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z, in the past


def _plan(count: int = 1200, *, batch: bool = False) -> list[Planned]:
    """Live-style single readings of two sites (or batches of 100 if ``batch``)."""
    out: list[Planned] = []
    for site in load_sites()[:2]:
        rows = readings(generate(site, T0, T0 + count, seed=2))
        step = 100 if batch else 1
        out.extend(
            Planned(site.id, tuple(rows[i : i + step]), batch=batch) for i in range(0, count, step)
        )
    return out


def _overlapped(out: list[Outgoing]) -> set[tuple[str, float]]:
    """(sensor, ts) of the published readings refused for reaching past the next reading of
    their message (the same message published twice counts once)."""
    found: set[tuple[str, float]] = set()
    for message in out:
        parsed = parse_message(f"noiselab/{message.sensor_id}/levels", message.payload, T0 + 1e6)
        for rejection in parsed.rejections:
            if rejection.reason.startswith(DURATION_OVERLAPS_NEXT):
                found.add((message.sensor_id, msgspec.json.decode(rejection.raw)["ts"]))
    return found


def _sent(out: list[Outgoing]) -> list[tuple[str, dict[str, float]]]:
    """Every well-formed reading published, as (sensor, reading)."""
    result: list[tuple[str, dict[str, float]]] = []
    for message in out:
        parsed = parse_message(f"noiselab/{message.sensor_id}/levels", message.payload, T0 + 1e6)
        body = _decode(message.payload)
        if body is None or parsed.rejections:
            continue
        items = body if isinstance(body, list) else [body]
        result.extend((message.sensor_id, item) for item in items)
    return result


def _decode(payload: bytes) -> object:
    try:
        return msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return None


def test_no_faults_by_default_publishes_the_plan_unchanged() -> None:
    plan = _plan(50)
    out, log = apply_faults(plan, FaultSettings(), seed=1)
    assert len(out) == len(plan)
    assert [msgspec.json.decode(o.payload) for o in out] == [dict(p.readings[0]) for p in plan]
    assert log.dropped == []
    assert log.malformed == []
    assert log.duplicated == 0


def test_dropouts_remove_exactly_the_logged_readings() -> None:
    plan = _plan()
    out, log = apply_faults(plan, FaultSettings(dropout=0.05), seed=1)
    planned = {(p.sensor_id, float(r["ts"])) for p in plan for r in p.readings}
    sent = {(s, float(r["ts"])) for s, r in _sent(out)}
    assert 60 < len(log.dropped) < 180
    assert sent == planned - set(log.dropped)
    assert len(out) == len(plan) - len(log.dropped)


def test_offline_periods_come_back_as_one_batch_upload() -> None:
    plan = _plan()
    settings = FaultSettings(offline=0.002, offline_s=120)
    out, log = apply_faults(plan, settings, seed=3)
    assert log.offline_uploads, "no offline period drawn"
    batches = [o for o in out if o.payload.startswith(b"[")]
    assert [(o.sensor_id, len(msgspec.json.decode(o.payload))) for o in batches] == (
        log.offline_uploads
    )
    assert all(n == 120 for _, n in log.offline_uploads[:-1])
    # Nothing lost: every planned reading is sent once, the buffered ones late.
    sent = Counter((s, float(r["ts"])) for s, r in _sent(out))
    assert sorted(sent) == sorted((p.sensor_id, float(r["ts"])) for p in plan for r in p.readings)
    assert set(sent.values()) == {1}


def test_stuck_values_repeat_and_skew_shifts_timestamps() -> None:
    plan = _plan()
    out, log = apply_faults(plan, FaultSettings(stuck=0.002, stuck_s=60), seed=5)
    assert log.stuck
    by_ts = {(s, float(r["ts"])): r for s, r in _sent(out)}
    stuck_levels = {
        (sensor, by_ts[(sensor, ts)]["laeq"], by_ts[(sensor, ts)]["lafmax"])
        for sensor, ts in log.stuck
    }
    assert len(stuck_levels) <= len(log.stuck) // 59 + 2  # one frozen value per period
    out, log = apply_faults(plan, FaultSettings(skew=0.002, skew_s=60), seed=5)
    assert log.skewed
    sent = {(s, float(r["ts"])) for s, r in _sent(out)}
    for sensor, planned_ts, sent_ts in log.skewed:
        assert 1.2 <= abs(sent_ts - planned_ts) <= 60.8
        assert (sensor, sent_ts) in sent
        assert (sensor, planned_ts) not in sent or planned_ts != sent_ts


def test_duplicates_and_malformed_messages_are_counted_exactly() -> None:
    plan = _plan(600, batch=True)
    out, log = apply_faults(plan, FaultSettings(duplicate=0.3, malformed=0.3), seed=7)
    assert log.duplicated > 0
    assert log.malformed
    assert len(out) == len(plan) + log.duplicated + len(log.malformed)
    rejected = [
        o
        for o in out
        if parse_message(f"noiselab/{o.sensor_id}/levels", o.payload, T0 + 1e6).rejections
    ]
    assert len(rejected) == len(log.malformed)
    assert {kind for _, kind in log.malformed} <= {
        "invalid-json",
        "laeq-out-of-range",
        "missing-ts",
    }


def test_same_seed_same_faults() -> None:
    plan = _plan(300)
    settings = parse_faults(
        "dropout=0.05,offline=0.01,stuck=0.01,skew=0.01,duplicate=0.1,malformed=0.1"
    )
    assert apply_faults(plan, settings, seed=9) == apply_faults(plan, settings, seed=9)
    assert apply_faults(plan, settings, seed=9)[0] != apply_faults(plan, settings, seed=10)[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dropout", "expected NAME=RATE"),
        ("drop=0.1", "unknown fault 'drop'"),
        ("dropout=x", "is not a number"),
        ("dropout=1.5", "rate from 0 to 1"),
        ("dropout=0.1,dropout=0.2", "given twice"),
        ("offline_s=0", "positive duration"),
    ],
)
def test_bad_fault_specs_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_faults(text)
    assert parse_faults("") == FaultSettings()
    assert parse_faults(" dropout=0.5 , skew_s=30").skew_s == 30


@pytest.mark.process
def test_ingest_stores_what_faulty_sensors_should_have_stored(
    tmp_path: Path,
    broker: MosquittoBroker,
    prefix: str,
    ingest_factory: Callable[..., object],
) -> None:
    """Duplicates stored once, malformed quarantined, offline uploads stored, dropouts missing,
    skewed readings stored at their skewed time."""
    lab = PipelineLab(tmp_path, broker, prefix)
    sites = load_sites()[:2]
    meta = MetadataStore(lab.meta_url)
    meta.sensors.add(registry_sensors(sites))
    meta.close()
    ingest_factory(*lab.ingest_args())
    plan = _plan(600)
    settings = FaultSettings(
        dropout=0.05,
        offline=0.003,
        offline_s=60,
        skew=0.003,
        skew_s=30,
        duplicate=0.05,
        malformed=0.02,
    )
    out, log = apply_faults(plan, settings, seed=11)
    for fault in (log.dropped, log.offline_uploads, log.duplicated, log.malformed, log.skewed):
        assert fault
    publish_all(broker, [(lab.topic(o.sensor_id), o.payload) for o in out])
    # A skewed clock inside an offline upload makes readings overlap the next one of the
    # message: those are refused as impossible (reading_rules.overlapping).
    overlapped = _overlapped(out)
    expected = len(plan) - len(log.dropped) - len(overlapped)
    lab.wait_count(expected)
    deadline = time.monotonic() + 30
    refused = len(log.malformed) + len(overlapped)
    while len(lab.quarantine()) < refused and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # nothing more arrives
    assert lab.count() == expected
    assert len(lab.quarantine()) == refused
    with SqliteStore(lab.db) as store:
        stored = {s.id: {r.ts for r in store.readings(s.id, T0 - 100, T0 + 1000)} for s in sites}
    dropped = set(log.dropped)
    assert all(ts not in stored[s] for s, ts in dropped)
    sent_ts = {(s, planned): sent for s, planned, sent in log.skewed}
    assert all(
        sent_ts.get((s, ts), ts) in stored[s]
        for s, ts in log.offline_readings
        if (s, ts) not in dropped and (s, sent_ts.get((s, ts), ts)) not in overlapped
    )
    assert all(
        sent in stored[s]
        for s, planned, sent in log.skewed
        if (s, planned) not in dropped and (s, sent) not in overlapped
    )
