"""Line sources of the noise map, read from a GeoJSON file, and their groups.

A source file is a GeoJSON FeatureCollection (RFC 7946; WGS84, coordinates in **(lon, lat)**
order) of ``LineString`` features. Each feature's ``properties``:

* ``name`` (text) and ``group`` (text): the group is what the map scales as one, e.g. one
  motorway, the railway, "local roads"; one basic map is computed per group;
* ``kind``: ``"road"`` or ``"rail"``;
* a road: ``aadt`` (annual average daily traffic, vehicles/day, both directions),
  ``heavy_share`` (0..1), ``speed_kmh`` (light vehicles) and ``heavy_speed_kmh``;
* a rail line: ``service_factor`` (≥ 0, default 1): the simulator's timetable
  (:func:`noiselab.sensors_sim.physics.timetable`) times this factor.

The default file is the package's ``data/vallensbaek_sources.geojson``; another municipality
passes its own path to :func:`load_sources`. Errors raise ``ValueError`` naming the feature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from noiselab.analysis.arrays import FloatArray

__all__ = [
    "DEFAULT_SOURCES",
    "LineSource",
    "RailTraffic",
    "RoadTraffic",
    "group_names",
    "load_sources",
    "parse_sources",
]

DEFAULT_SOURCES = "vallensbaek_sources.geojson"
"""File name of the default source file in ``noiselab/noisemap/data/``."""


@dataclass(frozen=True, slots=True)
class RoadTraffic:
    """Road traffic: ``aadt`` vehicles/day (both directions), ``heavy_share`` 0..1, speeds in
    km/h. Hourly flows and heavy shares follow the simulator's profiles (:mod:`.emission`)."""

    aadt: float
    heavy_share: float
    speed_kmh: float
    heavy_speed_kmh: float


@dataclass(frozen=True, slots=True)
class RailTraffic:
    """Rail traffic: the simulator's timetable scaled by ``service_factor`` (1: as is)."""

    service_factor: float = 1.0


@dataclass(frozen=True, slots=True)
class LineSource:
    """One line source: ``lonlat`` its vertices, shape ``(n, 2)``, degrees, (lon, lat) order."""

    name: str
    group: str
    kind: Literal["road", "rail"]
    lonlat: FloatArray
    road: RoadTraffic | None = None
    rail: RailTraffic | None = None

    def describe(self) -> dict[str, Any]:
        """Everything that defines the source, as plain JSON values (for cache keys)."""
        return {
            "name": self.name,
            "group": self.group,
            "kind": self.kind,
            "lonlat": [[float(a), float(b)] for a, b in self.lonlat],
            "road": None if self.road is None else _fields(self.road),
            "rail": None if self.rail is None else _fields(self.rail),
        }


def _fields(obj: RoadTraffic | RailTraffic) -> dict[str, float]:
    return {name: float(getattr(obj, name)) for name in obj.__slots__}


def _number(props: dict[str, Any], key: str, where: str, *, low: float, high: float) -> float:
    value = props.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: property {key!r} must be a number, got {value!r}")
    if not low <= float(value) <= high:
        raise ValueError(f"{where}: property {key!r} = {value} is outside [{low}, {high}]")
    return float(value)


def _source(feature: Any, where: str) -> LineSource:
    if not isinstance(feature, dict):
        raise ValueError(f"{where}: expected a GeoJSON Feature object")
    props = feature.get("properties") or {}
    geometry = feature.get("geometry") or {}
    name = props.get("name")
    where = f"{where} ({name!r})" if name else where
    if geometry.get("type") != "LineString":
        raise ValueError(f"{where}: geometry must be a LineString, got {geometry.get('type')!r}")
    coords = np.asarray(geometry.get("coordinates"), dtype=np.float64)
    if coords.ndim != 2 or coords.shape[0] < 2 or coords.shape[1] < 2:
        raise ValueError(f"{where}: a LineString needs at least two [lon, lat] positions")
    coords = coords[:, :2]
    lon_ok = np.all(np.abs(coords[:, 0]) <= 180.0)
    if not (np.all(np.isfinite(coords)) and lon_ok and np.all(np.abs(coords[:, 1]) <= 90.0)):
        raise ValueError(f"{where}: coordinates must be finite [lon, lat] degrees")
    group = props.get("group")
    if not isinstance(name, str) or not name or not isinstance(group, str) or not group:
        raise ValueError(f"{where}: properties 'name' and 'group' must be non-empty text")
    kind = props.get("kind")
    if kind == "road":
        road = RoadTraffic(
            aadt=_number(props, "aadt", where, low=0.0, high=1e6),
            heavy_share=_number(props, "heavy_share", where, low=0.0, high=1.0),
            speed_kmh=_number(props, "speed_kmh", where, low=5.0, high=200.0),
            heavy_speed_kmh=_number(props, "heavy_speed_kmh", where, low=5.0, high=200.0),
        )
        return LineSource(name, group, "road", coords, road=road)
    if kind == "rail":
        factor = 1.0
        if "service_factor" in props:
            factor = _number(props, "service_factor", where, low=0.0, high=100.0)
        return LineSource(name, group, "rail", coords, rail=RailTraffic(factor))
    raise ValueError(f"{where}: property 'kind' must be 'road' or 'rail', got {kind!r}")


def parse_sources(document: Any, origin: str = "sources") -> tuple[LineSource, ...]:
    """The line sources of a parsed GeoJSON FeatureCollection (see the module docstring)."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ValueError(f"{origin}: expected a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise ValueError(f"{origin}: no features")
    return tuple(_source(f, f"{origin}: feature {i}") for i, f in enumerate(features, start=1))


def load_sources(path: str | Path | None = None) -> tuple[LineSource, ...]:
    """Line sources from a GeoJSON file; ``None`` reads the package's default Vallensbæk file."""
    if path is None:
        text = resources.files("noiselab.noisemap").joinpath("data", DEFAULT_SOURCES)
        return parse_sources(json.loads(text.read_text("utf-8")), DEFAULT_SOURCES)
    path = Path(path)
    return parse_sources(json.loads(path.read_text(encoding="utf-8")), str(path))


def group_names(sources: tuple[LineSource, ...]) -> tuple[str, ...]:
    """The groups of ``sources`` in order of first appearance (the basic maps' order)."""
    return tuple(dict.fromkeys(s.group for s in sources))
