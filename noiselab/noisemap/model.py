"""The living noise map as one object: sources, grid, basic maps, fit, surface, estimate,
validation. The seam for the API and the page; everything below it is pure numpy.

Units: levels dB re 20 µPa, A-weighted; energies ``10^(L/10)``; positions WGS84 degrees in
**(lon, lat)** order; times Unix seconds (UTC); offsets and gains in dB.

Sensors come in as plain values, ``{sensor_id: (lon, lat, measured_db)}`` with
``measured_db`` the LAeq of the period (NaN or None when the sensor has no data for it), plus
the ids of the background reference sensors. Usage::

    nmap = NoiseMap.create(cache_dir="/var/cache/noiselab/noisemap")   # builds or loads
    offsets = nmap.offsets(start, end)               # emission of the period vs reference
    fit = nmap.fit(sensors, background_ids, offsets) # gains per group, background
    levels = nmap.surface(offsets, fit)              # float32 (ny, nx), row 0 south
    here = nmap.estimate(lon, lat, offsets, fit)     # level and each group's part
    loo = nmap.validate(sensors, background_ids, offsets)  # leave-one-out per sensor

Lden of a period is not one scale-and-sum: fit and sum the day, evening and night LAeq
separately and combine them with the penalties (:func:`noiselab.analysis.periods.lden`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from noiselab.analysis.arrays import BoolArray, FloatArray
from noiselab.noisemap.basic_maps import BasicMaps, Float32Array, group_levels_at, load_or_build
from noiselab.noisemap.emission import group_offsets_db, period_hours
from noiselab.noisemap.geometry import Grid, grid_around
from noiselab.noisemap.propagation import PropagationParams
from noiselab.noisemap.scale import Fit, FitParams, ScaleAndSum, combine, fit_gains
from noiselab.noisemap.sources import LineSource, load_sources
from noiselab.noisemap.validation import LooResult, leave_one_out

__all__ = [
    "DEFAULT_GRID",
    "Estimate",
    "NoiseMap",
    "SensorValues",
]

SensorValues = Mapping[str, tuple[float, float, float | None]]
"""``{sensor_id: (lon, lat, measured_db)}``; ``measured_db`` None or NaN: no data."""

DEFAULT_GRID = (12.370, 55.633, 6000.0, 5000.0, 10.0)
"""``(lon0, lat0, width_m, height_m, step_m)`` of the Vallensbæk map: 600 x 500 cells
covering the municipality and every default sensor."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """The level at one point: ``level_db`` and ``contributions_db`` per group and
    ``"background"`` (dB; they add energetically to ``level_db``)."""

    lon: float
    lat: float
    level_db: float
    contributions_db: dict[str, float]


class NoiseMap:
    """Sources, grid and basic maps of one area, with the fit and surface operations."""

    def __init__(
        self,
        sources: Sequence[LineSource],
        maps: BasicMaps,
        params: PropagationParams,
        fit_params: FitParams | None = None,
    ) -> None:
        self.sources = tuple(sources)
        self.maps = maps
        self.params = params
        self.fit_params = fit_params or FitParams()
        self._sum = ScaleAndSum(maps)
        self._at: dict[tuple[float, float], FloatArray] = {}

    @classmethod
    def create(
        cls,
        cache_dir: str | Path,
        *,
        sources_path: str | Path | None = None,
        grid: Grid | None = None,
        params: PropagationParams | None = None,
        fit_params: FitParams | None = None,
    ) -> NoiseMap:
        """Load the sources (default: Vallensbæk), and the basic maps from ``cache_dir`` or
        compute them there (a few seconds, once per geometry and parameters)."""
        sources = load_sources(sources_path)
        grid = grid or grid_around(*DEFAULT_GRID)
        params = params or PropagationParams()
        maps, _ = load_or_build(sources, grid, params, cache_dir)
        return cls(sources, maps, params, fit_params)

    @property
    def groups(self) -> tuple[str, ...]:
        """The source groups, in the order of every per-group array."""
        return self.maps.groups

    def offsets(self, start: float, end: float) -> FloatArray:
        """Each group's emission offset (dB) for the period ``[start, end)`` (Unix s)."""
        return group_offsets_db(
            self.sources, self.groups, period_hours(start, end), self.maps.grid.projection
        )

    def levels_at(self, lonlat: Sequence[tuple[float, float]]) -> FloatArray:
        """Reference levels (dB) of each group at points, shape ``(groups, n)``; the exact
        model, remembered per point (sensors do not move often)."""
        missing = [p for p in lonlat if p not in self._at]
        if missing:
            lon = np.array([p[0] for p in missing])
            lat = np.array([p[1] for p in missing])
            got = group_levels_at(self.sources, lon, lat, self.maps.grid.projection, self.params)
            for i, p in enumerate(missing):
                self._at[p] = got[:, i]
        return np.stack([self._at[p] for p in lonlat], axis=1)

    def _inputs(
        self, sensors: SensorValues, background_ids: Collection[str], offsets: FloatArray
    ) -> tuple[tuple[str, ...], FloatArray, FloatArray, BoolArray]:
        ids = tuple(sensors)
        model = self.levels_at([(sensors[s][0], sensors[s][1]) for s in ids])
        model = model + np.asarray(offsets)[:, None]
        meas = np.array([np.nan if sensors[s][2] is None else sensors[s][2] for s in ids])
        bg = np.array([s in background_ids for s in ids], dtype=np.bool_)
        return ids, model, meas.astype(np.float64), bg

    def fit(
        self, sensors: SensorValues, background_ids: Collection[str], offsets: FloatArray
    ) -> Fit:
        """Gains and background of a period from the sensors' measurements."""
        ids, model, meas, bg = self._inputs(sensors, background_ids, offsets)
        return fit_gains(self.groups, model, meas, bg, ids, params=self.fit_params)

    def surface(
        self, offsets: FloatArray, fit: Fit, out: Float32Array | None = None
    ) -> Float32Array:
        """The scaled and summed surface (dB, float32, ``(ny, nx)``, row 0 south)."""
        return self._sum.surface(offsets, fit.gains_db, fit.background_db, out)

    def estimate(self, lon: float, lat: float, offsets: FloatArray, fit: Fit) -> Estimate:
        """The surface's level at one point (exact model there) and each part of it."""
        model = self.levels_at([(lon, lat)]) + np.asarray(offsets)[:, None]
        total, parts = combine(model, fit.gains_db, fit.background_db)
        names = [*self.groups, "background"]
        return Estimate(
            lon=lon,
            lat=lat,
            level_db=float(total[0]),
            contributions_db={n: float(parts[i, 0]) for i, n in enumerate(names)},
        )

    def validate(
        self, sensors: SensorValues, background_ids: Collection[str], offsets: FloatArray
    ) -> LooResult:
        """Leave-one-sensor-out errors of the period (:mod:`.validation`)."""
        ids, model, meas, bg = self._inputs(sensors, background_ids, offsets)
        return leave_one_out(self.groups, model, meas, bg, ids, params=self.fit_params)
