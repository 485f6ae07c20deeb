"""Which sensors the simulator runs, and how they enter the sensor registry.

The default set is the twelve sites of the package's ``vallensbaek.json`` (coordinates,
sources and notes there; every coordinate is an estimate). ``--sensors`` also takes a site file
in the same shape (``{"sites": [...]}`` or a bare JSON array of site objects) or a number ``N``
of numbered sensors ``sim-0000``... that cycle over the default sites (each copies a site's
physical model, with its own random stream and a position nudged 0.0004° north per round), for
load tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from noiselab.errors import ConfigError
from noiselab.model import Sensor, utcnow
from noiselab.sensors_sim.site_specs import Site, load_sites, site_from_json

__all__ = [
    "default_sites",
    "is_site_file",
    "load_site_file",
    "numbered_sensors",
    "registry_sensors",
    "sensors_from_spec",
]

MAX_NUMBERED = 100_000


def default_sites() -> tuple[Site, ...]:
    """The twelve Vallensbæk sites of ``vallensbaek.json``."""
    return load_sites()


def load_site_file(path: str | Path) -> tuple[Site, ...]:
    """Sites from a JSON file shaped like ``vallensbaek.json`` (``{"sites": [...]}``) or a
    bare array of site objects. Raises ``ConfigError`` naming the file and the bad site."""
    path = Path(path)
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read a site file: {exc}") from exc
    if isinstance(document, dict) and isinstance(document.get("sites"), list):
        document = document["sites"]
    if not isinstance(document, list) or not document:
        raise ConfigError(f'{path}: expected {{"sites": [...]}} or a non-empty JSON array')
    sites: list[Site] = []
    seen: set[str] = set()
    for number, raw in enumerate(document, start=1):
        where = f"{path}: site {number}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object")
        try:
            site = site_from_json(raw)
        except KeyError as exc:
            raise ConfigError(f"{where}: missing field {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        if site.source not in ("road", "rail", "background"):
            raise ConfigError(f"{where}: source {site.source!r} must be road, rail or background")
        if site.id in seen:
            raise ConfigError(f"{where}: site id {site.id!r} repeats")
        seen.add(site.id)
        _to_sensor(site, utcnow(), where)  # checks id, name and coordinates
        sites.append(site)
    return tuple(sites)


def is_site_file(path: str | Path) -> bool:
    """Whether ``path`` is a ``.json`` simulator site file (an object with ``sites``), as
    opposed to a plain sensor list. Unreadable files answer ``False`` (the caller reports)."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        return False
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(document, dict) and "sites" in document


def numbered_sensors(count: int) -> tuple[Site, ...]:
    """``count`` sites ``sim-0000``... cycling over the default sites (load tests)."""
    sites = default_sites()
    return tuple(
        replace(
            sites[i % len(sites)],
            id=f"sim-{i:04d}",
            name=f"{sites[i % len(sites)].name} #{i}",
            lat=sites[i % len(sites)].lat + 0.0004 * (i // len(sites)),
            role=None,
            pair=None,
        )
        for i in range(count)
    )


def sensors_from_spec(spec: str) -> tuple[Site, ...]:
    """``default`` (the Vallensbæk sites), a count of numbered sensors (1-100,000) or the
    path of a ``.json`` site file."""
    if spec == "default":
        return default_sites()
    if spec.isdigit():
        if 0 < int(spec) <= MAX_NUMBERED:
            return numbered_sensors(int(spec))
        raise ConfigError(f"--sensors {spec}: a number of sensors must be 1 to {MAX_NUMBERED}")
    if spec.lower().endswith(".json"):
        return load_site_file(spec)
    raise ConfigError(
        f"--sensors {spec!r}: expected 'default', a number from 1 to {MAX_NUMBERED} "
        "or a .json site file"
    )


def _to_sensor(site: Site, created: datetime, where: str) -> Sensor:
    description = site.description
    if site.estimated and "estimate" not in description.lower():
        description = f"{description} (position estimated)".strip()
    try:
        return Sensor(
            id=site.id,
            name=site.name,
            lat=site.lat,
            lon=site.lon,
            source=site.source,
            description=description,
            public=True,
            created=created,
        )
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def registry_sensors(sites: Sequence[Site], created: datetime | None = None) -> list[Sensor]:
    """The registry entries of ``sites``: public, with coordinates, source and description."""
    when = created or utcnow()
    return [_to_sensor(s, when, f"site {s.id!r}") for s in sites]
