"""The alert evaluator on real SQLite files: readings written through ``SqliteStore``, rules
and alerts in a real metadata database, ``now`` injected.

Expected levels are energetic means worked out by hand in each test's docstring.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from noiselab.alerts.checks import last_complete_day
from noiselab.alerts.evaluate import Evaluator, Outcome
from noiselab.alerts.service import AlertService
from noiselab.analysis.alerting import (
    held_throughout,
    local_hours_mask,
    quarantine_rate,
    window_levels,
)
from noiselab.errors import StoreUnavailable
from noiselab.model import Reading, Rejection, Sensor
from noiselab.store.metadata import AlertRule, MetadataStore
from noiselab.store.metadata.tables import alerts_table
from noiselab.store.sqlite import SqliteStore

CPH = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
"""A Monday noon (UTC), far from daylight-saving changes; a whole minute."""
HOOK = "http://127.0.0.1:9/hook"
"""A webhook address; these tests catch the notifications before any request is made."""


class Bench:
    """A store, a metadata database with sensors and the built-in rules disabled, and an
    evaluator over them."""

    def __init__(self, root: Path, meta_url: str) -> None:
        self.store = SqliteStore(root / "readings.db")
        self.meta = MetadataStore(meta_url)
        self.repo = self.meta.alerts
        self.meta.sensors.add(
            [
                Sensor(id="road-1", name="road 1", source="road"),
                Sensor(id="rail-1", name="rail 1", source="rail"),
            ]
        )
        self.builtin = {rule.kind: rule for rule in self.repo.list_rules() if rule.builtin}
        for rule in self.builtin.values():
            self.set_enabled(rule, enabled=False)
        self.notified: list[tuple[int | None, int, str]] = []
        self.evaluator = Evaluator(
            self.store,
            self.meta,
            zone=CPH,
            notify=lambda rule, alert, what: self.notified.append((rule.id, alert.id, what)),
        )

    def set_enabled(self, rule: AlertRule, *, enabled: bool) -> AlertRule:
        assert rule.id is not None
        new = msgspec.structs.replace(rule, enabled=enabled)
        replaced = self.repo.replace_rule(rule.id, new, datetime.now(UTC))
        assert replaced is not None
        return replaced

    def rule(self, **fields: Any) -> AlertRule:
        fields = {"name": "test rule", "sensor_ids": ("road-1",)} | fields
        return self.repo.add_rule(AlertRule(**fields))

    def minutes(
        self, sensor_id: str, start: float, levels: list[float], lafmax: float | None = None
    ) -> None:
        """One 60-s reading per minute from ``start``."""
        readings = [
            Reading(sensor_id, start + 60 * i, level, duration=60.0, lafmax=lafmax)
            for i, level in enumerate(levels)
        ]
        self.store.write(readings, received_at=start + 60 * len(levels))

    def run(self, now: float) -> Outcome:
        return self.evaluator.run(now)

    def alerts(self, rule: AlertRule) -> list[Any]:
        return self.repo.list_alerts(rule_id=rule.id)


@pytest.fixture
def bench(tmp_path: Path, meta_url: str) -> Iterator[Bench]:
    """On a SQLite metadata file and on PostgreSQL (when a server answers)."""
    made = Bench(tmp_path, meta_url)
    try:
        yield made
    finally:
        made.store.close()
        made.meta.close()


# --------------------------------------------------------------------------- pure pieces


def test_window_levels_are_energetic_and_nan_without_data() -> None:
    """Minutes at 60 and 70 dB (60 s each) in one window: 10·log10((1e6 + 1e7)/2) = 67.40 dB;
    the LAFmax is the higher of 65 and 80; an empty window is NaN."""
    leq, peak = window_levels(
        [0.0, 60.0], [60.0, 70.0], [60.0, 60.0], [65.0, 80.0], ends=[120.0, 60.0, 0.0], window_s=120
    )
    np.testing.assert_allclose(leq[:2], [67.4036, 60.0], atol=1e-4)
    np.testing.assert_allclose(peak[:2], [80.0, 65.0])
    assert math.isnan(leq[2])
    assert math.isnan(peak[2])


def test_local_hours_cross_midnight_and_follow_daylight_saving() -> None:
    """Night 22-07 Copenhagen: 21:30 UTC in winter is 22:30 local (in), 20:30 UTC is 21:30
    (out); 05:30 UTC is 06:30 in winter (in) but 07:30 in summer time (out)."""
    ts = [
        datetime(2026, 3, 2, 21, 30, tzinfo=UTC).timestamp(),
        datetime(2026, 3, 2, 20, 30, tzinfo=UTC).timestamp(),
        datetime(2026, 3, 28, 5, 30, tzinfo=UTC).timestamp(),
        datetime(2026, 3, 29, 5, 30, tzinfo=UTC).timestamp(),
    ]
    assert local_hours_mask(ts, CPH, (22, 7)).tolist() == [True, False, True, False]
    assert local_hours_mask(ts, CPH, (7, 22)).tolist() == [False, True, False, True]


def test_held_throughout_and_quarantine_rate() -> None:
    assert held_throughout([True, True])
    assert not held_throughout([True, False])
    assert not held_throughout([])
    assert quarantine_rate(10, 90) == pytest.approx(0.1)
    assert quarantine_rate(0, 0) is None


def test_last_complete_day_waits_for_the_night_to_end() -> None:
    """Night 22-07: at 08:00 local on 3 March the last complete day is 2 March, at 06:00 it
    is still 1 March."""
    at_eight = datetime(2026, 3, 3, 7, 0, tzinfo=UTC).timestamp()  # 08:00 CET
    at_six = datetime(2026, 3, 3, 5, 0, tzinfo=UTC).timestamp()  # 06:00 CET
    assert last_complete_day(at_eight, CPH, 7) == date(2026, 3, 2)
    assert last_complete_day(at_six, CPH, 7) == date(2026, 3, 1)


# --------------------------------------------------------------------------- rule validation


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"metric": None, "threshold": 60.0}, "metric"),
        ({"metric": "laeq"}, "threshold"),
        ({"metric": "laeq", "threshold": 170.0}, "threshold"),
        ({"metric": "laeq", "threshold": 60.0, "window_s": 90}, "whole minutes"),
        ({"metric": "laeq", "threshold": 60.0, "window_s": 30}, "window_s"),
        ({"metric": "laeq", "threshold": 60.0, "min_duration_s": 30}, "min_duration_s"),
        ({"metric": "laeq", "threshold": 60.0, "local_hours": (22, 22)}, "local_hours"),
        ({"metric": "laeq", "threshold": 60.0, "local_hours": (22, 24)}, "local_hours"),
        ({"metric": "lden", "threshold": 60.0}, "86400"),
        ({"metric": "laeq", "threshold": 60.0, "source": "road", "sensor_ids": ("a1",)}, "both"),
        ({"metric": "laeq", "threshold": 60.0, "sensor_ids": ("Bad Id",)}, "sensor id"),
        ({"metric": "laeq", "threshold": 60.0, "webhook_url": "ftp://x"}, "webhook_url"),
        ({"metric": "laeq", "threshold": 60.0, "cooldown_s": -1}, "cooldown_s"),
        ({"kind": "offline", "threshold": 3.0}, "no threshold"),
        ({"kind": "offline", "metric": "laeq"}, "metric"),
        ({"kind": "quarantine_rate"}, "threshold"),
        ({"kind": "quarantine_rate", "threshold": 1.5}, "fraction"),
        ({"kind": "stuck", "min_duration_s": 60}, "min_duration_s"),
        ({"name": " ", "metric": "laeq", "threshold": 60.0}, "name"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlertRule(**({"name": "r"} | fields))


def test_good_rules_of_every_kind_are_accepted() -> None:
    AlertRule(name="night", metric="laeq", threshold=55, local_hours=(22, 7), min_duration_s=600)
    AlertRule(name="pass-by", metric="lafmax", threshold=85, window_s=60, source="rail")
    AlertRule(name="lden", metric="lden", threshold=58, window_s=86_400)
    AlertRule(name="offline", kind="offline", window_s=1800)
    AlertRule(name="stuck", kind="stuck", window_s=600, threshold=0.1)
    AlertRule(name="quarantine", kind="quarantine_rate", window_s=3600, threshold=0.05)


# --------------------------------------------------------------------------- level rules


def test_laeq_over_15_minutes_opens_an_alert_with_evidence(bench: Bench) -> None:
    """10 min at 60 dB then 5 min at 70 dB: LAeq,15min = 10·log10((10·1e6 + 5·1e7)/15)
    = 10·log10(4e6) = 66.02 dB, above 66 dB but not above 66.1 dB."""
    bench.minutes("road-1", T0 - 900, [60.0] * 10 + [70.0] * 5)
    above = bench.rule(metric="laeq", window_s=900, threshold=66.0, webhook_url=HOOK)
    below = bench.rule(metric="laeq", window_s=900, threshold=66.1)
    outcome = bench.run(T0 + 20)  # 20 s into the minute: only complete minutes count
    assert [a.rule_id for a in outcome.opened] == [above.id]
    assert bench.alerts(below) == []
    (alert,) = bench.alerts(above)
    assert alert.state == "open"
    assert alert.sensor_id == "road-1"
    assert alert.unit == "dB"
    assert alert.value == pytest.approx(66.02, abs=0.005)
    evidence = alert.evidence
    assert evidence["window_start"] == "2026-03-02T11:45:00Z"
    assert evidence["window_end"] == "2026-03-02T12:00:00Z"
    assert evidence["value_db"] == pytest.approx(66.02, abs=0.005)
    assert evidence["threshold_db"] == 66.0
    assert [e.action for e in bench.repo.history(alert.id)] == ["opened"]
    assert bench.notified == [(above.id, alert.id, "opened")]


def test_lafmax_is_the_highest_in_the_window(bench: Bench) -> None:
    """LAFmax 80 dB in minute -3 and 90 dB in minute -10: over 5 min the highest is 80 dB."""
    loudest = {T0 - 600: 90.0, T0 - 180: 80.0}  # stored history is immutable: sent once
    minutes = [T0 - 600 + 60 * i for i in range(10)]
    bench.store.write(
        [Reading("road-1", ts, 55.0, 60.0, lafmax=loudest.get(ts, 70.0)) for ts in minutes], T0
    )
    hit = bench.rule(metric="lafmax", window_s=300, threshold=79.0)
    miss = bench.rule(metric="lafmax", window_s=300, threshold=85.0)
    bench.run(T0)
    (alert,) = bench.alerts(hit)
    assert alert.value == 80.0
    assert bench.alerts(miss) == []


def _night_case(bench: Bench, now: datetime) -> bool:
    """A constant 55 dB for an hour before ``now``; a night rule (22-07) over 5 min at 50 dB."""
    start = now.timestamp() - 3600
    bench.minutes("road-1", start, [55.0] * 60)
    rule = bench.rule(metric="laeq", window_s=300, threshold=50.0, local_hours=(22, 7))
    bench.run(now.timestamp())
    return bool(bench.alerts(rule))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 2, 21, 31, tzinfo=UTC), True),  # 22:31 CET, the night has begun
        (datetime(2026, 3, 2, 20, 31, tzinfo=UTC), False),  # 21:31 CET, still evening
        (datetime(2026, 3, 2, 23, 31, tzinfo=UTC), True),  # 00:31 CET, across midnight
        (datetime(2026, 3, 28, 5, 31, tzinfo=UTC), True),  # 06:31 CET, winter time
        (datetime(2026, 3, 29, 5, 31, tzinfo=UTC), False),  # 07:31 CEST, after the change
    ],
)
def test_night_window_crosses_midnight_and_handles_dst(
    bench: Bench, now: datetime, expected: bool
) -> None:
    assert _night_case(bench, now) is expected


def test_night_window_counts_only_minutes_inside_it(bench: Bench) -> None:
    """At 22:02 CET a 15-min night LAeq sees only 21:00-21:02 UTC (the night's first two
    minutes, 50 dB), not the loud evening before (80 dB): 50 dB, below 55 dB."""
    start = datetime(2026, 3, 2, 20, 47, tzinfo=UTC).timestamp()
    bench.minutes("road-1", start, [80.0] * 13 + [50.0] * 2)
    rule = bench.rule(metric="laeq", window_s=900, threshold=55.0, local_hours=(22, 7))
    bench.run(start + 15 * 60)
    assert bench.alerts(rule) == []


def test_minimum_duration_must_hold_at_every_minute_check(bench: Bench) -> None:
    """LAeq,1min above 65 dB must hold for 5 min (6 checks): 3 loud minutes are not enough,
    6 are."""
    rule = bench.rule(metric="laeq", window_s=60, threshold=65.0, min_duration_s=300)
    bench.minutes("road-1", T0 - 600, [60.0] * 7 + [70.0] * 3)
    bench.run(T0)
    assert bench.alerts(rule) == []
    bench.minutes("road-1", T0, [70.0] * 3)
    bench.run(T0 + 180)
    (alert,) = bench.alerts(rule)
    checks = alert.evidence["checks"]
    assert len(checks) == 6
    assert all(c["holds"] for c in checks)


def test_one_open_alert_per_rule_and_sensor(bench: Bench) -> None:
    """A held condition updates the open alert; the database refuses a second one."""
    rule = bench.rule(metric="laeq", window_s=300, threshold=50.0)
    bench.minutes("road-1", T0 - 600, [60.0] * 12)
    first = bench.run(T0)
    second = bench.run(T0 + 60)
    assert len(first.opened) == 1
    assert second.opened == []
    assert second.held == 1
    (alert,) = bench.alerts(rule)
    assert alert.last_held_at == datetime.fromtimestamp(T0 + 60, UTC)
    now = datetime.fromtimestamp(T0 + 120, UTC)
    again = bench.repo.open_new(rule, "road-1", now=now, value=1.0, unit="dB", evidence={})
    assert again is None  # what a second evaluator racing the first gets
    row = {
        "rule_id": rule.id,
        "sensor_id": "road-1",
        "state": "open",
        "open_key": f"{rule.id}:road-1",
        "opened_at": now,
        "last_held_at": now,
        "unit": "dB",
        "evidence": "{}",
    }
    with pytest.raises(sa_exc.IntegrityError), bench.meta.engine.begin() as connection:
        connection.execute(sa.insert(alerts_table), row)


def test_auto_resolve_after_the_condition_clears_for_the_cooldown(bench: Bench) -> None:
    """Loud until T0, quiet afterwards; cooldown 5 min: still open at T0 + 4 min (clear for
    3 min since the last held check at T0 + 1 min), resolved at T0 + 6 min."""
    rule = bench.rule(metric="laeq", window_s=60, threshold=65.0, cooldown_s=300, webhook_url=HOOK)
    bench.minutes("road-1", T0 - 300, [70.0] * 5 + [70.0] + [50.0] * 10)
    bench.run(T0)
    bench.run(T0 + 60)  # the minute T0..T0+60 is still loud
    assert bench.run(T0 + 240).resolved == []
    outcome = bench.run(T0 + 360)
    (alert,) = bench.alerts(rule)
    assert [a.id for a in outcome.resolved] == [alert.id]
    assert alert.state == "resolved"
    history = bench.repo.history(alert.id)
    assert [(e.action, e.actor) for e in history] == [
        ("opened", "evaluator"),
        ("resolved", "evaluator"),
    ]
    assert "clear for 300 s" in history[-1].note
    assert [what for _, _, what in bench.notified] == ["opened", "resolved"]


def test_no_new_alert_within_the_cooldown_after_a_manual_resolution(bench: Bench) -> None:
    rule = bench.rule(metric="laeq", window_s=60, threshold=65.0, cooldown_s=600)
    bench.minutes("road-1", T0 - 300, [70.0] * 20)
    (alert,) = bench.run(T0).opened
    when = datetime.fromtimestamp(T0 + 30, UTC)
    bench.repo.resolve(alert.id, actor="kommune", key_id="k1", note="known works", now=when)
    assert bench.run(T0 + 300).opened == []
    assert len(bench.run(T0 + 660).opened) == 1
    assert len(bench.alerts(rule)) == 2


def test_lden_of_the_last_local_day(bench: Bench) -> None:
    """60 dB all through 2 March and its night (to 07:00 on 3 March): Lden = 66.67 dB
    (12/3/9 h, +5/+10 dB), judged at 08:00 on 3 March."""
    start = datetime(2026, 3, 2, 0, 0, tzinfo=CPH).timestamp()
    bench.minutes("road-1", start, [60.0] * (31 * 60))
    rule = bench.rule(metric="lden", window_s=86_400, threshold=66.0)
    quiet = bench.rule(metric="lden", window_s=86_400, threshold=67.0)
    bench.run(datetime(2026, 3, 3, 8, 0, tzinfo=CPH).timestamp())
    (alert,) = bench.alerts(rule)
    assert alert.value == pytest.approx(66.67, abs=0.005)
    assert alert.evidence["date"] == "2026-03-02"
    assert alert.evidence["lnight"] == 60.0
    assert bench.alerts(quiet) == []


def test_a_rule_watches_its_source(bench: Bench) -> None:
    bench.minutes("road-1", T0 - 300, [70.0] * 5)
    bench.minutes("rail-1", T0 - 300, [70.0] * 5)
    rule = bench.rule(metric="laeq", window_s=300, threshold=60.0, sensor_ids=(), source="rail")
    bench.run(T0)
    assert [a.sensor_id for a in bench.alerts(rule)] == ["rail-1"]


# --------------------------------------------------------------------------- health rules


def test_offline_rule_fires_after_an_hour_of_silence(bench: Bench) -> None:
    """road-1 last delivered 3700 s ago (offline), rail-1 10 s ago (fine); of two sensors
    that never sent data, the one registered 2 h ago is offline, the one registered 10 min
    ago not yet."""
    rule = bench.set_enabled(bench.builtin["offline"], enabled=True)
    old, new = datetime.fromtimestamp(T0 - 7200, UTC), datetime.fromtimestamp(T0 - 600, UTC)
    bench.meta.sensors.add(
        [
            Sensor(id="never-old", name="never old", source="road", created=old),
            Sensor(id="never-new", name="never new", source="road", created=new),
        ]
    )
    bench.store.write([Reading("road-1", T0 - 3760, 50.0, 60.0)], received_at=T0 - 3700)
    bench.store.write([Reading("rail-1", T0 - 70, 50.0, 60.0)], received_at=T0 - 10)
    bench.run(T0)
    never, alert = sorted(bench.alerts(rule), key=lambda a: a.sensor_id)
    assert (never.sensor_id, never.value) == ("never-old", 7200.0)
    assert never.evidence["last_received"] is None
    assert alert.sensor_id == "road-1"
    assert alert.unit == "s"
    assert alert.value == pytest.approx(3700.0)
    assert alert.evidence["last_received"] == "2026-03-02T10:58:20Z"


def test_stuck_rule_sees_a_frozen_level(bench: Bench) -> None:
    """road-1 reports exactly 50.0 dB for 12 min (stuck for >= 10 min); rail-1 varies."""
    rule = bench.set_enabled(bench.builtin["stuck"], enabled=True)
    bench.minutes("road-1", T0 - 720, [50.0] * 12)
    bench.minutes("rail-1", T0 - 720, [50.0 + 0.3 * (i % 2) for i in range(12)])
    bench.run(T0)
    (alert,) = bench.alerts(rule)
    assert alert.sensor_id == "road-1"
    assert alert.evidence["level_db"] == 50.0
    assert alert.evidence["duration_s"] == 720.0


def test_quarantine_rate_rule(bench: Bench) -> None:
    """road-1: 50 stored and 10 rejected in the last hour = 10/60 = 0.1667 > 0.05; rail-1:
    50 stored, 1 rejected = 0.0196 (fine); an old rejection does not count."""
    rule = bench.set_enabled(bench.builtin["quarantine_rate"], enabled=True)
    bench.minutes("road-1", T0 - 3000, [55.0] * 50)
    bench.minutes("rail-1", T0 - 3000, [55.0] * 50)

    def reject(sensor_id: str, n: int, at: float) -> Rejection:
        raw = f'{{"n": {n}}}'.encode()
        topic = f"noiselab/{sensor_id}/levels"
        return Rejection(topic, sensor_id, raw, "laeq: missing", received_at=at)

    bench.meta.quarantine.add([reject("road-1", i, T0 - 600) for i in range(10)])
    bench.meta.quarantine.add([reject("rail-1", 0, T0 - 600), reject("rail-1", 1, T0 - 7200)])
    bench.run(T0)
    (alert,) = bench.alerts(rule)
    assert alert.sensor_id == "road-1"
    assert alert.unit == "ratio"
    assert alert.value == pytest.approx(0.1667, abs=1e-4)
    assert (alert.evidence["quarantined"], alert.evidence["stored"]) == (10, 50)


# --------------------------------------------------------------------------- the loop


class _FailingStore:
    """A store whose backend is down (the one stand-in here: a database that fails on cue)."""

    def activity(self) -> list[Any]:
        raise StoreUnavailable("store: database is locked")


class _BrokenStore:
    """A store that fails in a way nobody planned for."""

    def activity(self) -> list[Any]:
        raise RuntimeError("unexpected")


def test_the_service_survives_a_failing_store(bench: Bench) -> None:
    for store in (_FailingStore(), _BrokenStore()):
        evaluator = Evaluator(store, bench.meta, zone=CPH)  # type: ignore[arg-type]
        service = AlertService(evaluator, interval_s=60, clock=lambda: T0)
        assert service.run_once() is None
    good = AlertService(bench.evaluator, interval_s=60, clock=lambda: T0)
    assert good.run_once() is not None


class _Counting(Evaluator):
    passes: int = 0

    def run(self, now: float) -> Outcome:
        self.passes += 1
        return super().run(now)


def test_the_service_evaluates_every_interval_and_stops_when_asked(bench: Bench) -> None:
    evaluator = _Counting(bench.store, bench.meta, zone=CPH)
    service = AlertService(evaluator, interval_s=0.2)
    runner = threading.Thread(target=service.run)
    runner.start()
    deadline = time.monotonic() + 10
    while evaluator.passes < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    service.request_stop()
    runner.join(5)
    assert not runner.is_alive()
    assert evaluator.passes >= 3
