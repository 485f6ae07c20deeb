"""Known-answer and property tests of noiselab.analysis.decibels: the energetic mean (leq),
sum and energy of levels, and the 0.01 dB rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.decibels import (
    CHUNK,
    energetic_sum,
    energy,
    leq,
    leq_along,
    level_from_energy,
    round_db,
    round_db_or_none,
    to_energy,
    to_level,
)

levels_st = st.lists(st.floats(0.0, 160.0), min_size=1, max_size=60)


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
    = 62.787536 dB; the same as ten 1-s readings (nine of 60 dB, one of 70 dB). 60 dB for 1 s
    and 70 dB for 9 s: 10·log10(9.1·10^6) = 69.590414 dB."""
    weighted = leq([60.0, 70.0], [9.0, 1.0])
    np.testing.assert_allclose(weighted, 60 + 10 * math.log10(1.9), atol=1e-9)
    np.testing.assert_allclose(weighted, 62.787536, atol=1e-6)
    np.testing.assert_allclose(weighted, leq([60.0] * 9 + [70.0]), atol=1e-9)
    np.testing.assert_allclose(leq([60.0, 70.0], [1.0, 9.0]), 69.590414, atol=1e-6)


def test_energetic_mean_of_equal_levels_is_that_level():
    np.testing.assert_allclose(leq([55.5] * 7, [0.5, 1, 2, 3, 4, 5, 3600]), 55.5)


def test_energetic_mean_survives_extreme_levels():
    """10^(L/10) overflows float64 above ≈ 3083 dB; the mean must not."""
    np.testing.assert_allclose(leq([4000.0, 4000.0]), 4000.0)


def test_leq_across_many_blocks():
    """Longer than several blocks: alternating 60/70 dB is 67.403627 dB whatever the length,
    and 70 dB for 3 s per 60 dB for 1 s is 10·log10((10^6 + 3·10^7) / 4) = 68.893017 dB."""
    n = 5 * CHUNK + 123
    alternating = np.where(np.arange(2 * n) % 2 == 0, 60.0, 70.0)
    np.testing.assert_allclose(leq(alternating), 67.403627, atol=1e-6)
    durations = np.where(alternating == 70.0, 3.0, 1.0)
    np.testing.assert_allclose(leq(alternating, durations), 68.893017, atol=1e-6)


@pytest.mark.parametrize(
    ("levels", "durations", "message"),
    [
        ([], None, "no levels"),
        ([60.0], [0.0], "positive"),
        ([60.0, 61.0], [1.0, -1.0], "positive"),
        ([60.0], [math.nan], "positive"),
        ([math.nan], None, "finite"),
        ([math.inf], None, "finite"),
        ([60.0, -math.inf], None, "finite"),
        ([60.0], [], "0 durations for 1 levels"),
        ([60.0], [1.0, 2.0], "2 durations for 1 levels"),
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


def test_to_energy_and_to_level():
    """10^(60/10) = 10^6, 10^(63.0103/10) = 2·10^6; 10·log10(10^7) = 70, a scalar stays one."""
    np.testing.assert_allclose(to_energy([60.0, 10 * math.log10(2e6)]), [1e6, 2e6])
    level = to_level(1e7)
    assert isinstance(level, float)
    np.testing.assert_allclose(level, 70.0)
    np.testing.assert_allclose(to_level(np.array([1e6, 1e4])), [60.0, 40.0])


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_to_level_rejects_non_positive_energy(bad):
    with pytest.raises(ValueError, match="positive"):
        to_level(bad)


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


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 160.0), st.lists(st.floats(0.01, 3600.0), min_size=1, max_size=30))
def test_leq_of_a_constant_is_that_constant(level, durations):
    np.testing.assert_allclose(leq([level] * len(durations), durations), level, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(levels_st)
def test_leq_between_min_and_max_and_above_arithmetic_mean(levels):
    value = leq(levels)
    assert min(levels) - 1e-9 <= value <= max(levels) + 1e-9
    assert value >= float(np.mean(levels)) - 1e-9


@settings(max_examples=60, deadline=None)
@given(levels_st, st.data())
def test_leq_of_parts_weighted_by_duration_gives_the_whole(levels, data):
    """Leq over T = T1 + T2 is 10·log10((T1·10^(L1/10) + T2·10^(L2/10)) / T)."""
    durations = data.draw(st.lists(st.integers(1, 600), min_size=len(levels), max_size=len(levels)))
    cut = data.draw(st.integers(0, len(levels)))
    whole = leq(levels, durations)
    parts = [(levels[:cut], durations[:cut]), (levels[cut:], durations[cut:])]
    energy = sum(sum(d) * 10 ** (leq(lv, d) / 10) for lv, d in parts if lv)
    np.testing.assert_allclose(whole, 10 * math.log10(energy / sum(durations)), atol=1e-9)
