"""Level models for simulated sensors. A model turns interval start times into levels.

``LevelModel`` is the slot: the realistic Vallensbæk model (traffic counts, pass-bys, weather)
replaces ``DiurnalModel`` without touching the publisher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.sensors_sim.sites import SimSensor

__all__ = ["DiurnalModel", "LevelModel", "SimLevels"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SimLevels:
    """Per-interval levels in dB: LAeq, LAFmax and LAFmin."""

    laeq: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray


class LevelModel(Protocol):
    """Levels of ``sensor`` for intervals starting at ``ts`` (Unix s) of ``duration`` s."""

    def levels(
        self, sensor: SimSensor, ts: FloatArray, duration: float, rng: np.random.Generator
    ) -> SimLevels: ...


# Relative traffic volume by local hour (0-23), shaped like Danish motorway counts: low at night,
# morning and afternoon peaks. Levels follow 10·log10 of the volume.
_HOURLY_VOLUME = np.array(
    [
        0.12,
        0.08,
        0.06,
        0.06,
        0.1,
        0.3,
        0.7,
        1.0,
        0.95,
        0.8,
        0.75,
        0.75,
        0.78,
        0.8,
        0.85,
        0.95,
        1.0,
        0.95,
        0.8,
        0.6,
        0.45,
        0.35,
        0.25,
        0.18,
    ]
)
_ZONE = ZoneInfo("Europe/Copenhagen")


def _local_hours(ts: FloatArray) -> npt.NDArray[np.int64]:
    """Local hour of each timestamp; offsets looked up once per distinct UTC hour."""
    hours_utc = np.floor(ts / 3600.0).astype(np.int64)
    offsets = {int(h): int(_offset_seconds(float(h) * 3600.0)) for h in np.unique(hours_utc)}
    offset = np.array([offsets[int(h)] for h in hours_utc], dtype=np.int64)
    return ((ts.astype(np.int64) + offset) // 3600) % 24


def _offset_seconds(t: float) -> float:
    from datetime import UTC, datetime

    delta = datetime.fromtimestamp(t, UTC).astimezone(_ZONE).utcoffset()
    return delta.total_seconds() if delta else 0.0


@dataclass(frozen=True, slots=True)
class DiurnalModel:
    """Base level plus a diurnal traffic term plus Gaussian fluctuation; rail sensors add
    train pass-bys (about ``trains_per_hour``, 20-40 s long, 15-25 dB above the base)."""

    traffic_range_db: float = 14.0
    sigma_db: float = 1.5
    trains_per_hour: float = 8.0

    def levels(
        self, sensor: SimSensor, ts: FloatArray, duration: float, rng: np.random.Generator
    ) -> SimLevels:
        volume = _HOURLY_VOLUME[_local_hours(ts)]
        traffic = self.traffic_range_db + 10.0 * np.log10(volume)
        laeq = sensor.base_db + np.maximum(traffic, 0.0) + rng.normal(0.0, self.sigma_db, ts.size)
        if sensor.source == "rail":
            train = sensor.base_db + self._pass_bys(ts, duration, rng)
            # Sources add energetically: 10·log10(10^(L1/10) + 10^(L2/10)).
            laeq = 10.0 * np.log10(
                10.0 ** (laeq / 10.0)
                + np.where(train > sensor.base_db, 10.0 ** (train / 10.0), 0.0)
            )
        laeq = np.clip(laeq, 20.0, 130.0)
        lafmax = laeq + rng.uniform(1.0, 6.0, ts.size)
        lafmin = laeq - rng.uniform(1.0, 4.0, ts.size)
        return SimLevels(np.round(laeq, 1), np.round(lafmax, 1), np.round(lafmin, 1))

    def _pass_bys(self, ts: FloatArray, duration: float, rng: np.random.Generator) -> FloatArray:
        """Level (dB above the base) of trains passing: a sine-shaped envelope per train."""
        excess = np.zeros(ts.size)
        if ts.size == 0:
            return excess
        span_h = (float(ts[-1]) - float(ts[0]) + duration) / 3600.0
        count = rng.poisson(self.trains_per_hour * span_h)
        starts = rng.uniform(float(ts[0]), float(ts[-1]) + duration, count)
        for start, length, peak in zip(
            starts, rng.uniform(20.0, 40.0, count), rng.uniform(15.0, 25.0, count), strict=True
        ):
            inside = (ts >= start) & (ts < start + length)
            phase = (ts[inside] - start) / length
            excess[inside] = np.maximum(excess[inside], peak * np.sin(np.pi * phase) ** 0.5)
        return excess
