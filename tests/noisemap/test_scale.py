"""Scale and sum (noiselab.noisemap.scale) against hand-computed values, and the gain fit.

Levels dB re 20 µPa; ``-inf`` means no energy (no background)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiselab.noisemap.basic_maps import BasicMaps
from noiselab.noisemap.geometry import grid_around
from noiselab.noisemap.scale import FitParams, ScaleAndSum, combine, fit_gains

NO_BG = -math.inf


def small_maps(levels):
    arr = np.asarray(levels, dtype=np.float32)
    grid = grid_around(12.37, 55.63, arr.shape[2] * 10.0, arr.shape[1] * 10.0, 10.0)
    return BasicMaps(grid=grid, groups=("road", "rail")[: arr.shape[0]], levels_db=arr, key="x")


def test_60_plus_60_is_63_01():
    """Two groups at 60 dB, no background: 60 + 10·log10(2) = 63.0103 dB."""
    s = ScaleAndSum(small_maps([[[60.0]], [[60.0]]]))
    assert float(s.surface([0.0, 0.0], [0.0, 0.0], NO_BG)[0, 0]) == pytest.approx(63.0103, abs=1e-4)


def test_a_gain_of_x_db_moves_a_single_group_surface_by_x_db():
    """One group, no background: every cell moves by exactly the gain (+7.5, -4.25 dB)."""
    base = np.array([[[40.0, 55.0, 71.3], [62.0, 80.0, 33.3], [50.0, 50.0, 50.0]]])
    s = ScaleAndSum(small_maps(base))
    for x in (7.5, -4.25):
        np.testing.assert_allclose(s.surface([0.0], [x], NO_BG), base[0] + x, atol=1e-4)


def test_scale_and_sum_on_a_hand_computed_3x3_grid():
    """Two groups A, B on 3 x 3 cells, offsets (+1, -2) dB, gains (+2, +5) dB, background
    50 dB. A is scaled by +3 dB, B by +3 dB; per cell ``10·log10(10^((A+3)/10) +
    10^((B+3)/10) + 10^5)``. Hand values: A = B = 57 -> 60 ⊕ 60 ⊕ 50 = 63.2222; A = 67,
    B = 47 -> 70 ⊕ 50 ⊕ 50 = 70.0860; A = 47, B = 47 -> 50 ⊕ 50 ⊕ 50 = 54.7712; A = 77,
    B = 77 -> 80 ⊕ 80 ⊕ 50 = 83.0125."""
    a = [[57.0, 67.0, 47.0], [77.0, 57.0, 67.0], [47.0, 77.0, 57.0]]
    b = [[57.0, 47.0, 47.0], [77.0, 57.0, 47.0], [47.0, 77.0, 57.0]]
    want = [
        [63.2222, 70.0860, 54.7712],
        [83.0125, 63.2222, 70.0860],
        [54.7712, 83.0125, 63.2222],
    ]
    s = ScaleAndSum(small_maps([a, b]))
    np.testing.assert_allclose(s.surface([1.0, -2.0], [2.0, 5.0], 50.0), want, atol=1e-3)


def test_combine_at_points_agrees_with_the_surface():
    """The point form (float64) and the grid form (float32) give the same levels."""
    a = np.array([[[57.0, 67.0]], [[40.0, 66.0]]])
    s = ScaleAndSum(small_maps(a))
    total, parts = combine(a.reshape(2, -1), np.array([1.5, -3.0]), 45.0)
    grid_form = s.surface([0.0, 0.0], [1.5, -3.0], 45.0).reshape(-1)
    np.testing.assert_allclose(grid_form, total, atol=1e-4)
    np.testing.assert_allclose(parts[:, 0], [58.5, 37.0, 45.0])


# A model of two groups at six sensors (the first four near group 0, the next two near group
# 1) and two background sensors far from both.
MODEL = np.array(
    [
        [75.0, 70.0, 64.0, 71.0, 52.0, 48.0, 40.0, 35.0],
        [45.0, 44.0, 43.0, 47.0, 70.0, 62.0, 36.0, 41.0],
    ]
)
BACKGROUND = np.array([False] * 6 + [True] * 2)
IDS = tuple(f"s{i}" for i in range(8))
GROUPS = ("road", "rail")


def measured(gains, bg_db):
    total, _ = combine(MODEL, np.asarray(gains, dtype=float), bg_db)
    return total


def test_fit_recovers_known_gains_and_background():
    """Measurements made with gains (-2.5, +3.0) dB and a 42 dB background: the fit finds them
    within 0.05 dB (the ridge pulls a hair towards 0)."""
    fit = fit_gains(GROUPS, MODEL, measured([-2.5, 3.0], 42.0), BACKGROUND, IDS)
    np.testing.assert_allclose(fit.gains_db, [-2.5, 3.0], atol=0.05)
    assert fit.fitted.tolist() == [True, True]
    assert fit.background_db == pytest.approx(42.0, abs=0.1)
    assert fit.used == IDS[:6]
    assert fit.background_from == IDS[6:]


def test_gains_are_bounded():
    """A 25 dB excess is clipped at the 15 dB bound."""
    fit = fit_gains(GROUPS, MODEL, measured([25.0, 0.0], 30.0), BACKGROUND, IDS)
    assert fit.gains_db[0] == pytest.approx(15.0)
    fit = fit_gains(
        GROUPS, MODEL, measured([25.0, 0.0], 30.0), BACKGROUND, IDS, params=FitParams(bound_db=30.0)
    )
    assert fit.gains_db[0] == pytest.approx(25.0, abs=0.05)


def test_offline_sensors_fall_back_to_the_unscaled_model():
    """Group 1's sensors (s4, s5) offline (NaN): its gain is 0 dB (unscaled) and it is marked
    not fitted, while group 0 is still fitted. Negative control: online they give +3 dB."""
    meas = measured([-2.5, 3.0], 42.0)
    online = fit_gains(GROUPS, MODEL, meas, BACKGROUND, IDS)
    assert online.gains_db[1] == pytest.approx(3.0, abs=0.05)
    meas[4:6] = np.nan
    fit = fit_gains(GROUPS, MODEL, meas, BACKGROUND, IDS)
    assert fit.fitted.tolist() == [True, False]
    assert fit.gains_db[1] == 0.0
    assert fit.gains_db[0] == pytest.approx(-2.5, abs=0.2)
    assert "s4" not in fit.used


def test_no_sensors_at_all_gives_the_unscaled_model_and_default_background():
    fit = fit_gains(GROUPS, MODEL, np.full(8, np.nan), BACKGROUND, IDS)
    assert fit.gains_db.tolist() == [0.0, 0.0]
    assert fit.background_db == FitParams().default_background_db
