"""The living map's pure parts: the Lden terms against a hand combination, the palette PNG
writer against a strict decoder, the band classes, and the raster's georeferencing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.png_decode import decode_palette_png

from noiselab.analysis.periods import DANISH_PENALTIES, composite_rating_level
from noiselab.livemap.png import palette_png
from noiselab.livemap.raster import classify, lonlat_raster, mercator_y
from noiselab.livemap.terms import Terms, lden_terms
from noiselab.noisemap.geometry import grid_around
from noiselab.noisemap.scale import combine


def test_lden_terms_equal_the_per_cell_combination_of_day_evening_and_night():
    """Two groups at basic levels 50 and 40 dB at a cell, terms day (0, 3), evening (-2, 1),
    night (-8, -5) dB, backgrounds 35/33/30 dB: each period's level by energetic sum, then
    Lden = composite(12/3/9 h, 0/5/10 dB); one scale and sum with the Lden terms must give the
    same to 1e-9 dB. Hand value for the day: 10·log10(10^5 + 10^4.3 + 10^3.5) = 50.97 dB."""
    basic = np.array([[50.0], [40.0]])
    periods = [
        Terms(np.array([0.0, 3.0]), 35.0),
        Terms(np.array([-2.0, 1.0]), 33.0),
        Terms(np.array([-8.0, -5.0]), 30.0),
    ]
    levels = [
        float(combine(basic + p.group_db[:, None], np.zeros(2), p.background_db)[0][0])
        for p in periods
    ]
    assert levels[0] == pytest.approx(10 * math.log10(1e5 + 10**4.3 + 10**3.5))
    expected = composite_rating_level(levels, (12, 3, 9), DANISH_PENALTIES)
    terms = lden_terms(periods, (12, 3, 9), DANISH_PENALTIES)
    got = float(combine(basic + terms.group_db[:, None], np.zeros(2), terms.background_db)[0][0])
    assert got == pytest.approx(expected, abs=1e-9)
    # negative control: forgetting the penalties gives a different (lower) answer
    plain = lden_terms(periods, (12, 3, 9), (0, 0, 0))
    wrong = float(combine(basic + plain.group_db[:, None], np.zeros(2), plain.background_db)[0][0])
    assert wrong < expected - 1


def test_palette_png_round_trips_and_a_damaged_file_is_refused():
    indices = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    palette = [(0, 0, 0, 0), (255, 0, 0, 255), (0, 0, 255, 128)]
    data = palette_png(indices, palette)
    got, pal = decode_palette_png(data)
    np.testing.assert_array_equal(got, indices)
    assert pal == palette
    broken = bytearray(data)
    broken[-20] ^= 0xFF  # a byte of the image data: its CRC no longer matches
    with pytest.raises(AssertionError, match="CRC"):
        decode_palette_png(bytes(broken))
    with pytest.raises(ValueError, match="beyond a palette"):
        palette_png(np.array([[3]], dtype=np.uint8), palette)


def test_classes_match_the_markers_rounding_and_edges():
    got = classify([34.99, 34.996, 35.0, 59.994, 59.996, 80.0, 120.0, float("nan"), -np.inf])
    assert got.tolist() == [0, 1, 1, 5, 6, 10, 10, 0, 0]


def test_raster_pixels_land_in_the_grid_cell_of_their_position():
    """On a 2 x 1.5 km grid at 10 m, the pixel of a point holds the flat index of the grid cell
    containing that point (the nearest cell centre), for points spread over the grid."""
    grid = grid_around(12.37, 55.633, 2000, 1500, 10)
    raster = lonlat_raster(grid)
    assert raster.width >= grid.nx
    assert raster.height >= grid.ny
    rng = np.random.default_rng(1)
    x = rng.uniform(grid.x0, grid.x0 + (grid.nx - 1) * grid.step_m, 200)
    y = rng.uniform(grid.y0, grid.y0 + (grid.ny - 1) * grid.step_m, 200)
    lon, lat = grid.projection.to_lonlat(x, y)
    misses = 0
    for i in range(200):
        pixel = raster.pixel_of(float(lon[i]), float(lat[i]))
        assert pixel is not None
        col, row = grid.index_of(x[i], y[i])
        cell = raster.cell[pixel]
        # a pixel is about one cell wide: its centre is within one cell of the point
        assert abs(cell % grid.nx - float(col)) <= 1.0
        assert abs(cell // grid.nx - float(row)) <= 1.0
        misses += int(cell != round(float(row)) * grid.nx + round(float(col)))
    assert misses < 100  # most land in exactly the point's own cell
    assert raster.pixel_of(12.0, 55.0) is None
    north, south = mercator_y([raster.north, raster.south])
    assert north > south
