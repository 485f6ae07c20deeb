"""Known answers of the map's propagation model (noiselab.noisemap.propagation).

Levels dB re 20 µPa, sound power per metre dB re 1 pW/m, distances m. Air absorption and the
ground term are switched off where a closed form is checked; the receiver is put at the source
height so the 3-D distance is the horizontal one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiselab.noisemap.propagation import (
    PropagationParams,
    ground_attenuation_db,
    segment_energy,
)

FREE = PropagationParams(air_absorption_db_per_m=0.0, ground_factor=0.0, receiver_height_m=0.05)


def level(d, a, b, lw=80.0, params=FREE):
    e = segment_energy(
        np.array([0.0]), np.array([d]), a, b, lw_per_m_db=lw, source_height_m=0.05, params=params
    )
    return float(10.0 * np.log10(e[0]))


def test_long_line_matches_the_infinite_line_closed_form():
    """A 2,000 km segment seen from 10, 20, 40 m at its middle: ``L = LW' - 10·log10(4d)``,
    80 - 10·log10(40) = 63.979 dB at 10 m; the segment's missing angle (2·atan(40/1e6)) costs
    under 0.0002 dB. Negative control: a 200 m segment at 40 m is 1.3 dB short of it."""
    for d in (10.0, 20.0, 40.0):
        got = level(d, (-1e6, 0.0), (1e6, 0.0))
        assert got == pytest.approx(80.0 - 10.0 * math.log10(4.0 * d), abs=1e-3)
    short = level(40.0, (-100.0, 0.0), (100.0, 0.0))
    assert short != pytest.approx(80.0 - 10.0 * math.log10(160.0), abs=1.0)


def test_long_line_falls_3_db_per_doubling_of_distance():
    """10·log10(2) = 3.0103 dB per doubling, 25 -> 50 -> 100 -> 200 m."""
    levels = [level(d, (-1e6, 0.0), (1e6, 0.0)) for d in (25.0, 50.0, 100.0, 200.0)]
    np.testing.assert_allclose(-np.diff(levels), 10.0 * math.log10(2.0), atol=1e-3)


def test_short_segment_far_away_is_a_point_source():
    """A 1 m segment of ``LW'`` 80 dB/m is a point source of ``LW`` 80 dB: at 100 m
    ``L = 80 - 10·log10(4π·100²) = 80 - 50.992 = 29.008`` dB, and 6.02 dB less per doubling."""
    near = level(100.0, (-0.5, 0.0), (0.5, 0.0))
    assert near == pytest.approx(80.0 - 10.0 * math.log10(4.0 * math.pi * 1e4), abs=1e-4)
    levels = [level(d, (-0.5, 0.0), (0.5, 0.0)) for d in (100.0, 200.0, 400.0)]
    np.testing.assert_allclose(-np.diff(levels), 20.0 * math.log10(2.0), atol=1e-4)


def test_segments_add_up_to_the_whole_line():
    """Divergence is exact per segment: a line cut into three pieces gives the same energy."""
    whole = level(30.0, (-500.0, 0.0), (700.0, 0.0))
    px, py = np.array([0.0]), np.array([30.0])
    pieces = sum(
        segment_energy(px, py, a, b, lw_per_m_db=80.0, source_height_m=0.05, params=FREE)[0]
        for a, b in (
            ((-500.0, 0.0), (-20.0, 0.0)),
            ((-20.0, 0.0), (5.0, 0.0)),
            ((5.0, 0.0), (700.0, 0.0)),
        )
    )
    assert 10.0 * math.log10(pieces) == pytest.approx(whole, abs=1e-9)


def test_air_absorption_of_a_short_segment_is_alpha_times_distance():
    """A point-like segment 500 m away with 3.7 dB/km: 1.85 dB below the free field."""
    air = PropagationParams(
        air_absorption_db_per_m=0.0037, ground_factor=0.0, receiver_height_m=0.05
    )
    free = level(500.0, (-0.5, 0.0), (0.5, 0.0))
    damped = level(500.0, (-0.5, 0.0), (0.5, 0.0), params=air)
    assert free - damped == pytest.approx(1.85, abs=1e-3)


def test_ground_term_values():
    """ISO 9613-2 eq. (10), h_m = 2 m: 150 m -> 4.8 - (4/150)·(17 + 2) = 4.2933 dB; 25 m ->
    4.8 - 0.16·29 = 0.16 dB; 5 m -> negative, so 0; G = 0.5 halves it."""
    r = np.array([150.0, 25.0, 5.0])
    np.testing.assert_allclose(ground_attenuation_db(r, 2.0, 1.0), [4.29333, 0.16, 0.0], atol=1e-5)
    np.testing.assert_allclose(ground_attenuation_db(r, 2.0, 0.5), [2.14667, 0.08, 0.0], atol=1e-5)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="ground_factor"):
        PropagationParams(ground_factor=1.5)
    with pytest.raises(ValueError, match="quadrature"):
        PropagationParams(quadrature_nodes=0)
