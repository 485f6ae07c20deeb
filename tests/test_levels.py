"""Known-answer tests of noiselab.analysis.levels (energetic means and exceedance levels)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.decibels import (
    energetic_sum,
    energy,
    leq,
    leq_along,
    level_from_energy,
    round_db,
    round_db_or_none,
)
from noiselab.analysis.levels import exceedance_levels, exceedance_levels_by_group


def test_energetic_mean_python_acoustics_worked_case():
    """python-acoustics' test case: Leq(80, 80.3, 80.6, 80.4, 79.7, 76.9) = 79.806989166 dB."""
    levels = [80.0, 80.3, 80.6, 80.4, 79.7, 76.9]
    np.testing.assert_allclose(leq(levels), 79.806989166, atol=1e-9)


def test_energetic_mean_of_60_and_70_db():
    """60 dB and 70 dB for 1 s each: 10·log10((10^6 + 10^7) / 2) = 10·log10(5.5·10^6)
    = 60 + 10·log10(5.5) = 60 + 7.403627 = 67.403627 dB (not the arithmetic 65 dB)."""
    np.testing.assert_allclose(leq([60.0, 70.0]), 67.403627, atol=1e-6)
    np.testing.assert_allclose(leq([60.0, 70.0], [1.0, 1.0]), 67.403627, atol=1e-6)


def test_energetic_mean_weights_by_duration():
    """60 dB for 9 s and 70 dB for 1 s: 10·log10((9·10^6 + 10^7) / 10) = 10·log10(1.9·10^6)
    = 62.787536 dB; the same as ten 1-s readings (nine of 60 dB, one of 70 dB)."""
    weighted = leq([60.0, 70.0], [9.0, 1.0])
    np.testing.assert_allclose(weighted, 60 + 10 * math.log10(1.9), atol=1e-9)
    np.testing.assert_allclose(weighted, leq([60.0] * 9 + [70.0]), atol=1e-9)


def test_energetic_mean_of_equal_levels_is_that_level():
    np.testing.assert_allclose(leq([55.5] * 7, [0.5, 1, 2, 3, 4, 5, 3600]), 55.5)


def test_energetic_mean_survives_extreme_levels():
    """10^(L/10) overflows float64 above ≈ 3083 dB; the mean must not."""
    np.testing.assert_allclose(leq([4000.0, 4000.0]), 4000.0)


@pytest.mark.parametrize(
    ("levels", "durations", "message"),
    [
        ([], None, "no levels"),
        ([60.0], [0.0], "positive"),
        ([60.0, 61.0], [1.0, -1.0], "positive"),
        ([math.nan], None, "finite"),
        ([60.0], [], "0 durations for 1 levels"),
    ],
)
def test_energetic_mean_rejects_bad_input(levels, durations, message):
    with pytest.raises(ValueError, match=message):
        leq(levels, durations)


def test_energy_and_level_from_energy_round_trip():
    """Energy of 60 dB for 2 s is 2·10^6; 70 dB for 1 s is 10^7; together 1.2·10^7 over 3 s:
    10·log10(4·10^6) = 66.020600 dB."""
    e = energy([60.0, 70.0], [2.0, 1.0])
    np.testing.assert_allclose(e, [2e6, 1e7])
    np.testing.assert_allclose(level_from_energy(float(e.sum()), 3.0), 66.020599913, atol=1e-9)


def test_level_from_energy_rejects_zero_seconds():
    with pytest.raises(ValueError, match="positive"):
        level_from_energy(1e6, 0.0)


def test_exceedance_levels_one_to_ten():
    """Levels 1..10 dB, 1 s each; cumulative weight fractions 0.1, 0.2, ..., 1.0.
    L10 = 90th percentile: the first level whose fraction reaches 0.9 is 9.
    L50 = 50th percentile: fraction 0.5 is reached at 5. L90 = 10th percentile: 0.1 at 1."""
    levels = np.arange(1.0, 11.0)
    assert exceedance_levels(levels, np.ones(10)) == (9.0, 5.0, 1.0)
    shuffled = levels[[3, 9, 0, 7, 1, 5, 2, 8, 4, 6]]
    assert exceedance_levels(shuffled, np.ones(10)) == (9.0, 5.0, 1.0)


