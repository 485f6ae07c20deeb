"""Great-circle distances against values worked by hand from the haversine formula with
R = 6,371,008.8 m."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiselab.analysis.geodesy import EARTH_RADIUS_M, great_circle_m


def test_along_a_meridian_the_distance_is_the_arc() -> None:
    """Δφ = 0.009° north: d = R·0.009·π/180 = 6,371,008.8 · 1.5708e-4 = 1000.756 m; one minute
    of arc (1/60°) = R·π/10800 = 1853.251 m."""
    assert float(great_circle_m(55.63, 12.38, 55.639, 12.38)) == pytest.approx(1000.7557, abs=1e-3)
    assert float(great_circle_m(55.0, 12.0, 55.0 + 1 / 60, 12.0)) == pytest.approx(
        1853.2513, abs=1e-3
    )


def test_along_a_parallel_the_distance_shrinks_with_the_cosine() -> None:
    """Δλ = 0.01° at φ = 55.63°: a = cos²φ·sin²(Δλ/2), d = 2R·asin(√a) = 627.735 m, which for
    so short a step equals R·cos φ·Δλ = 6,371,008.8 · 0.56443 · 1.74533e-4 = 627.735 m."""
    expected = EARTH_RADIUS_M * math.cos(math.radians(55.63)) * math.radians(0.01)
    assert expected == pytest.approx(627.735, abs=1e-3)
    assert float(great_circle_m(55.63, 12.38, 55.63, 12.39)) == pytest.approx(expected, abs=1e-3)


def test_it_broadcasts_and_is_symmetric() -> None:
    d = great_circle_m(55.63, 12.38, np.array([55.63, 55.639, 55.6255]), np.array([12.38] * 3))
    np.testing.assert_allclose(d, [0.0, 1000.7557, 500.3779], atol=1e-3)
    assert float(great_circle_m(55.639, 12.38, 55.63, 12.38)) == pytest.approx(d[1])


@pytest.mark.parametrize("bad", [(math.nan, 12.0), (91.0, 12.0), (55.0, math.inf)])
def test_bad_positions_are_refused(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match=r"finite|±90"):
        great_circle_m(bad[0], bad[1], 55.0, 12.0)
