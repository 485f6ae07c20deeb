"""Known-answer tests of noiselab.analysis.corrections: staff corrections (an excluded range, a
dB offset) applied to a copy of per-minute rows, and the levels of the intervals they make."""

from __future__ import annotations

import numpy as np
import pytest

from noiselab.analysis.corrections import (
    EXCLUSION_ORDER,
    RangeCorrection,
    apply_corrections,
    correction_state,
    cut_points,
    interval_levels,
    merge_rows,
    partial_buckets,
)

H = 1_774_785_600.0  # 2026-03-29T12:00:00Z, a whole hour
MINUTES = H + 60.0 * np.arange(60)
FLAT = np.full(60, 60.0)
SECONDS = np.full(60, 60.0)


def hour_level(rows) -> tuple[float, float]:
    levels, seconds = interval_levels(rows.ts, rows.laeq, rows.duration, [H], 3600.0)
    return float(levels[0]), float(seconds[0])


def test_an_offset_on_half_an_hour_shifts_the_hour_by_its_energetic_share() -> None:
    """60 minutes at 60 dB, the first 30 with -3 dB: 10·log10(0.5·10^5.7 + 0.5·10^6)
    = 60 + 10·log10(0.5·(10^-0.3 + 1)) = 60 + 10·log10(0.750594) = 60 - 1.24594
    = 58.75406 dB, over the full 3,600 s."""
    offset = RangeCorrection(H, H + 1800, "offset", -3.0)
    rows = apply_corrections(MINUTES, FLAT, SECONDS, [offset])
    level, seconds = hour_level(rows)
    np.testing.assert_allclose(level, 58.75406, atol=1e-5)
    assert seconds == 3600.0
    assert rows.excluded_s == 0.0
    np.testing.assert_array_equal(rows.laeq[:30], 57.0)
    np.testing.assert_array_equal(rows.laeq[30:], 60.0)


def test_an_offset_on_the_whole_hour_shifts_it_by_exactly_the_offset() -> None:
    """Every minute -3 dB: the energetic mean moves by -3 dB exactly, whatever the levels."""
    levels = 55.0 + 10.0 * np.sin(np.arange(60))
    before, _ = interval_levels(MINUTES, levels, SECONDS, [H], 3600.0)
    rows = apply_corrections(MINUTES, levels, SECONDS, [RangeCorrection(H, H + 3600, "offset", -3)])
    np.testing.assert_allclose(hour_level(rows)[0], before[0] - 3.0, atol=1e-12)


def test_excluding_half_an_hour_leaves_the_level_of_the_rest_and_halves_its_coverage() -> None:
    """First 30 minutes at 80 dB excluded, the rest at 60 dB: 60 dB over 1,800 s."""
    levels = np.where(np.arange(60) < 30, 80.0, 60.0)
    rows = apply_corrections(MINUTES, levels, SECONDS, [RangeCorrection(H, H + 1800, "exclude")])
    level, seconds = hour_level(rows)
    np.testing.assert_allclose(level, 60.0, atol=1e-12)
    assert seconds == 1800.0
    assert rows.excluded_s == 1800.0
    assert rows.ts[0] == H + 1800


def test_an_exclusion_wins_over_an_offset_and_offsets_add() -> None:
    """Minute 0 excluded and offset: gone. Minutes 1-2 under +2 and +3 dB: +5 dB. Minute 3
    under +2 dB only; the rest as measured. LAFmax moves with the level."""
    corrections = [
        RangeCorrection(H, H + 60, "exclude"),
        RangeCorrection(H, H + 240, "offset", 2.0),
        RangeCorrection(H + 60, H + 180, "offset", 3.0),
    ]
    rows = apply_corrections(MINUTES[:5], FLAT[:5], SECONDS[:5], corrections, FLAT[:5] + 10)
    np.testing.assert_array_equal(rows.ts, MINUTES[1:5])
    np.testing.assert_array_equal(rows.laeq, [65.0, 65.0, 62.0, 60.0])
    assert rows.lafmax is not None
    np.testing.assert_array_equal(rows.lafmax, [75.0, 75.0, 72.0, 70.0])
    excluded, offset = correction_state(MINUTES[:5], corrections)
    np.testing.assert_array_equal(excluded, [True, False, False, False, False])
    np.testing.assert_array_equal(offset, [2.0, 5.0, 5.0, 2.0, 0.0])


def test_a_range_is_half_open() -> None:
    """A row starting at the range's end is outside it; one starting at its start inside."""
    rows = apply_corrections(
        [H - 60, H, H + 60], [60, 60, 60], [60, 60, 60], [RangeCorrection(H, H + 60, "offset", 1.0)]
    )
    np.testing.assert_array_equal(rows.laeq, [60.0, 61.0, 60.0])


