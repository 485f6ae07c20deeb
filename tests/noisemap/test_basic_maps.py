"""Basic maps (noiselab.noisemap.basic_maps): the grid agrees with the point model, and the
disk cache is reused for the same inputs and invalidated when geometry or parameters change."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from noiselab.noisemap.basic_maps import (
    build_basic_maps,
    cache_key,
    group_levels_at,
    load_or_build,
)
from noiselab.noisemap.geometry import grid_around
from noiselab.noisemap.propagation import PropagationParams
from noiselab.noisemap.sources import load_sources

SOURCES = load_sources()
GRID = grid_around(12.37, 55.633, 2000.0, 1500.0, 100.0)  # 20 x 15 cells: fast
PARAMS = PropagationParams()


def test_grid_cells_equal_the_point_model_at_their_centres():
    maps = build_basic_maps(SOURCES, GRID, PARAMS)
    assert maps.levels_db.shape == (4, 15, 20)
    assert maps.levels_db.dtype == np.float32
    x, y = GRID.points()
    lon, lat = GRID.projection.to_lonlat(x[[0, 77, 299]], y[[0, 77, 299]])
    exact = group_levels_at(SOURCES, lon, lat, GRID.projection, PARAMS)
    np.testing.assert_allclose(maps.levels_db.reshape(4, -1)[:, [0, 77, 299]], exact, atol=1e-3)


def test_cache_is_reused_when_nothing_changes(tmp_path):
    first, built = load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    assert built
    again, built = load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    assert not built
    assert again.key == first.key
    np.testing.assert_array_equal(again.levels_db, first.levels_db)
    assert len(list(tmp_path.glob("basic-*.npz"))) == 1


def test_cache_is_invalidated_when_the_geometry_changes(tmp_path):
    """Moving one vertex of one line by about 1 m (0.00001° lon) changes the key and the maps
    are recomputed; moving it back finds the first file again."""
    load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    moved_coords = SOURCES[0].lonlat.copy()
    moved_coords[2, 0] += 1e-5
    moved = (replace(SOURCES[0], lonlat=moved_coords), *SOURCES[1:])
    assert cache_key(moved, GRID, PARAMS) != cache_key(SOURCES, GRID, PARAMS)
    _, built = load_or_build(moved, GRID, PARAMS, tmp_path)
    assert built
    _, built = load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    assert not built


def test_cache_is_invalidated_when_parameters_or_traffic_change(tmp_path):
    load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    _, built = load_or_build(SOURCES, GRID, replace(PARAMS, ground_factor=0.7), tmp_path)
    assert built
    busier = (replace(SOURCES[0], road=replace(SOURCES[0].road, aadt=80000.0)), *SOURCES[1:])
    _, built = load_or_build(busier, GRID, PARAMS, tmp_path)
    assert built
    finer = grid_around(12.37, 55.633, 2000.0, 1500.0, 50.0)
    _, built = load_or_build(SOURCES, finer, PARAMS, tmp_path)
    assert built


def test_a_corrupt_cache_file_is_recomputed(tmp_path):
    maps, _ = load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    (path,) = tmp_path.glob("basic-*.npz")
    path.write_bytes(b"not an npz file")
    again, built = load_or_build(SOURCES, GRID, PARAMS, tmp_path)
    assert built
    np.testing.assert_array_equal(again.levels_db, maps.levels_db)
