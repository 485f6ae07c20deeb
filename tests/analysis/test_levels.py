"""Known-answer and property tests of noiselab.analysis.levels: the exceedance levels (L10,
L50, L90 and any other percent), time-weighted, per group and one at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.decibels import leq
from noiselab.analysis.levels import (
    bin_levels,
    exceedance_levels,
    exceedance_levels_by_group,
    exceedance_levels_from_histograms,
    level_bins,
    percentile_level,
)

levels_st = st.lists(st.floats(0.0, 160.0), min_size=1, max_size=60)


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


def test_level_bins_round_half_to_even():
    """Bins of 0.1 dB, ``round(L·10)`` half to even: 50.25 dB -> 502.5 -> 502, 60.75 dB ->
    607.5 -> 608, 40.04 -> 400, 0.0 -> 0; the bin's level is within 0.05 dB."""
    levels = [50.25, 60.75, 40.04, 0.0, 6553.5]
    np.testing.assert_array_equal(level_bins(levels), [502, 608, 400, 0, 65535])
    np.testing.assert_array_equal(bin_levels(levels), [50.2, 60.8, 40.0, 0.0, 6553.5])


def test_exceedance_levels_from_histograms_hand_computed():
    """Bins from 500 (50.0 dB). Row 0: 1 s at 50.1, 1 s at 50.2, 8 s at 50.4: fractions 0.1,
    0.2, 1.0, so L10 (0.9) = 50.4, L50 = 50.4, L90 (0.1) = 50.1. Row 1: empty, NaN. Row 2:
    3 s at 50.0 and 1 s at 50.2: 0.75 then 1.0: L10 = 50.2, L50 = L90 = 50.0. L0 is the
    highest non-empty bin, L100 the lowest."""
    table = [[0, 1, 1, 0, 8], [0, 0, 0, 0, 0], [3, 0, 1, 0, 0]]
    result = exceedance_levels_from_histograms(table, 500)
    np.testing.assert_array_equal(result, [[50.4, 50.4, 50.1], [np.nan] * 3, [50.2, 50.0, 50.0]])
    extremes = exceedance_levels_from_histograms(table, 500, percents=(0, 100))
    np.testing.assert_array_equal(extremes, [[50.4, 50.1], [np.nan] * 2, [50.2, 50.0]])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(0, 4), min_size=1, max_size=12).map(tuple), min_size=1, max_size=5
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
    st.sampled_from([1.0, 0.1, 0.3, 1 / 3, 2.5]),
    st.lists(st.sampled_from([0, 1, 5, 10, 33.3, 50, 90, 95, 99.9, 100]), min_size=1, max_size=4),
)
def test_exceedance_levels_from_histograms_equals_by_group(rows, unit, percents):
    """A dense table answers exactly what ``exceedance_levels_by_group`` answers over its
    non-empty bins (same cumulative sums, same comparisons), for counts and for fractional
    weights, whatever the percents, empty rows giving NaN."""
    counts = np.array(rows, dtype=np.int64)
    table = counts if unit == 1.0 else counts * unit
    got = exceedance_levels_from_histograms(table, 430, percents)
    flat = np.asarray(table, dtype=np.float64).reshape(-1)
    cell = np.flatnonzero(flat > 0)
    want = np.full((counts.shape[0], len(percents)), np.nan)
    if cell.size:
        group = cell // counts.shape[1]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        levels = (cell % counts.shape[1] + 430) / 10
        want[group[starts]] = exceedance_levels_by_group(levels, flat[cell], starts, percents)
    np.testing.assert_array_equal(got, want)


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
