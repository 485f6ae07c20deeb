"""The simulated sensors' nightly calibrator-tone checks: pure, times in, messages out.

Every sensor checks itself each night at 03:00 local time (Europe/Copenhagen, exact across
daylight-saving changes) with a 94.0 dB calibrator tone and publishes what it read on
``{prefix}/{sensor_id}/calibration`` as ``{"ts", "reference_db", "measured_db"}``. A healthy
sensor reads the tone within ±0.05 dB (a repeatable draw from the seed). One demo sensor,
:data:`DRIFTING_SENSOR`, drifts: from ``drift_at`` (the middle of the backfilled week by
default) its microphone reads :data:`DRIFT_DB` higher, so the first check after that drifts
+0.8 dB from the one before, which makes the data between them calibration uncertain and
raises the staff alert (:mod:`noiselab.analysis.calibration`). Only its tone checks carry the
drift; its simulated levels are left as the physical model makes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from noiselab.analysis.decibels import round_db

__all__ = [
    "CHECK_HOUR",
    "DRIFTING_SENSOR",
    "DRIFT_DB",
    "REFERENCE_DB",
    "ToneMessage",
    "check_times",
    "next_check",
    "tone_messages",
]

REFERENCE_DB = 94.0
"""The calibrator tone, dB re 20 µPa at 1 kHz (a class 1 calibrator's usual level)."""
CHECK_HOUR = 3
"""Local hour of the nightly check, when the sites are quietest."""
DRIFTING_SENSOR = "bg-vallensbaek-mose"
"""The demo sensor whose microphone drifts (a background site: no trial depends on it)."""
DRIFT_DB = 0.8
"""How much higher the drifting sensor reads after ``drift_at``, dB."""
SCATTER_DB = 0.05
"""A healthy check's scatter around the tone, ± dB (uniform)."""
ZONE = ZoneInfo("Europe/Copenhagen")


class ToneMessage(msgspec.Struct, frozen=True):
    """One check to publish: the sensor, its time (Unix s) and the JSON payload."""

    sensor_id: str
    ts: float
    payload: bytes


def check_times(start: float, end: float, zone: ZoneInfo = ZONE) -> list[float]:
    """Unix seconds of each local ``CHECK_HOUR``:00 in ``[start, end)``."""
    if end <= start:
        return []
    day = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, zone).date()
    times = []
    while day <= last:
        at = datetime(day.year, day.month, day.day, CHECK_HOUR, tzinfo=zone).timestamp()
        if start <= at < end:
            times.append(at)
        day += timedelta(days=1)
    return times


def _scatter(sensor_id: str, ts: float, seed: int) -> float:
    """A repeatable reading scatter within ±SCATTER_DB for this sensor and night."""
    key = [seed & 0xFFFFFFFF, int(ts) & 0xFFFFFFFF, *sensor_id.encode()]
    return float(np.random.default_rng(key).uniform(-SCATTER_DB, SCATTER_DB))


def tone_messages(
    sensor_ids: Sequence[str],
    start: float,
    end: float,
    *,
    seed: int = 0,
    drift_at: float | None = None,
) -> list[ToneMessage]:
    """The checks of ``sensor_ids`` in ``[start, end)``, in time order (sensors interleaved);
    :data:`DRIFTING_SENSOR` reads :data:`DRIFT_DB` higher from ``drift_at`` on (never when
    ``None``)."""
    out: list[ToneMessage] = []
    for ts in check_times(start, end):
        for sensor_id in sensor_ids:
            measured = REFERENCE_DB + _scatter(sensor_id, ts, seed)
            if sensor_id == DRIFTING_SENSOR and drift_at is not None and ts >= drift_at:
                measured += DRIFT_DB
            body = {"ts": ts, "reference_db": REFERENCE_DB, "measured_db": round_db(measured)}
            out.append(ToneMessage(sensor_id, ts, msgspec.json.encode(body)))
    return out


def next_check(after: float) -> float:
    """The first check time strictly after ``after`` (Unix s)."""
    found = check_times(math.floor(after) + 1, after + 2 * 86_400)
    return found[0]
