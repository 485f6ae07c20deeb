"""Scale and sum: fit one gain per source group to the sensors, then add the scaled basic maps
and a background energetically (the DYNAMAP scheme: precomputed basic maps, live gains).

Units: levels in dB re 20 µPa, A-weighted; gains and offsets in dB; energy ``10^(L/10)``.
Arrays of modelled levels are indexed ``[group, point]``.

For a period, group ``g``'s unscaled model at point ``i`` is ``M_gi = B_gi + o_g`` (basic map
``B`` plus the period's emission offset ``o``, :func:`.emission.group_offsets_db`), and the
surface is

    ``L_i = 10·log10( Σ_g 10^((M_gi + k_g)/10) + 10^(L_bg/10) )``

with gains ``k_g`` and background ``L_bg`` fitted by :func:`fit_gains`:

* **gains**: least squares in dB over the source sensors (those not declared background),
  ``min Σ_i (L_meas,i - L_i(k))² + λ·Σ_g k_g²`` (energetic model, residuals in dB), by
  projected Gauss-Newton: the derivative ``∂L_i/∂k_g`` is group ``g``'s energy share at ``i``,
  each step is clipped to ``|k_g| ≤ bound_db`` (±15 dB). A group is fitted only if at least
  one source sensor has a modelled share of it ≥ ``min_share`` ("sensors near its sources");
  otherwise, and for any group whose sensors are all offline (NaN), ``k_g = 0``: the
  unscaled model (the fallback). The small ridge ``λ`` keeps two groups heard by the same
  sensors from trading gains without bound.
* **background**: from the background sensors, the energy left after the modelled sources,
  ``max(E_meas - Σ_g E_g, E_meas·10^(-floor/10))`` (never more than ``floor_db`` below the
  measurement, when the model already explains all of it), averaged energetically over those
  sensors; without any, ``default_background_db``. Gains and background are fitted in turn,
  twice.

:class:`ScaleAndSum` applies a fit to the basic maps: one ``float32`` matrix-vector product
of the group energies and one ``log10`` per update (milliseconds for 300,000 cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import BoolArray, FloatArray
from noiselab.noisemap.basic_maps import BasicMaps, Float32Array

__all__ = [
    "Fit",
    "FitParams",
    "ScaleAndSum",
    "combine",
    "fit_gains",
]


@dataclass(frozen=True, slots=True)
class FitParams:
    """Bounds and thresholds of :func:`fit_gains` (dB unless named otherwise)."""

    bound_db: float = 15.0
    min_share: float = 0.3
    ridge: float = 1e-3
    default_background_db: float = 35.0
    floor_db: float = 10.0
    iterations: int = 50


@dataclass(frozen=True, slots=True)
class Fit:
    """A fitted period: ``gains_db[g]`` for ``groups[g]`` (0 where ``fitted[g]`` is False: the
    unscaled fallback), ``background_db``, and which sensors the gains (``used``) and the
    background (``background_from``) came from."""

    groups: tuple[str, ...]
    gains_db: FloatArray
    fitted: BoolArray
    background_db: float
    used: tuple[str, ...]
    background_from: tuple[str, ...]


def _energy(levels_db: npt.ArrayLike) -> FloatArray:
    result: FloatArray = np.power(10.0, np.asarray(levels_db, dtype=np.float64) / 10.0)
    return result


def combine(
    model_db: FloatArray, gains_db: FloatArray, background_db: float
) -> tuple[FloatArray, FloatArray]:
    """``(total_db, contributions_db)`` at points from modelled group levels ``model_db``
    (``[group, point]``, offsets included): the total ``10·log10(Σ_g 10^((M+k)/10) +
    10^(L_bg/10))`` and each part's level, the background last (shape ``(groups + 1, n)``)."""
    parts = np.vstack(
        [
            np.asarray(model_db, dtype=np.float64) + np.asarray(gains_db)[:, None],
            np.full((1, model_db.shape[1]), background_db),
        ]
    )
    total: FloatArray = 10.0 * np.log10(_energy(parts).sum(axis=0))
    return total, parts


def _background(source_energy: FloatArray, measured_db: FloatArray, params: FitParams) -> float:
    """Background level (dB) left at the background sensors after the modelled sources."""
    if measured_db.size == 0:
        return params.default_background_db
    meas = _energy(measured_db)
    rest = np.maximum(meas - source_energy, meas * 10.0 ** (-params.floor_db / 10.0))
    return float(10.0 * np.log10(rest.mean()))


