"""Registers simulated sensors in the metadata database, so their readings are accepted."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from noiselab.sensors_sim.sites import SimSensor
from noiselab.store.metadata import MetadataStore, Sensor

__all__ = ["register_sim_sensors"]


def register_sim_sensors(meta_url: str, sensors: Sequence[SimSensor]) -> int:
    """Add (or update) ``sensors`` as public sensors; returns how many were written."""
    now = datetime.fromtimestamp(time.time(), UTC)
    registry = MetadataStore(meta_url)
    try:
        return registry.add_sensors(
            [
                Sensor(
                    id=s.id,
                    name=s.name,
                    lat=s.lat,
                    lon=s.lon,
                    source=s.source,
                    description=s.description,
                    public=True,
                    created=now,
                )
                for s in sensors
            ],
            replace=True,
        )
    finally:
        registry.close()
