"""Whether a rule holds for one sensor at an instant ``now``: the measurements behind each
rule kind, read from the time-series store and the quarantine, judged by
:mod:`noiselab.analysis`.

Every check takes ``now`` (Unix s) explicitly, so tests inject a clock. Level checks look at
complete minutes only: the minute roll-ups of ``[now_minute - window, now_minute)``, where
``now_minute`` is ``now`` rounded down to a whole minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.alerting import (
    held_throughout,
    local_hours_mask,
    quarantine_rate,
    window_levels,
)
from noiselab.analysis.decibels import round_db
from noiselab.analysis.periods import lden
from noiselab.analysis.quality import find_stuck
from noiselab.model import rfc3339
from noiselab.store.base import ReadingStore, SensorActivity
from noiselab.store.metadata import AlertRule

__all__ = ["Context", "Finding", "check"]

MAX_CHECKS_IN_EVIDENCE = 60


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one check: whether the condition holds, the value judged (in
    ``unit``: ``dB``, ``s`` or ``ratio``; ``None`` without data) and the evidence (JSON-ready)."""

    holds: bool
    value: float | None
    unit: str
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """What every check of one evaluation shares: ``now`` (Unix s), the local zone and
    periods, the store, the last activity per sensor, the quarantine counts per sensor over
    each rule window (seconds → counts) and when each sensor was registered (Unix s)."""

    now: float
    zone: ZoneInfo
    day: tuple[int, int]
    evening: tuple[int, int]
    store: ReadingStore
    activity: dict[str, SensorActivity]
    quarantined: dict[int, dict[str | None, int]] = field(default_factory=dict)
    registered: dict[str, float] = field(default_factory=dict)


def check(rule: AlertRule, sensor_id: str, ctx: Context) -> Finding:
    """Judge ``rule`` on ``sensor_id`` at ``ctx.now``."""
    if rule.kind == "offline":
        return _offline(rule, sensor_id, ctx)
    if rule.kind == "stuck":
        return _stuck(rule, sensor_id, ctx)
    if rule.kind == "quarantine_rate":
        return _quarantine_rate(rule, sensor_id, ctx)
    if rule.metric == "lden":
        return _lden(rule, sensor_id, ctx)
    return _level(rule, sensor_id, ctx)


def _iso(ts: float) -> str:
    return rfc3339(datetime.fromtimestamp(ts, UTC))


