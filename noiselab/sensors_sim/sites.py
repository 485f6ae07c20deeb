"""Simulated sensors at Vallensbæk Living Lab sites.

Coordinates are estimates placed beside the sources named in the Living Lab material: Køge Bugt
Motorvejen north-west of Vallensbæk station (station forecourt 55.6242 N, 12.3880 E),
Holbækmotorvejen across Vallensbæk Nordmark (about 55.647-55.651 N, 12.345-12.395 E) and the
Copenhagen-Ringsted railway just south of it. They are not surveyed positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from noiselab.errors import ConfigError

__all__ = ["DEFAULT_SITES", "SimSensor", "numbered_sensors", "sensors_from_spec"]


@dataclass(frozen=True, slots=True)
class SimSensor:
    """A simulated sensor: registry fields plus the model's base level (dB, LAeq,1s at the
    quietest hour) and distance class."""

    id: str
    name: str
    lat: float
    lon: float
    source: Literal["road", "rail", "background"]
    base_db: float
    description: str = ""


DEFAULT_SITES: tuple[SimSensor, ...] = (
    SimSensor(
        "kbm-egeskovvej",
        "Køge Bugt Motorvejen, Egeskovvej cycle path",
        55.6262,
        12.3868,
        "road",
        58.0,
        "Under the motorway by the low-diffraction barrier trial (estimate).",
    ),
    SimSensor(
        "kbm-station",
        "Vallensbæk station forecourt",
        55.6242,
        12.3880,
        "road",
        52.0,
        "Station forecourt, motorway and S-train beside it.",
    ),
    SimSensor(
        "hbm-vallensbaekvej",
        "Holbækmotorvejen at Vallensbækvej",
        55.6490,
        12.3720,
        "road",
        56.0,
        "Behind the state noise barrier (estimate).",
    ),
    SimSensor(
        "hbm-quiet-bench",
        "Quiet bench, Holbækmotorvejen",
        55.6480,
        12.3600,
        "road",
        50.0,
        "The screened bench between motorway and railway (estimate).",
    ),
    SimSensor(
        "ring-nordmark",
        "Copenhagen-Ringsted line, Nordmark",
        55.6470,
        12.3650,
        "rail",
        42.0,
        "Beside the railway south of the motorway (estimate).",
    ),
    SimSensor(
        "ring-vejlegaard",
        "Copenhagen-Ringsted line, Vejlegårdsvej",
        55.6465,
        12.3850,
        "rail",
        40.0,
        "Near the absorbing guardrail trial (estimate).",
    ),
    SimSensor(
        "bg-vallensbaek-mose",
        "Vallensbæk Mose",
        55.6380,
        12.3600,
        "background",
        35.0,
        "Background reference away from the sources (estimate).",
    ),
    SimSensor(
        "bg-strandpark",
        "Vallensbæk Strandpark",
        55.6150,
        12.3900,
        "background",
        38.0,
        "Background reference by the coast (estimate).",
    ),
)


def numbered_sensors(count: int) -> tuple[SimSensor, ...]:
    """``count`` sensors cycling over the default sites, with numbered ids (load tests)."""
    sites = DEFAULT_SITES
    return tuple(
        SimSensor(
            id=f"sim-{i:04d}",
            name=f"{sites[i % len(sites)].name} #{i}",
            lat=sites[i % len(sites)].lat + 0.0004 * (i // len(sites)),
            lon=sites[i % len(sites)].lon,
            source=sites[i % len(sites)].source,
            base_db=sites[i % len(sites)].base_db,
        )
        for i in range(count)
    )


def sensors_from_spec(spec: str) -> tuple[SimSensor, ...]:
    """``default`` (the Vallensbæk sites) or a count of numbered sensors (1-100,000)."""
    if spec == "default":
        return DEFAULT_SITES
    if spec.isdigit() and 0 < int(spec) <= 100_000:
        return numbered_sensors(int(spec))
    raise ConfigError(f"--sensors {spec!r}: expected 'default' or a number from 1 to 100000")
