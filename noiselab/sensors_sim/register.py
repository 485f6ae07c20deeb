"""Registers simulated sensors (and the simulated weather station, with every simulated sensor
assigned to it) in the metadata database, so their readings and observations are accepted."""

from __future__ import annotations

from collections.abc import Sequence

from noiselab.sensors_sim.site_specs import Site
from noiselab.sensors_sim.sites import registry_sensors
from noiselab.store.metadata import MetadataStore

__all__ = ["register_sim_sensors", "register_sim_weather"]


def register_sim_sensors(meta_url: str, sensors: Sequence[Site]) -> int:
    """Add (or update) ``sensors`` as public sensors with their coordinates, source and
    description; returns how many were written."""
    with MetadataStore(meta_url) as registry:
        return registry.sensors.add(registry_sensors(sensors), replace=True)


def register_sim_weather(meta_url: str, sensors: Sequence[Site]) -> None:
    """Add (or update) the simulated weather station ``vb-weather`` and make every sensor of
    ``sensors`` (registered first) take its weather from it."""
    from noiselab.sensors_sim import weather
    from noiselab.store.metadata import WeatherStation

    station = WeatherStation(
        id=weather.STATION_ID,
        name=weather.STATION_NAME,
        lat=weather.STATION_LAT,
        lon=weather.STATION_LON,
        height_m=weather.STATION_HEIGHT_M,
    )
    with MetadataStore(meta_url) as registry:
        registry.weather.add(station, replace=True)
        for site in sensors:
            registry.weather.assign(site.id, station.id)