def test_exceedance_levels_weight_by_time():
    """50 dB for 1 s, 60 dB for 8 s, 70 dB for 1 s: fractions 0.1, 0.9, 1.0.
    L10 needs 0.9: reached at 60 dB. L50: 60. L90 needs 0.1: reached at 50 dB.
    With 70 dB lasting 2 s instead: fractions 1/11, 9/11 ≈ 0.818, 1.0 -> L10 = 70 dB,
    L90 needs 0.1 > 1/11 -> 60 dB."""
    assert exceedance_levels([70.0, 50.0, 60.0], [1.0, 1.0, 8.0]) == (60.0, 60.0, 50.0)
    assert exceedance_levels([70.0, 50.0, 60.0], [2.0, 1.0, 8.0]) == (70.0, 60.0, 60.0)


def test_exceedance_levels_custom_percents():
    """L5 of 1..20 dB (1 s each): the 95th percentile, fraction 0.95 reached at 19."""
    assert exceedance_levels(np.arange(1.0, 21.0), np.ones(20), percents=(5,)) == (19.0,)


@pytest.mark.parametrize("percents", [(), (101,), (-1,)])
def test_exceedance_levels_rejects_bad_percents(percents):
    with pytest.raises(ValueError, match="percents"):
        exceedance_levels([1.0, 2.0], [1.0, 1.0], percents)


def test_exceedance_levels_by_group_hand_computed():
    """Group 0 is 1..10 dB for 1 s each (L10, L50, L90 = 9, 5, 1); group 1 is 40 dB for 3 s
    and 45 dB for 1 s (fractions 0.75, 1.0: L10 = 45, L50 = L90 = 40)."""
    levels = [*range(1, 11), 40.0, 45.0]
    weights = [1.0] * 10 + [3.0, 1.0]
    result = exceedance_levels_by_group(levels, weights, [0, 10])
    np.testing.assert_array_equal(result, [[9.0, 5.0, 1.0], [45.0, 40.0, 40.0]])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(0, 20), st.integers(1, 5000)),  # (level in 0.5 dB, ms)
            min_size=1,
            max_size=30,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_exceedance_levels_by_group_equals_exceedance_levels(groups):
    """With integer weights the grouped version is exactly the per-group numpy percentile."""
    levels, weights, starts = [], [], []
    for group in groups:
        starts.append(len(levels))
        for level, ms in sorted(group):
            levels.append(level / 2)
            weights.append(ms)
    result = exceedance_levels_by_group(levels, weights, starts)
    bounds = [*starts, len(levels)]
    for g in range(len(groups)):
        part = slice(bounds[g], bounds[g + 1])
        expected = exceedance_levels(levels[part], weights[part])
        assert tuple(result[g]) == expected


def test_energetic_sum_of_two_equal_levels_is_3_01_db_more():
    """10·log10(2·10^6) = 60 + 10·log10(2) = 63.0103 dB."""
    np.testing.assert_allclose(energetic_sum([60.0, 60.0]), 63.010300, atol=1e-6)


def test_energetic_sum_of_60_and_70_db():
    """10·log10(10^6 + 10^7) = 70 + 10·log10(1.1) = 70.4139 dB."""
    np.testing.assert_allclose(energetic_sum([60.0, 70.0]), 70.413927, atol=1e-6)


def test_energetic_sum_survives_extreme_levels():
    np.testing.assert_allclose(energetic_sum([4000.0, 4000.0]), 4003.0103, atol=1e-4)


def test_leq_along_an_axis_is_the_energetic_mean_of_each_column():
    """Columns (60, 70) and (70, 70): 67.4036 and 70.0 dB; NaN stays NaN."""
    stack = np.array([[60.0, 70.0, np.nan], [70.0, 70.0, 50.0]])
    result = leq_along(stack, axis=0)
    np.testing.assert_allclose(result[:2], [67.403627, 70.0], atol=1e-6)
    assert np.isnan(result[2])


def test_leq_along_refuses_infinite_levels():
    with pytest.raises(ValueError, match="finite"):
        leq_along([[np.inf, 60.0]], axis=1)


@pytest.mark.parametrize(
    ("level", "rounded"), [(67.403627, 67.4), (59.994999, 59.99), (59.995001, 60.0), (-0.004, -0.0)]
)
def test_round_db_keeps_hundredths(level, rounded):
    assert round_db(level) == rounded
    assert round_db_or_none(level) == rounded


def test_round_db_or_none_passes_none():
    assert round_db_or_none(None) is None
