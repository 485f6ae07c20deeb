"""What a simulated site is: the roads and railway it hears, its background, and the barrier
that may screen it; the default sites come from the package's ``vallensbaek.json`` (coordinates,
sources and notes there; every coordinate is an estimate). Distances in m, flows in veh/day,
speeds in km/h, levels and insertion losses in dB (A-weighted unless a name says band).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.sensors_sim import spectra as sim_spectra

__all__ = [
    "Barrier",
    "RailSpec",
    "RoadSpec",
    "Site",
    "load_sites",
    "site_by_id",
    "site_from_json",
]


@dataclass(frozen=True, slots=True)
class RoadSpec:
    """A road as one site hears it: AADT ``flow_per_day`` (veh/day, both directions),
    ``heavy_share`` (0..1), speeds (km/h) and ``distance_m`` from the site."""

    name: str
    flow_per_day: float
    heavy_share: float
    speed_kmh: float
    heavy_speed_kmh: float
    distance_m: float


@dataclass(frozen=True, slots=True)
class RailSpec:
    """A railway line as one site hears it, at ``distance_m`` (m)."""

    name: str
    distance_m: float


@dataclass(frozen=True, slots=True)
class Site:
    """A simulated sensor site from ``vallensbaek.json``; see that file's notes and sources.

    ``roads`` are every road the site hears, the main one first: a near site's own road, a
    background site's dominant distant road. Only the first is screened by a :class:`Barrier`
    (a barrier beside one road does not screen another one); :attr:`road` is that first road.
    ``source`` stays the site's role (``background`` for a reference site even though it now
    hears distant roads and rail)."""

    id: str
    name: str
    lat: float
    lon: float
    source: Literal["road", "rail", "background"]
    distance_m: float
    description: str
    estimated: bool
    background_db: float
    roads: tuple[RoadSpec, ...] = ()
    rail: RailSpec | None = None
    role: Literal["treated", "control"] | None = None
    pair: str | None = None
    insertion_loss_db: float | None = None
    band_il_db: tuple[float, ...] | None = None

    @property
    def road(self) -> RoadSpec | None:
        """The site's main road (the first of :attr:`roads`, the one a barrier screens), or
        ``None`` when it hears no road."""
        return self.roads[0] if self.roads else None


@dataclass(frozen=True, slots=True)
class Barrier:
    """A barrier screening a site's main road (:attr:`Site.road`) from ``installed_at`` (Unix
    s) on. Rail, background and any further roads of the site are unaffected.

    By default it reduces the road contribution by ``insertion_loss_db`` (dB, A-weighted
    broadband), spread over the bands with a Maekawa-like shape
    (:func:`.spectra.barrier_band_il`). With ``band_il_db`` (one insertion loss per band of
    :data:`.spectra.BANDS_HZ`, dB) the bands are given and the A-weighted loss on the road
    spectrum follows from them: ``IL_A = -10·log10(Σ wᵢ·10^(-ILᵢ/10))`` with ``wᵢ`` the
    normalised A-weighted road spectrum; ``insertion_loss_db`` is then ignored.
    """

    installed_at: float
    insertion_loss_db: float = 6.0
    band_il_db: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.band_il_db is not None and len(self.band_il_db) != sim_spectra.BANDS_HZ.size:
            raise ValueError(
                f"band_il_db needs {sim_spectra.BANDS_HZ.size} values (bands "
                f"{sim_spectra.BANDS_HZ[0]:g}-{sim_spectra.BANDS_HZ[-1]:g} Hz), "
                f"got {len(self.band_il_db)}"
            )

    def band_il(self) -> FloatArray:
        """Insertion loss per band of :data:`.spectra.BANDS_HZ` (dB)."""
        if self.band_il_db is None:
            return sim_spectra.barrier_band_il(self.insertion_loss_db)
        return np.asarray(self.band_il_db, dtype=np.float64)

    def broadband_il(self) -> float:
        """The A-weighted insertion loss on the road contribution (dB)."""
        if self.band_il_db is None:
            return self.insertion_loss_db
        w = 10.0 ** (sim_spectra.ROAD_SPECTRUM_DB / 10.0)
        return -10.0 * float(np.log10(np.sum(w * 10.0 ** (-self.band_il() / 10.0))))


def _road_from_json(road: dict[str, Any]) -> RoadSpec:
    return RoadSpec(
        name=road["name"],
        flow_per_day=float(road["flow_per_day"]),
        heavy_share=float(road["heavy_share"]),
        speed_kmh=float(road["speed_kmh"]),
        heavy_speed_kmh=float(road["heavy_speed_kmh"]),
        distance_m=float(road["distance_m"]),
    )


def _roads_from_json(raw: dict[str, Any]) -> tuple[RoadSpec, ...]:
    """A site's roads: ``"road"`` (one object, the original form) or ``"roads"`` (a list, the
    main road first), not both."""
    one, many = raw.get("road"), raw.get("roads")
    if one is not None and many is not None:
        raise ValueError('give "road" or "roads", not both')
    if many is None:
        return () if one is None else (_road_from_json(one),)
    if not isinstance(many, list):
        raise ValueError('"roads" must be a list of road objects')
    return tuple(_road_from_json(r) for r in many)


def site_from_json(raw: dict[str, Any]) -> Site:
    """A :class:`Site` from one entry of a site file (the ``sites`` list of
    ``vallensbaek.json``); a missing required field raises ``KeyError``, both ``road`` and
    ``roads`` given ``ValueError``."""
    rail = raw.get("rail")
    barrier = raw.get("barrier")
    return Site(
        id=raw["id"],
        name=raw["name"],
        lat=float(raw["lat"]),
        lon=float(raw["lon"]),
        source=raw["source"],
        distance_m=float(raw["distance_m"]),
        description=raw["description"],
        estimated=bool(raw.get("estimated", False)),
        background_db=float(raw.get("background_db", 40.0)),
        roads=_roads_from_json(raw),
        rail=None if rail is None else RailSpec(rail["name"], float(rail["distance_m"])),
        role=raw.get("role"),
        pair=raw.get("pair"),
        insertion_loss_db=None if barrier is None else float(barrier["insertion_loss_db"]),
        band_il_db=None
        if barrier is None or barrier.get("band_il_db") is None
        else tuple(float(x) for x in barrier["band_il_db"]),
    )


def load_sites() -> tuple[Site, ...]:
    """The default sites, read from the package's ``vallensbaek.json``."""
    text = resources.files("noiselab.sensors_sim").joinpath("vallensbaek.json").read_text("utf-8")
    return tuple(site_from_json(raw) for raw in json.loads(text)["sites"])


def site_by_id(site_id: str) -> Site:
    """The default site ``site_id``; ``KeyError`` naming the known ids if there is none."""
    sites = {s.id: s for s in load_sites()}
    if site_id not in sites:
        raise KeyError(f"no site {site_id!r}; known: {', '.join(sorted(sites))}")
    return sites[site_id]
