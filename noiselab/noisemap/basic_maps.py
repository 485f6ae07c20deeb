"""Basic maps: one modelled level map per source group over the grid, cached on disk.

A basic map is the level (dB re 20 µPa, A-weighted, ``float32``) of one group's lines, each at
its reference sound power (:func:`.emission.reference_lw`), at every receiver of a
:class:`~.geometry.Grid` (4 m above ground by default), computed with :mod:`.propagation`.
Maps of all groups stack to ``levels_db`` of shape ``(groups, ny, nx)``; a cell no source
reaches holds ``-inf``.

Cache: ``<cache_dir>/basic-<key>.npz`` where ``key`` is the SHA-256 of the canonical JSON of
everything the maps depend on (every source's vertices, group and traffic; the grid; the
propagation parameters; :data:`MODEL_VERSION`). Change any of them and the key changes, so the
maps are recomputed; otherwise they are read back (a few tens of ms for 300,000 cells x 4
groups). A corrupt or foreign file under the right name is recomputed and overwritten.

Interface for callers (the API)::

    sources = load_sources()                 # or load_sources("other_town.geojson")
    grid = grid_around(12.370, 55.633, 6000, 5000, 10)
    maps, built = load_or_build(sources, grid, PropagationParams(), cache_dir)
    at_sensors = group_levels_at(sources, lon, lat, grid.projection, PropagationParams())

``group_levels_at`` computes the same model exactly at any points (sensors, a clicked
position), without the grid's 10-m rounding.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray
from noiselab.noisemap.emission import reference_lw
from noiselab.noisemap.geometry import Grid, LocalProjection
from noiselab.noisemap.propagation import PropagationParams, segment_energy
from noiselab.noisemap.sources import LineSource, group_names

__all__ = [
    "MODEL_VERSION",
    "BasicMaps",
    "build_basic_maps",
    "cache_key",
    "group_energy",
    "group_levels_at",
    "load_or_build",
]

MODEL_VERSION = "noisemap-1"
"""Changes whenever the propagation or emission code changes what a map holds."""

CHUNK = 1 << 16
"""Receivers per block while building (about 0.5 MB per float64 temporary)."""

Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class BasicMaps:
    """``levels_db[g]`` (float32, dB, shape ``(ny, nx)``) is group ``groups[g]``'s map on
    ``grid``; ``key`` the cache key it was computed for."""

    grid: Grid
    groups: tuple[str, ...]
    levels_db: Float32Array
    key: str


def cache_key(sources: Sequence[LineSource], grid: Grid, params: PropagationParams) -> str:
    """SHA-256 (hex) of everything the basic maps depend on (see the module docstring)."""
    blob = json.dumps(
        {
            "version": MODEL_VERSION,
            "sources": [s.describe() for s in sources],
            "grid": grid.describe(),
            "params": params.describe(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def group_energy(
    sources: Sequence[LineSource],
    projection: LocalProjection,
    params: PropagationParams,
    x: FloatArray,
    y: FloatArray,
) -> FloatArray:
    """Energy ``10^(L/10)`` of each group at plane points ``(x, y)`` (m), every line at its
    reference power; shape ``(groups, n)`` in the order of :func:`.sources.group_names`."""
    groups = group_names(tuple(sources))
    out = np.zeros((len(groups), x.size))
    for source in sources:
        g = groups.index(source.group)
        vx, vy = projection.to_xy(source.lonlat[:, 0], source.lonlat[:, 1])
        lw = reference_lw(source)
        h = params.source_height(source.kind)
        for i in range(vx.size - 1):
            a = (float(vx[i]), float(vy[i]))
            b = (float(vx[i + 1]), float(vy[i + 1]))
            out[g] += segment_energy(x, y, a, b, lw_per_m_db=lw, source_height_m=h, params=params)
    return out


def _level(energy: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        result: FloatArray = 10.0 * np.log10(energy)
    return result


def group_levels_at(
    sources: Sequence[LineSource],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    projection: LocalProjection,
    params: PropagationParams,
) -> FloatArray:
    """Level (dB) of each group at WGS84 points ``(lon, lat)`` (degrees), every line at its
    reference power: shape ``(groups, n)``, the exact model (no grid)."""
    x, y = projection.to_xy(np.atleast_1d(lon), np.atleast_1d(lat))
    return _level(group_energy(sources, projection, params, x.reshape(-1), y.reshape(-1)))


def build_basic_maps(
    sources: Sequence[LineSource], grid: Grid, params: PropagationParams
) -> BasicMaps:
    """Compute the basic maps of ``sources`` on ``grid`` (seconds for 300,000 cells)."""
    groups = group_names(tuple(sources))
    x, y = grid.points()
    levels = np.empty((len(groups), grid.size), dtype=np.float32)
    for a in range(0, grid.size, CHUNK):
        part = slice(a, min(a + CHUNK, grid.size))
        levels[:, part] = _level(group_energy(sources, grid.projection, params, x[part], y[part]))
    return BasicMaps(
        grid=grid,
        groups=groups,
        levels_db=levels.reshape(len(groups), grid.ny, grid.nx),
        key=cache_key(sources, grid, params),
    )


def _read(path: Path, key: str, grid: Grid) -> BasicMaps | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            levels = np.asarray(data["levels_db"], dtype=np.float32)
            groups = tuple(str(g) for g in data["groups"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    if levels.shape != (len(groups), grid.ny, grid.nx):
        return None
    return BasicMaps(grid=grid, groups=groups, levels_db=levels, key=key)


def _write(path: Path, maps: BasicMaps) -> None:
    """Write atomically (temporary file, then rename), so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".basic-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh, key=np.array(maps.key), groups=np.array(maps.groups), levels_db=maps.levels_db
            )
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_build(
    sources: Sequence[LineSource],
    grid: Grid,
    params: PropagationParams,
    cache_dir: str | Path,
) -> tuple[BasicMaps, bool]:
    """The basic maps from ``cache_dir`` when cached for exactly these inputs, else computed
    and stored there. Returns ``(maps, built)``: ``built`` is ``True`` when computed now."""
    key = cache_key(sources, grid, params)
    path = Path(cache_dir) / f"basic-{key[:32]}.npz"
    cached = _read(path, key, grid)
    if cached is not None:
        return cached, False
    maps = build_basic_maps(sources, grid, params)
    _write(path, maps)
    return maps, True
