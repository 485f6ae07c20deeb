"""Known-answer and property tests of leq, to_energy, to_level and percentile_level."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.decibels import CHUNK, leq, to_energy, to_level
from noiselab.analysis.levels import percentile_level

levels_st = st.lists(st.floats(0.0, 160.0), min_size=1, max_size=60)


def test_leq_of_60_and_70_db_equal_times():
    """10·log10((10^6 + 10^7) / 2) = 10·log10(5.5·10^6) = 60 + 7.4036 = 67.40 dB, not 65."""
    np.testing.assert_allclose(leq([60.0, 70.0]), 67.403627, atol=1e-6)


def test_leq_python_acoustics_worked_case():
    """python-acoustics' test suite: Leq(80, 80.3, 80.6, 80.4, 79.7, 76.9) = 79.806989166 dB."""
    np.testing.assert_allclose(leq([80.0, 80.3, 80.6, 80.4, 79.7, 76.9]), 79.806989166, atol=1e-9)


def test_leq_weights_by_duration():
    """60 dB for 9 s, 70 dB for 1 s: 10·log10((9·10^6 + 10^7) / 10) = 10·log10(1.9·10^6)
    = 62.787536 dB; 60 dB for 1 s and 70 dB for 9 s: 10·log10(9.1·10^6) = 69.590414 dB."""
    np.testing.assert_allclose(leq([60.0, 70.0], [9.0, 1.0]), 62.787536, atol=1e-6)
    np.testing.assert_allclose(leq([60.0, 70.0], [1.0, 9.0]), 69.590414, atol=1e-6)


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
        ([math.inf], None, "finite"),
        ([60.0, -math.inf], None, "finite"),
        ([60.0], [math.nan], "positive"),
        ([60.0], [1.0, 2.0], "2 durations for 1 levels"),
    ],
)
def test_leq_rejects_bad_input(levels, durations, message):
    with pytest.raises(ValueError, match=message):
        leq(levels, durations)


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


def test_percentile_level_one_to_ten():
    """1..10 dB for 1 s each: cumulative time fractions 0.1 ... 1.0. L10 needs 90 % below:
    reached at 9. L50 needs 50 %: 5. L90 needs 10 %: 1. L0 is the maximum, L100 the minimum."""
    levels = [7.0, 2.0, 9.0, 1.0, 10.0, 4.0, 3.0, 8.0, 6.0, 5.0]
    assert [percentile_level(levels, n) for n in (0, 10, 50, 90, 100)] == [10, 9, 5, 1, 1]


def test_percentile_level_nearest_rank_no_interpolation():
    """40, 50, 60, 70 dB: fractions 0.25, 0.5, 0.75, 1. L50 needs 0.5: 50 dB (linear
    interpolation would say 55). L25 needs 0.75: 60 dB. L10 needs 0.9: 70 dB."""
    levels = [70.0, 40.0, 60.0, 50.0]
    assert percentile_level(levels, 50) == 50.0
    assert percentile_level(levels, 25) == 60.0
    assert percentile_level(levels, 10) == 70.0


def test_percentile_level_time_weighted():
    """50 dB for 1 s, 60 dB for 8 s, 70 dB for 1 s: fractions 0.1, 0.9, 1.0. L10 needs 0.9:
    60 dB; L90 needs 0.1: 50 dB. With 70 dB lasting 3 s: fractions 1/12, 9/12, 1 so L10 needs
    0.9 > 0.75: 70 dB and L90 needs 0.1 > 1/12: 60 dB. Ten 1-s readings agree."""
    assert percentile_level([70.0, 50.0, 60.0], 10, [1.0, 1.0, 8.0]) == 60.0
    assert percentile_level([70.0, 50.0, 60.0], 90, [1.0, 1.0, 8.0]) == 50.0
    assert percentile_level([70.0, 50.0, 60.0], 10, [3.0, 1.0, 8.0]) == 70.0
    assert percentile_level([70.0, 50.0, 60.0], 90, [3.0, 1.0, 8.0]) == 60.0
    expanded = [50.0] + [60.0] * 8 + [70.0]
    assert percentile_level(expanded, 90) == percentile_level([50, 60, 70], 90, [1, 8, 1])


@pytest.mark.parametrize("n", [-1, 100.5])
def test_percentile_level_rejects_bad_percent(n):
    with pytest.raises(ValueError, match="percents"):
        percentile_level([60.0, 61.0], n)


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


@settings(max_examples=60, deadline=None)
@given(levels_st, st.data())
def test_exceedance_levels_are_ordered(levels, data):
    durations = data.draw(st.lists(st.integers(1, 60), min_size=len(levels), max_size=len(levels)))
    l10, l50, l90 = (percentile_level(levels, n, durations) for n in (10, 50, 90))
    assert l90 <= l50 <= l10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 150.0), min_size=1, max_size=40), st.data())
def test_adding_10_db_adds_10_db(levels, data):
    durations = data.draw(st.lists(st.integers(1, 60), min_size=len(levels), max_size=len(levels)))
    louder = [x + 10.0 for x in levels]
    np.testing.assert_allclose(leq(louder, durations), leq(levels, durations) + 10, atol=1e-9)
    for n in (10, 50, 90):
        shifted = percentile_level(louder, n, durations)
        np.testing.assert_allclose(shifted, percentile_level(levels, n, durations) + 10, atol=1e-9)
