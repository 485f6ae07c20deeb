"""What every update of one area shares (the model, its lon/lat raster, its source groups),
and the two ways of reading a period's :class:`~.terms.Terms` off the model: the whole
surface on the grid and the exact level at given points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.livemap.groups import GroupInfo, describe_groups
from noiselab.livemap.raster import LonLatRaster, lonlat_raster
from noiselab.livemap.terms import Terms
from noiselab.noisemap.basic_maps import Float32Array
from noiselab.noisemap.model import NoiseMap
from noiselab.noisemap.scale import Fit, combine

__all__ = ["MapContext", "map_context", "modelled_at", "surface_of"]


@dataclass(frozen=True, slots=True)
class MapContext:
    """What every update of one area shares: the model, its raster and its groups."""

    nmap: NoiseMap
    raster: LonLatRaster
    groups: tuple[GroupInfo, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """``road`` or ``rail`` for each group, in the model's group order."""
        return tuple(g.kind for g in self.groups)


def map_context(nmap: NoiseMap) -> MapContext:
    """The raster and group names of ``nmap`` (computed once, about 0.1 s)."""
    return MapContext(
        nmap, lonlat_raster(nmap.maps.grid), describe_groups(nmap.sources, nmap.groups)
    )


def surface_of(nmap: NoiseMap, terms: Terms, out: Float32Array | None = None) -> Float32Array:
    """The scale-and-sum surface (dB, float32, ``(ny, nx)``) of ``terms``."""
    fit = Fit(
        groups=nmap.groups,
        gains_db=terms.group_db,
        fitted=np.ones(len(nmap.groups), dtype=np.bool_),
        background_db=terms.background_db,
        used=(),
        background_from=(),
    )
    with np.errstate(divide="ignore"):
        return nmap.surface(np.zeros(len(nmap.groups)), fit, out)


def modelled_at(nmap: NoiseMap, terms: Terms, lonlat: Sequence[tuple[float, float]]) -> FloatArray:
    """The surface's level (dB) at points (exact model there, not the grid)."""
    if not lonlat:
        return np.zeros(0)
    model = nmap.levels_at(lonlat) + terms.group_db[:, None]
    with np.errstate(divide="ignore"):
        total, _ = combine(model, np.zeros(len(nmap.groups)), terms.background_db)
    return total
