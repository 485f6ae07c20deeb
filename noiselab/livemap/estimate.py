"""The level of an update at one point, with its parts, its uncertainty and nearby sensors.

At ``(lon, lat)`` (WGS84 degrees, inside the map's grid) the level is the surface's exact
model there (not the 10-m grid): ``L = 10·log10(Σ_g 10^((B_g + t_g)/10) + 10^(t_bg/10))``
with the update's terms (:mod:`.terms`). Each group's part is ``B_g + t_g`` (dB) and its share
of the energy ``10^((B_g + t_g - L)/10)`` (0..1, the shares add to 1 with the background's).
The uncertainty is the update's :attr:`~.update.SurfaceUpdate.uncertainty_db`. For Lden the
guideline value is that of the dominant traffic type there (road 58 dB, rail 64 dB,
:mod:`.render`); for LAeq periods there is none. The nearest public sensors are given with
their distance (m, in the map's local plane), measured and modelled level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from noiselab.analysis.guidelines import lden_guideline_values
from noiselab.livemap.context import MapContext
from noiselab.livemap.groups import nearest_name
from noiselab.livemap.update import SensorResult, SurfaceUpdate
from noiselab.noisemap.basic_maps import group_levels_at
from noiselab.noisemap.scale import combine

__all__ = ["NEAREST", "Contribution", "Nearby", "PointEstimate", "estimate_at", "inside_map"]

NEAREST = 3
"""How many nearest sensors an estimate lists."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """One part of the level: a source group (or the background), its level and share."""

    group: str
    name: str
    kind: str
    level_db: float | None
    share: float


@dataclass(frozen=True, slots=True)
class Nearby:
    """A public sensor near the point, ``distance_m`` away."""

    sensor: SensorResult
    distance_m: float


@dataclass(frozen=True, slots=True)
class PointEstimate:
    """The estimate at ``(lon, lat)``; ``dominant`` names the loudest source group."""

    lon: float
    lat: float
    level_db: float
    uncertainty_db: float | None
    contributions: tuple[Contribution, ...]
    dominant: Contribution
    guideline_db: float | None
    above_guideline: bool | None
    nearest: tuple[Nearby, ...]


def inside_map(ctx: MapContext, lon: float, lat: float) -> bool:
    """Whether ``(lon, lat)`` lies within the grid's cells."""
    grid = ctx.nmap.maps.grid
    x, y = grid.projection.to_xy(np.array([lon]), np.array([lat]))
    col, row = grid.index_of(x, y)
    c, r = float(col[0]), float(row[0])
    return -0.5 <= c <= grid.nx - 0.5 and -0.5 <= r <= grid.ny - 0.5


def _nearest(ctx: MapContext, update: SurfaceUpdate, lon: float, lat: float) -> tuple[Nearby, ...]:
    if not update.sensors:
        return ()
    proj = ctx.nmap.maps.grid.projection
    px, py = proj.to_xy(np.array([lon]), np.array([lat]))
    sx, sy = proj.to_xy(
        np.array([s.lon for s in update.sensors]), np.array([s.lat for s in update.sensors])
    )
    dist = np.hypot(sx - px[0], sy - py[0])
    order = np.argsort(dist, kind="stable")[:NEAREST]
    return tuple(Nearby(update.sensors[i], float(dist[i])) for i in order)


def estimate_at(ctx: MapContext, update: SurfaceUpdate, lon: float, lat: float) -> PointEstimate:
    """The estimate of ``update`` at ``(lon, lat)``; ``ValueError`` outside the map."""
    if not inside_map(ctx, lon, lat):
        raise ValueError(f"({lat:.5f}, {lon:.5f}) is outside the noise map")
    nmap = ctx.nmap
    proj = nmap.maps.grid.projection
    model = group_levels_at(nmap.sources, [lon], [lat], proj, nmap.params)
    model = model + update.terms.group_db[:, None]
    with np.errstate(divide="ignore"):
        total, parts = combine(model, np.zeros(len(nmap.groups)), update.terms.background_db)
    level = float(total[0])
    shares = np.power(10.0, (parts[:, 0] - level) / 10.0)
    contributions = [
        Contribution(
            g.group,
            nearest_name(g, lon, lat, proj),
            g.kind,
            float(parts[i, 0]) if np.isfinite(parts[i, 0]) else None,
            float(shares[i]),
        )
        for i, g in enumerate(ctx.groups)
    ]
    background = Contribution(
        "background",
        "background",
        "background",
        float(parts[-1, 0]) if np.isfinite(parts[-1, 0]) else None,
        float(shares[-1]),
    )
    dominant = max(contributions, key=lambda c: c.share)
    guideline = above = None
    if update.spec.indicator == "lden":
        road = sum(c.share for c in contributions if c.kind == "road")
        rail = sum(c.share for c in contributions if c.kind == "rail")
        guideline = lden_guideline_values()["road" if road >= rail else "rail"]
        above = round(level, 2) > guideline
    return PointEstimate(
        lon=lon,
        lat=lat,
        level_db=level,
        uncertainty_db=update.uncertainty_db,
        contributions=(*contributions, background),
        dominant=dominant,
        guideline_db=guideline,
        above_guideline=above,
        nearest=_nearest(ctx, update, lon, lat),
    )