def _gauss_newton(
    e_model: FloatArray, e_bg: float, measured: FloatArray, free: BoolArray, p: FitParams
) -> FloatArray:
    """Gains (dB) of the ``free`` groups minimising the squared dB residuals (module docs)."""
    k = np.zeros(e_model.shape[0])
    idx = np.flatnonzero(free)
    if idx.size == 0 or measured.size == 0:
        return k
    for _ in range(p.iterations):
        parts = e_model * _energy(k)[:, None]
        total = parts.sum(axis=0) + e_bg
        resid = measured - 10.0 * np.log10(total)
        jac = (parts[idx] / total).T  # (sensors, free groups): ∂L_i/∂k_g
        lhs = jac.T @ jac + p.ridge * np.eye(idx.size)
        step = np.linalg.solve(lhs, jac.T @ resid - p.ridge * k[idx])
        new = np.clip(k[idx] + step, -p.bound_db, p.bound_db)
        done = float(np.max(np.abs(new - k[idx]))) < 1e-7
        k[idx] = new
        if done:
            break
    return k


def fit_gains(
    groups: tuple[str, ...],
    model_db: FloatArray,
    measured_db: npt.ArrayLike,
    background: npt.ArrayLike,
    sensor_ids: tuple[str, ...],
    *,
    params: FitParams | None = None,
) -> Fit:
    """Fit gains and background of one period (see the module docstring).

    ``model_db[g, i]``: group ``g``'s unscaled modelled level (dB, offsets included) at sensor
    ``i``; ``measured_db[i]`` its measurement, NaN when offline; ``background[i]`` True for a
    background reference sensor. Example: one group modelled at 60 dB at a sensor measuring
    63 dB, no background sensor, background 35 dB: gain ≈ +3.0 dB."""
    p = params or FitParams()
    meas = np.asarray(measured_db, dtype=np.float64)
    is_bg = np.asarray(background, dtype=np.bool_)
    online = np.isfinite(meas)
    src = online & ~is_bg
    bgs = online & is_bg
    e_model = _energy(model_db)
    k = np.zeros(len(groups))
    bg_db = _background(e_model[:, bgs].sum(axis=0), meas[bgs], p)
    shares = e_model[:, src] / (e_model[:, src].sum(axis=0) + _energy(bg_db))
    free = np.max(shares, axis=1) >= p.min_share if src.any() else np.zeros(len(groups), np.bool_)
    for _ in range(2):
        k = _gauss_newton(e_model[:, src], float(_energy(bg_db)), meas[src], free, p)
        scaled = e_model * _energy(k)[:, None]
        bg_db = _background(scaled[:, bgs].sum(axis=0), meas[bgs], p)
    ids = np.asarray(sensor_ids, dtype=object)
    return Fit(
        groups=groups,
        gains_db=k,
        fitted=free,
        background_db=bg_db,
        used=tuple(str(s) for s in ids[src]),
        background_from=tuple(str(s) for s in ids[bgs]),
    )


class ScaleAndSum:
    """The scale-and-sum surface over one set of basic maps.

    Construction converts the maps to energies once (``float32``, shape ``(groups, cells)``);
    :meth:`surface` then costs one matrix-vector product and one ``log10``."""

    def __init__(self, maps: BasicMaps) -> None:
        self.maps = maps
        levels = maps.levels_db.reshape(len(maps.groups), -1)
        self._energy: Float32Array = np.power(np.float32(10.0), levels / np.float32(10.0))

    def surface(
        self,
        offsets_db: npt.ArrayLike,
        gains_db: npt.ArrayLike,
        background_db: float,
        out: Float32Array | None = None,
    ) -> Float32Array:
        """The surface (dB, float32, shape ``(ny, nx)``):
        ``10·log10(Σ_g 10^((B_g + o_g + k_g)/10) + 10^(L_bg/10))``. ``out``: a float32 array
        of the grid's size to reuse (no allocation)."""
        coeff = _energy(np.asarray(offsets_db) + np.asarray(gains_db)).astype(np.float32)
        if out is None:
            out = np.empty(self._energy.shape[1], dtype=np.float32)
        flat = out.reshape(-1)
        np.dot(coeff, self._energy, out=flat)
        flat += np.float32(10.0 ** (background_db / 10.0))
        np.log10(flat, out=flat)
        flat *= np.float32(10.0)
        return flat.reshape(self.maps.grid.shape)
