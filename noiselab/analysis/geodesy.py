"""Distances between WGS84 positions on the ground, for "within R metres of a place".

The great-circle distance on a sphere of the mean Earth radius, by the haversine formula:

    a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2)
    d = 2 · R · asin(√a)

with φ latitude and λ longitude in radians and ``R`` = :data:`EARTH_RADIUS_M`. Against the
WGS84 ellipsoid the sphere errs by at most about 0.5 % of the distance (the ellipsoid's radii
of curvature lie within 6,335-6,400 km): under a metre at the few hundred metres a place's
radius spans in Vallensbæk, below any sensor's position uncertainty.

Worked value: 0.001° of latitude is ``R · 0.001 · π/180`` = 111.195 m.
"""

from __future__ import annotations

import math

__all__ = ["EARTH_RADIUS_M", "great_circle_m"]

EARTH_RADIUS_M = 6_371_008.8
"""Mean radius of the Earth (m): the IUGG mean radius ``(2a + b) / 3`` of the WGS84 ellipsoid."""


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance (m) between two positions in decimal degrees (module
    docstring). Symmetric, 0 for equal positions, never NaN for valid degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlam = math.radians(lon2 - lon1) / 2.0
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlam) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))
