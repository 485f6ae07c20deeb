"""Distances on the Earth's surface between WGS 84 positions, in metres.

The great-circle distance on a sphere of the mean Earth radius (haversine form, which stays
accurate for short distances where the spherical law of cosines loses digits):

    a = sin²(Δφ/2) + cos φ₁ · cos φ₂ · sin²(Δλ/2)
    d = 2·R·asin(√a)

with φ latitudes, λ longitudes (radians) and R = 6,371,008.8 m, the IUGG mean radius
R₁ = (2a + b)/3 of the GRS 80 ellipsoid (Moritz, "Geodetic Reference System 1980", J. Geodesy
74 (2000), table of derived constants). Against the ellipsoid the sphere errs by at most about
0.5 %, i.e. ±10 m over 2 km: far below the spacing of noise sensors. Worked value: one minute
of arc along a meridian, (55° 0' N, 12° E) to (55° 1' N, 12° E), is R·π/10800 = 1853.25 m.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray

__all__ = ["EARTH_RADIUS_M", "great_circle_m"]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius R₁ of GRS 80 (IUGG), m."""


def great_circle_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance (m) from ``(lat1, lon1)`` to ``(lat2, lon2)`` (degrees, WGS 84),
    element by element with numpy broadcasting (scalars give a 0-d array). Latitudes must lie
    within ±90° and every value be finite, else ``ValueError``."""
    phi1, lam1, phi2, lam2 = (
        np.asarray(value, dtype=np.float64) for value in (lat1, lon1, lat2, lon2)
    )
    for name, value in (("lat1", phi1), ("lon1", lam1), ("lat2", phi2), ("lon2", lam2)):
        if not np.isfinite(value).all():
            raise ValueError(f"{name}: must be finite degrees")
    if (np.abs(phi1) > 90).any() or (np.abs(phi2) > 90).any():
        raise ValueError("latitudes must lie within ±90 degrees")
    phi1, lam1, phi2, lam2 = (np.radians(v) for v in (phi1, lam1, phi2, lam2))
    half = (
        np.sin((phi2 - phi1) / 2.0) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    distance: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    return distance
