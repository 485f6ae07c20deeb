"""Builders of sensors and readings for the tests that need a few of them."""

from __future__ import annotations

from noiselab.model import Reading, Sensor


def sensor(sensor_id: str, *, public: bool = True) -> Sensor:
    """A road sensor named ``Sensor <id>`` at Vallensbæk."""
    return Sensor(
        id=sensor_id,
        name=f"Sensor {sensor_id}",
        lat=55.6242,
        lon=12.388,
        source="road",
        public=public,
    )


def steady(
    sensor_id: str, start: float, seconds: int, laeq: float, **extra: float
) -> list[Reading]:
    """One-second readings at a constant level."""
    return [Reading(sensor_id=sensor_id, ts=start + i, laeq=laeq, **extra) for i in range(seconds)]


def minutes(sensor_id: str, start: float, count: int, laeq: float) -> list[Reading]:
    """``count`` one-minute readings at a constant level from ``start`` (Unix s)."""
    return [Reading(sensor_id, start + 60 * i, laeq, duration=60.0) for i in range(count)]