def test_no_corrections_leave_the_rows_as_they_are() -> None:
    rows = apply_corrections(MINUTES, FLAT, SECONDS, [])
    np.testing.assert_array_equal(rows.ts, MINUTES)
    np.testing.assert_array_equal(rows.laeq, FLAT)
    assert rows.lafmax is None


def test_hours_cut_by_an_edge_need_finer_rows() -> None:
    """[12:30, 14:00) cuts the hour 12:00 only; [15:00, 15:01) cuts 15:00; an edge on an hour
    boundary cuts nothing; edges outside [start, end) are not counted."""
    corrections = [
        RangeCorrection(H + 1800, H + 2 * 3600, "exclude"),
        RangeCorrection(H + 3 * 3600, H + 3 * 3600 + 60, "offset", 1.0),
        RangeCorrection(H - 7200 + 60, H - 3600 + 60, "offset", 1.0),
    ]
    cut = partial_buckets(corrections, H, H + 24 * 3600, 3600.0)
    np.testing.assert_array_equal(cut, [H, H + 3 * 3600])
    np.testing.assert_array_equal(
        cut_points(corrections, H, H + 24 * 3600),
        [H + 1800, H + 2 * 3600, H + 3 * 3600, H + 3 * 3600 + 60],
    )


def test_interval_levels_of_several_intervals() -> None:
    """Rows in the second of two hours only; an hour without rows is NaN with 0 s."""
    levels, seconds = interval_levels(MINUTES + 3600, FLAT, SECONDS, [H, H + 3600], 3600.0)
    assert np.isnan(levels[0])
    np.testing.assert_array_equal(seconds, [0.0, 3600.0])
    np.testing.assert_allclose(levels[1], 60.0)


def test_merging_rows_of_one_hour_weights_them_by_their_seconds() -> None:
    """A quarter of an hour at 60 dB and three quarters at 70 dB in the first band:
    10·log10(0.25·10^6 + 0.75·10^7) = 10·log10(7.75·10^6) = 68.8930 dB; 50 dB in both parts of
    the second band: 50 dB. Equal halves at 60 and 70 dB: 10·log10((10^6 + 10^7)/2)
    = 67.4036 dB. A row of another hour stays as it is."""
    t, merged, seconds = merge_rows(
        [H, H, H + 3600], [[60.0, 50.0], [70.0, 50.0], [40.0, 40.0]], [900.0, 2700.0, 60.0]
    )
    np.testing.assert_array_equal(t, [H, H + 3600])
    np.testing.assert_array_equal(seconds, [3600.0, 60.0])
    np.testing.assert_allclose(merged[0], [68.893017, 50.0], atol=1e-6)
    np.testing.assert_allclose(merged[1], [40.0, 40.0])
    _, halves, _ = merge_rows([H, H], [[60.0], [70.0]], [1800.0, 1800.0])
    np.testing.assert_allclose(halves[0, 0], 67.403627, atol=1e-6)


@pytest.mark.parametrize(
    ("start", "end", "kind", "offset", "message"),
    [
        (H, H, "exclude", 0.0, "start < end"),
        (H, H + 60, "shift", 0.0, "kind"),
        (H, H + 60, "offset", float("nan"), "offset_db"),
    ],
)
def test_bad_corrections_are_refused(
    start: float, end: float, kind: str, offset: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RangeCorrection(start, end, kind, offset)  # type: ignore[arg-type]


def test_many_overlapping_exclusions_of_several_causes_match_a_range_by_range_reading() -> None:
    """150 random exclusions (overlapping, touching, of three causes) over a day of minutes:
    each minute is excluded exactly when some range covers its start, with the first cause of
    EXCLUSION_ORDER among them, as reading the ranges one by one says."""
    rng = np.random.default_rng(5)
    ts = H + 60.0 * np.arange(1440)
    starts = H + 60.0 * rng.integers(-10, 1440, 150)
    ranges = [
        RangeCorrection(float(s), float(s + 60.0 * rng.integers(1, 30)), "exclude", cause=c)
        for s, c in zip(starts, rng.choice(list(EXCLUSION_ORDER), 150), strict=True)
    ]
    expected = np.full(ts.size, len(EXCLUSION_ORDER))
    for r in ranges:
        inside = (ts >= r.start) & (ts < r.end)
        expected[inside] = np.minimum(expected[inside], EXCLUSION_ORDER.index(r.cause))
    rows = apply_corrections(ts, np.full(ts.size, 60.0), np.full(ts.size, 60.0), ranges)
    kept = expected == len(EXCLUSION_ORDER)
    np.testing.assert_array_equal(rows.ts, ts[kept])
    np.testing.assert_array_equal(rows.excluded.ts, ts[~kept])
    np.testing.assert_array_equal(rows.excluded.cause, expected[~kept])
    assert 0 < kept.sum() < ts.size
