"""Old and recent readings in a SQLite store, for the tests of compaction and retention (the
ingest's background passes, ``noiselab compact``)."""

from __future__ import annotations

import math

from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore

HOUR = 3600.0
EVERY_S = 10
"""Seconds between two readings of a sensor: 360 readings an hour keep the tests quick."""
PER_HOUR = int(HOUR) // EVERY_S


def hour_of(ts: float) -> float:
    """The start of the UTC hour holding ``ts`` (Unix s)."""
    return math.floor(ts / HOUR) * HOUR


def hours_of_readings(sensor_id: str, start: float, hours: int) -> list[Reading]:
    """``hours`` whole hours of 1-s readings every ``EVERY_S`` seconds from ``start`` (a whole
    hour), at levels with two decimals as sensors send them."""
    return [
        Reading(
            sensor_id=sensor_id,
            ts=start + i * EVERY_S,
            laeq=round(55.0 + 8.0 * math.sin(i / 7.0), 2),
            lafmax=round(60.0 + 8.0 * math.sin(i / 7.0), 2),
        )
        for i in range(hours * PER_HOUR)
    ]


def fill(store: SqliteStore, sensors: list[str], start: float, hours: int, received: float) -> int:
    """Write ``hours`` hours of readings from ``start`` for each sensor; how many."""
    written = 0
    for sensor_id in sensors:
        readings = hours_of_readings(sensor_id, start, hours)
        store.write(readings, received)
        written += len(readings)
    return written
