"""The surface as a georeferenced image: the model's metric grid resampled onto a raster that a
Leaflet ``imageOverlay`` places exactly, and classified into the 5-dB colour bands.

Leaflet stretches an overlay image linearly between the Web Mercator (EPSG:3857) positions of
its two corners. So the raster's columns are evenly spaced in longitude and its rows evenly
spaced in Mercator ``y = asinh(tan φ)`` (north row first); each pixel takes the value of the
grid cell its centre falls in (nearest cell; the grid's plane is the local projection of
:mod:`noiselab.noisemap.geometry`), and pixels outside the grid are transparent. The raster
covers the grid's lon/lat bounds with pixels about one grid step wide, so no cell is lost.
Rows linear in latitude instead would misplace the middle of a 5 km map by under a metre; the
Mercator rows make it exact for Leaflet.

Classes: 0 below the lowest band (35 dB) and outside the grid (transparent), 1..10 the bands
35-40 ... >=80 dB of :data:`noiselab.api.map_bands.BANDS`, levels rounded to 0.01 dB first
as the markers are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.api.map_bands import BANDS
from noiselab.livemap.png import Rgba, parse_hex
from noiselab.noisemap.geometry import Grid

__all__ = [
    "BAND_EDGES",
    "BAND_PALETTE",
    "LonLatRaster",
    "classify",
    "lonlat_raster",
    "mercator_y",
]

BAND_EDGES: FloatArray = np.array([b.low for b in BANDS if b.low is not None], dtype=np.float64)
"""Lower edges (dB) of the coloured bands 35, 40, ..., 80."""

BAND_PALETTE: tuple[Rgba, ...] = ((0, 0, 0, 0), *(parse_hex(b.colour) for b in BANDS[1:]))
"""Palette of the band image: index 0 transparent, then one opaque colour per band."""


def mercator_y(lat_deg: npt.ArrayLike) -> FloatArray:
    """Web Mercator northing on the unit sphere, ``asinh(tan φ)`` (φ latitude)."""
    return np.asarray(np.arcsinh(np.tan(np.radians(np.asarray(lat_deg, dtype=np.float64)))))


@dataclass(frozen=True, slots=True)
class LonLatRaster:
    """``width`` x ``height`` pixels between ``west``/``east`` and ``south``/``north``
    (degrees); ``cell[r, c]`` the flat grid index (row-major, grid row 0 south) of pixel
    ``(r, c)`` (row 0 north), -1 outside the grid."""

    west: float
    south: float
    east: float
    north: float
    width: int
    height: int
    cell: IntArray

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((south, west), (north, east))``: Leaflet's ``LatLngBounds`` order."""
        return (self.south, self.west), (self.north, self.east)

    def pixel_of(self, lon: float, lat: float) -> tuple[int, int] | None:
        """``(row, column)`` of the pixel holding ``(lon, lat)``, or ``None`` outside."""
        col = math.floor((lon - self.west) / (self.east - self.west) * self.width)
        top, bottom = mercator_y([self.north, self.south]).tolist()
        row = math.floor((top - float(mercator_y(lat))) / (top - bottom) * self.height)
        if 0 <= row < self.height and 0 <= col < self.width:
            return row, col
        return None

    def sample(self, values: npt.NDArray[np.float32], fill: float = np.nan) -> FloatArray:
        """``values`` (a grid array, shape ``(ny, nx)``) at every pixel, ``fill`` outside."""
        flat = values.reshape(-1)
        out = np.full(self.cell.shape, fill, dtype=np.float64)
        inside = self.cell >= 0
        out[inside] = flat[self.cell[inside]]
        return out


def lonlat_raster(grid: Grid) -> LonLatRaster:
    """The raster over ``grid``'s lon/lat bounds, pixels about one grid step on a side."""
    west, south, east, north = grid.bounds_lonlat()
    mid = (south + north) / 2.0
    x, y = grid.projection.to_xy(np.array([west, east, west]), np.array([mid, mid, north]))
    _, y_south = grid.projection.to_xy(np.array([west]), np.array([south]))
    width = math.ceil((x[1] - x[0]) / grid.step_m)
    height = math.ceil((y[2] - y_south[0]) / grid.step_m)
    lons = west + (np.arange(width) + 0.5) * (east - west) / width
    top, bottom = mercator_y([north, south]).tolist()
    ys = top - (np.arange(height) + 0.5) * (top - bottom) / height
    lats = np.degrees(np.arctan(np.sinh(ys)))
    glon, glat = np.meshgrid(lons, lats)
    px, py = grid.projection.to_xy(glon.reshape(-1), glat.reshape(-1))
    col, row = grid.index_of(px, py)
    c = np.rint(col).astype(np.int64)
    r = np.rint(row).astype(np.int64)
    inside = (c >= 0) & (c < grid.nx) & (r >= 0) & (r < grid.ny)
    cell = np.where(inside, r * grid.nx + c, -1).reshape(height, width)
    return LonLatRaster(west, south, east, north, width, height, cell)


def classify(levels: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """Band index of each level (dB): 0 below 35 dB or not finite, 1..10 the bands 35-40 ...
    >=80, after rounding to 0.01 dB (so 34.996 dB is 35-40, as a marker would show it)."""
    arr = np.round(np.asarray(levels, dtype=np.float64), 2)
    idx = np.searchsorted(BAND_EDGES, np.nan_to_num(arr, nan=-1.0, neginf=-1.0), side="right")
    return np.asarray(idx, dtype=np.uint8)
