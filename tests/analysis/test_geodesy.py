"""The great-circle distance against values worked by hand on the sphere of radius
R = 6,371,008.8 m."""

from __future__ import annotations

import math

import pytest

from noiselab.analysis.geodesy import EARTH_RADIUS_M, great_circle_m


def test_a_step_along_a_meridian_is_r_times_the_angle() -> None:
    """0.001° of latitude: 6,371,008.8 · 0.001 · π/180 = 111.1951 m, wherever it is."""
    assert great_circle_m(55.626, 12.388, 55.627, 12.388) == pytest.approx(111.1951, abs=1e-4)
    assert great_circle_m(-10.0, 0.0, -10.001, 0.0) == pytest.approx(111.1951, abs=1e-4)


def test_a_step_along_a_parallel_shrinks_with_the_cosine_of_latitude() -> None:
    """0.001° of longitude at 60° N: 111.1951 · cos 60° = 55.5975 m (the great circle bows
    towards the pole by a negligible amount at this length)."""
    assert great_circle_m(60.0, 10.0, 60.0, 10.001) == pytest.approx(55.5975, abs=1e-3)


def test_a_quarter_of_the_equator_and_the_antipode() -> None:
    """From (0°, 0°) to (0°, 90°): R·π/2 = 10,007,557 m; to the antipode R·π = 20,015,115 m."""
    assert great_circle_m(0.0, 0.0, 0.0, 90.0) == pytest.approx(EARTH_RADIUS_M * math.pi / 2)
    assert great_circle_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(20_015_115.0, abs=1.0)


def test_it_is_symmetric_and_zero_at_one_place() -> None:
    a, b = (55.626, 12.388), (55.6242, 12.3880)
    assert great_circle_m(*a, *b) == great_circle_m(*b, *a)
    assert great_circle_m(*a, *a) == 0.0