def _db(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round_db(value)


def _level(rule: AlertRule, sensor_id: str, ctx: Context) -> Finding:
    """``laeq`` or ``lafmax`` over the window before each minute check in the last
    ``min_duration_s``; it holds when every check is above the threshold (and, with local
    hours, the minute before each check lies inside them)."""
    assert rule.threshold is not None
    now_minute = math.floor(ctx.now / 60) * 60
    checks = rule.min_duration_s // 60 + 1
    ends = now_minute - 60.0 * np.arange(checks - 1, -1, -1)
    first = float(ends[0]) - rule.window_s
    series = ctx.store.minute_series(
        sensor_id, datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(now_minute, UTC)
    )
    ts, laeq, seconds, lafmax = series.ts, series.laeq, series.duration, series.lafmax
    active = np.ones(ends.size, dtype=np.bool_)
    if rule.local_hours is not None:
        inside = local_hours_mask(ts, ctx.zone, rule.local_hours)
        ts, laeq, seconds, lafmax = ts[inside], laeq[inside], seconds[inside], lafmax[inside]
        active = local_hours_mask(ends - 60.0, ctx.zone, rule.local_hours)
    leq, peak = window_levels(ts, laeq, seconds, lafmax, ends=ends, window_s=rule.window_s)
    values = leq if rule.metric == "laeq" else peak
    with np.errstate(invalid="ignore"):
        holds_each = active & (values > rule.threshold)
    value = _db(float(values[-1]))
    evidence: dict[str, Any] = {
        "metric": rule.metric,
        "window_s": rule.window_s,
        "window_start": _iso(now_minute - rule.window_s),
        "window_end": _iso(now_minute),
        "value_db": value,
        "threshold_db": rule.threshold,
        "min_duration_s": rule.min_duration_s,
        "local_hours": None if rule.local_hours is None else list(rule.local_hours),
        "checks": [
            {"end": _iso(float(end)), "value_db": _db(float(v)), "holds": bool(h)}
            for end, v, h in zip(ends, values, holds_each, strict=True)
        ][-MAX_CHECKS_IN_EVIDENCE:],
    }
    return Finding(held_throughout(holds_each), value, "dB", evidence)


def last_complete_day(now: float, zone: ZoneInfo, day_start: int) -> date:
    """The latest local date whose night has ended by ``now`` (it ends at ``day_start``
    local hours on the next date): at 08:00 on 3 March that is 2 March, at 06:00 1 March."""
    local = datetime.fromtimestamp(now, zone).replace(tzinfo=None)
    return (local - timedelta(hours=day_start)).date() - timedelta(days=1)


def _local_instant(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)


def _lden(rule: AlertRule, sensor_id: str, ctx: Context) -> Finding:
    """Lden of the last complete local day (Danish 12/3/9 h periods by default)."""
    assert rule.threshold is not None
    day = last_complete_day(ctx.now, ctx.zone, ctx.day[0])
    after = day + timedelta(days=1)
    series = ctx.store.minute_series(
        sensor_id, _local_instant(day, 0, ctx.zone), _local_instant(after, ctx.day[0], ctx.zone)
    )
    rows = lden(
        series.ts,
        series.laeq,
        series.duration,
        ctx.zone,
        ctx.day,
        ctx.evening,
        start=day,
        end=after,
    )
    row = rows[0]
    value = _db(row.lden)
    evidence = {
        "metric": "lden",
        "date": day.isoformat(),
        "value_db": value,
        "threshold_db": rule.threshold,
        "lday": _db(row.lday),
        "levening": _db(row.levening),
        "lnight": _db(row.lnight),
        "coverage": {
            "day": round(row.coverage_day, 4),
            "evening": round(row.coverage_evening, 4),
            "night": round(row.coverage_night, 4),
        },
    }
    return Finding(value is not None and value > rule.threshold, value, "dB", evidence)


def _offline(rule: AlertRule, sensor_id: str, ctx: Context) -> Finding:
    """No data received for more than ``window_s``; a sensor that never sent any counts
    from its registration (a new sensor gets ``window_s`` to start)."""
    seen = ctx.activity.get(sensor_id)
    since = ctx.registered.get(sensor_id, ctx.now) if seen is None else seen.last_received
    silent = max(0.0, ctx.now - since)
    evidence = {
        "silent_s": round(silent, 1),
        "allowed_s": rule.window_s,
        "last_received": None if seen is None else _iso(seen.last_received),
        "last_seen": None if seen is None else _iso(seen.last_ts),
    }
    return Finding(silent > rule.window_s, round(silent, 1), "s", evidence)


def _stuck(rule: AlertRule, sensor_id: str, ctx: Context) -> Finding:
    """A run of readings within the tolerance for ``window_s`` that lasts up to the latest
    reading (looking back twice the window)."""
    tolerance = rule.threshold or 0.0
    series = ctx.store.series(
        sensor_id,
        datetime.fromtimestamp(ctx.now - 2 * rule.window_s, UTC),
        datetime.fromtimestamp(ctx.now, UTC),
    )
    runs = []
    if len(series):
        runs = find_stuck(
            series.ts,
            series.laeq,
            durations=series.duration,
            min_duration_s=rule.window_s,
            tolerance_db=tolerance,
        )
    latest_end = float(series.ts[-1] + series.duration[-1]) if len(series) else None
    ongoing = [r for r in runs if latest_end is not None and r.end >= latest_end]
    run = ongoing[-1] if ongoing else None
    evidence: dict[str, Any] = {"min_duration_s": rule.window_s, "tolerance_db": tolerance}
    if run is not None:
        evidence |= {
            "level_db": round_db(run.level),
            "run_start": _iso(run.start),
            "run_end": _iso(run.end),
            "duration_s": round(run.duration_s, 1),
            "readings": run.count,
        }
    value = None if run is None else round(run.duration_s, 1)
    return Finding(run is not None, value, "s", evidence)


def _quarantine_rate(rule: AlertRule, sensor_id: str, ctx: Context) -> Finding:
    """Rejected over received (stored + rejected) readings in the last ``window_s``: stored
    readings by their measurement time, rejections by their receive time."""
    assert rule.threshold is not None
    rejected = ctx.quarantined.get(rule.window_s, {}).get(sensor_id, 0)
    stored = len(
        ctx.store.series(
            sensor_id,
            datetime.fromtimestamp(ctx.now - rule.window_s, UTC),
            datetime.fromtimestamp(ctx.now, UTC),
        )
    )
    rate = quarantine_rate(rejected, stored)
    evidence = {
        "window_s": rule.window_s,
        "quarantined": rejected,
        "stored": stored,
        "rate": None if rate is None else round(rate, 4),
        "threshold": rule.threshold,
    }
    value = None if rate is None else round(rate, 4)
    return Finding(rate is not None and rate > rule.threshold, value, "ratio", evidence)
