"""Sound propagation from straight line segments to receivers: the map's own model.

Units: distances and heights in metres, sound power per metre ``LW'`` in dB re 1 pW/m,
levels in dB re 20 µPa (A-weighted, taking 1 pW/m² ≈ (20 µPa)² for air at rho·c ≈ 400 rayl),
"energy" ``10^(L/10)``; plane coordinates from :mod:`.geometry`.

The structure is CNOSSOS-EU's (Commission Directive (EU) 2015/996, Annex II, §2.5: the level
is the emission minus the attenuations along the path, ``L = LW' + 10·log10(ψ) - A_atm -
A_ground``), simplified to a single A-weighted band:

* **Geometric divergence**, exact for a straight segment: an incoherent line of sound power
  ``W'`` per metre gives at a receiver at perpendicular distance ``d`` (3-D: the horizontal
  distance and the height difference of source and receiver) the intensity
  ``I = W'/(4π·d)·(θ2 - θ1)``, where ``θ1``, ``θ2`` are the angles (from the perpendicular) of
  the segment's ends as seen from the receiver. An infinite line (``θ2 - θ1 = π``) gives
  ``I = W'/(4d)``, ``L = LW' - 10·log10(4d)``: 3 dB less per doubling of distance; a short
  segment of length ``l`` far away (``θ2 - θ1 ≈ l/d``) a point source of power ``W'·l``,
  ``I = W'l/(4π·d²)``: 6 dB per doubling.
* **Air absorption** ``A_atm = a_air·r`` along each ray of slant length ``r = d/cos θ``;
  ``a_air`` = 3.7 dB/km by default, ISO 9613-2:1996 Table 2 at 1 kHz, 10 °C, 70 % relative humidity
  (close to Denmark's annual mean; traffic noise's A-weighted energy peaks near 1 kHz).
* **Ground** ``A_ground = G·max(0, 4.8 - (2·h_m/r)·(17 + 300/r))``: the A-weighted ground
  attenuation over porous ground of ISO 9613-2:1996 §7.3.2, eq. (10), with ``h_m`` the mean
  height of the path (source and receiver heights averaged), scaled by the ground factor ``G``
  (0 hard, 1 porous; our interpolation, CNOSSOS-EU uses ``G`` per path segment and per band).

The attenuations vary along the segment, so the angular integral is done with Gauss-Legendre
nodes in ``θ``: ``I = W'/(4π·d)·Σ_k w_k·10^(-A(r_k)/10)`` with ``Σ w_k = θ2 - θ1``. With
``a_air = 0`` and ``G = 0`` this is the exact divergence.

**Left out** (documented in ``docs/map.md``): screening by buildings, barriers and terrain
(no diffraction term), reflections from façades, meteorology (favourable/homogeneous
conditions, the CNOSSOS-EU ``p``-weighting of downward refraction), per-band spectra,
source directivity, and the road surface, gradient and junction corrections of the emission.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from noiselab.analysis.arrays import FloatArray

__all__ = [
    "PropagationParams",
    "ground_attenuation_db",
    "segment_energy",
]


@dataclass(frozen=True, slots=True)
class PropagationParams:
    """Parameters of the propagation model (see the module docstring).

    ``receiver_height_m`` 4 m is the height of strategic noise maps (Directive 2002/49/EC,
    Annex I); source heights are CNOSSOS-EU's 0.05 m for road vehicles and, for rail, 0.5 m
    (rail head and wheel, simplified). ``quadrature_nodes`` Gauss-Legendre nodes per
    segment. ``min_distance_m`` bounds the 3-D perpendicular distance from below."""

    air_absorption_db_per_m: float = 0.0037
    ground_factor: float = 0.5
    receiver_height_m: float = 4.0
    road_source_height_m: float = 0.05
    rail_source_height_m: float = 0.5
    quadrature_nodes: int = 6
    min_distance_m: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.ground_factor <= 1.0:
            raise ValueError(f"ground_factor {self.ground_factor} must be within 0..1")
        if self.air_absorption_db_per_m < 0 or self.quadrature_nodes < 1:
            raise ValueError("air absorption must be ≥ 0 dB/m and quadrature_nodes ≥ 1")
        if self.min_distance_m <= 0:
            raise ValueError("min_distance_m must be positive")

    def source_height(self, kind: str) -> float:
        """Source height (m) of a ``"road"`` or ``"rail"`` source."""
        return self.rail_source_height_m if kind == "rail" else self.road_source_height_m

    def describe(self) -> dict[str, float | int]:
        """The parameters as plain values (for cache keys)."""
        return asdict(self)


def ground_attenuation_db(
    r_m: FloatArray, mean_height_m: float, ground_factor: float
) -> FloatArray:
    """``G·max(0, 4.8 - (2·h_m/r)·(17 + 300/r))`` in dB (ISO 9613-2:1996 eq. (10) scaled by
    ``G``): 0 dB at short range, rising towards ``4.8·G`` dB far away. Example: ``h_m`` = 2 m,
    ``r`` = 150 m, ``G`` = 1 gives 4.8 - (4/150)·19 = 4.293 dB."""
    a = 4.8 - (2.0 * mean_height_m / r_m) * (17.0 + 300.0 / r_m)
    result: FloatArray = ground_factor * np.maximum(a, 0.0)
    return result


def segment_energy(
    px: FloatArray,
    py: FloatArray,
    a: tuple[float, float],
    b: tuple[float, float],
    *,
    lw_per_m_db: float,
    source_height_m: float,
    params: PropagationParams,
) -> FloatArray:
    """Energy ``10^(L/10)`` at receivers ``(px, py)`` (m) of the segment ``a``-``b`` (plane
    coordinates, m) radiating ``lw_per_m_db`` (dB re 1 pW/m) from ``source_height_m``.

    Example (``a_air = 0``, ``G = 0``): a 100 km segment of ``LW'`` = 80 dB/m seen from 10 m at its
    middle gives ``L = 80 - 10·log10(40) = 63.98`` dB."""
    ax, ay = a
    bx, by = b
    length = math.hypot(bx - ax, by - ay)
    if length == 0.0:
        return np.zeros(np.shape(px))
    ux, uy = (bx - ax) / length, (by - ay) / length
    rx, ry = ax - px, ay - py
    s1 = rx * ux + ry * uy  # along-line coordinate of a, receiver at 0
    s2 = s1 + length
    d_h = np.abs(rx * uy - ry * ux)
    dz = params.receiver_height_m - source_height_m
    d = np.maximum(np.sqrt(d_h * d_h + dz * dz), params.min_distance_m)
    t1 = np.arctan2(s1, d)
    t2 = np.arctan2(s2, d)
    span = t2 - t1
    nodes, weights = np.polynomial.legendre.leggauss(params.quadrature_nodes)
    alpha = params.air_absorption_db_per_m
    g = params.ground_factor
    h_m = (params.receiver_height_m + source_height_m) / 2.0
    if alpha == 0.0 and g == 0.0:
        factor = span
    else:
        factor = np.zeros_like(span)
        mid = (t1 + t2) / 2.0
        for x, w in zip(nodes.tolist(), weights.tolist(), strict=True):
            theta = mid + span * (x / 2.0)
            r = d / np.cos(theta)
            att = alpha * r
            if g:
                att += ground_attenuation_db(r, h_m, g)
            factor += (w / 2.0) * span * np.power(10.0, -att / 10.0)
    result: FloatArray = 10.0 ** (lw_per_m_db / 10.0) / (4.0 * math.pi) * factor / d
    return result
