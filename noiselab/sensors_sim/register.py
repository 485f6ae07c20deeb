"""Registers simulated sensors in the metadata database, so their readings are accepted."""

from __future__ import annotations

from collections.abc import Sequence

from noiselab.sensors_sim.site_specs import Site
from noiselab.sensors_sim.sites import registry_sensors
from noiselab.store.metadata import MetadataStore

__all__ = ["register_sim_sensors"]


def register_sim_sensors(meta_url: str, sensors: Sequence[Site]) -> int:
    """Add (or update) ``sensors`` as public sensors with their coordinates, source and
    description; returns how many were written."""
    with MetadataStore(meta_url) as registry:
        return registry.sensors.add(registry_sensors(sensors), replace=True)
