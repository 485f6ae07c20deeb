"""Known-answer tests of noiselab.analysis.cut_pieces: the pieces of the hours a range edge
cuts, which of them are left unread, the remainder found by subtraction, and rows kept within
their room; and of ``range_state`` over many overlapping spans."""

from __future__ import annotations

import numpy as np
import pytest

from noiselab.analysis.corrections import RangeCorrection, range_state
from noiselab.analysis.cut_pieces import MIN_SHARE, cut_pieces, rows_within

H = 1_774_785_600.0  # 2026-03-29T12:00:00Z, a whole hour
M = 60.0


def weather(start: float, end: float) -> RangeCorrection:
    return RangeCorrection(start, end, "exclude", cause="weather")


def test_an_hour_cut_once_reads_its_smaller_piece() -> None:
    """Weather 12:00-12:20: pieces 12:00-12:20 (excluded, 20 min) and 12:20-13:00 (kept,
    40 min). The kept state covers more of the hour: it is left unread."""
    pieces = cut_pieces([weather(H, H + 20 * M)], [H], 3600.0, (H, H + 3600), [True])
    assert pieces.starts.tolist() == [H, H + 20 * M]
    assert pieces.ends.tolist() == [H + 20 * M, H + 3600]
    assert pieces.unread.tolist() == [False, True]
    assert [a.tolist() for a in pieces.to_read()] == [[H], [H + 20 * M]]


def test_pieces_of_one_state_are_left_unread_together_and_offsets_are_states() -> None:
    """Weather 12:10-12:20 and 12:40-12:45, a -3 dB offset 12:50-14:00: pieces 0-10 kept,
    10-20 weather, 20-40 kept, 40-45 weather, 45-50 kept, 50-60 offset. Kept 35 min, weather
    15, offset 10: the three kept pieces are unread. The next hour is wholly offset, so not
    cut."""
    ranges = [
        weather(H + 10 * M, H + 20 * M),
        weather(H + 40 * M, H + 45 * M),
        RangeCorrection(H + 50 * M, H + 2 * 3600, "offset", -3.0),
    ]
    pieces = cut_pieces(ranges, [H], 3600.0, (H, H + 2 * 3600), [True])
    assert ((pieces.starts - H) / M).tolist() == [0, 10, 20, 40, 45, 50]
    assert pieces.unread.tolist() == [True, False, True, False, True, False]


def test_a_bucket_without_known_sums_is_read_whole_and_clipped_to_the_span() -> None:
    """The query starts at 12:30 inside the cut hour: no hourly sums apply, every piece is
    read, from 12:30."""
    pieces = cut_pieces(
        [weather(H + 40 * M, H + 50 * M)], [H], 3600.0, (H + 30 * M, H + 3600), [False]
    )
    assert ((pieces.starts - H) / M).tolist() == [30, 40, 50]
    assert not pieces.unread.any()


def test_the_remainder_is_the_hour_less_what_was_read() -> None:
    """An hour at 60 dB (3,600 s, energy 3600·10^6, LAFmax 71) with weather 12:00-12:20: the
    20 minutes read are 1,200 s at 60 dB with LAFmax 68; the 40 minutes left are 2,400 s with
    energy 2400·10^6, i.e. 60 dB, and LAFmax 71 (above everything read) from 12:20."""
    pieces = cut_pieces([weather(H, H + 20 * M)], [H], 3600.0, (H, H + 3600), [True])
    hour = (np.array([3600 * 1e6]), np.array([3600.0]), np.array([71.0]))
    read = (np.array([H]), np.array([1200 * 1e6]), np.array([1200.0]), np.array([68.0]))
    left = pieces.remainder(hour, read)
    assert left.ts.tolist() == [H + 20 * M]
    assert left.seconds.tolist() == [2400.0]
    np.testing.assert_allclose(left.levels(), [60.0], atol=1e-12)
    assert left.lafmax.tolist() == [71.0]
    assert left.room.tolist() == [2400.0]
    assert not left.unsure.any()


def test_a_remainder_too_small_to_subtract_is_marked_unsure() -> None:
    """A remainder of 0.2 s, below MIN_SHARE · 3,600 s = 0.36 s, is too small to subtract
    exactly: ``unsure``, its pieces to be read. Where the hour's LAFmax lies in what was read,
    the remainder's is unknown (NaN)."""
    assert MIN_SHARE * 3600 > 0.2
    pieces = cut_pieces([weather(H, H + 20 * M)], [H], 3600.0, (H, H + 3600), [True])
    hour = (np.array([3600 * 1e6]), np.array([3600.0]), np.array([71.0]))
    read = (np.array([H]), np.array([3599.8 * 1e6]), np.array([3599.8]), np.array([71.0]))
    left = pieces.remainder(hour, read)
    assert left.ts.size == 0
    assert left.unsure.tolist() == [True]
    assert [a.tolist() for a in pieces.to_read(left.unsure)] == [[H + 20 * M], [H + 3600]]
    fine = (np.array([H]), np.array([1200 * 1e6]), np.array([1200.0]), np.array([71.0]))
    assert np.isnan(pieces.remainder(hour, fine).lafmax).all()


def test_rows_longer_than_their_room_are_split_equally() -> None:
    """90 s measured in a 60-s piece (overlapping readings): two rows of 45 s; 30 s stays
    one row."""
    row, seconds = rows_within(
        np.array([H, H + 60]), np.array([90.0, 30.0]), np.array([60.0, 60.0])
    )
    assert row.tolist() == [0, 0, 1]
    assert seconds.tolist() == [45.0, 45.0, 30.0]


def test_range_state_over_many_overlapping_spans_matches_span_by_span() -> None:
    """Seeded spans of every cause, overlapping, against testing each span in turn: the
    first cause of correction, annotation, weather wins; offsets add."""
    rng = np.random.default_rng(3)
    causes = ("weather", "annotation", "correction")
    ranges = [
        RangeCorrection(float(s), float(s + d), "exclude", cause=causes[k])
        for s, d, k in zip(
            rng.uniform(0, 1e5, 300),
            rng.uniform(60, 5000, 300),
            rng.integers(0, 3, 300),
            strict=True,
        )
    ] + [RangeCorrection(2e4, 6e4, "offset", 1.5), RangeCorrection(5e4, 7e4, "offset", -0.5)]
    ts = np.sort(rng.uniform(-100, 1.1e5, 2000))
    cause, offset = range_state(ts, ranges)
    order = ("correction", "annotation", "weather")
    expected = np.full(ts.size, 3)
    expected_offset = np.zeros(ts.size)
    for c in ranges:
        inside = (ts >= c.start) & (ts < c.end)
        if c.kind == "exclude":
            expected[inside] = np.minimum(expected[inside], order.index(c.cause))
        else:
            expected_offset[inside] += c.offset_db
    assert cause.tolist() == expected.tolist()
    assert offset.tolist() == pytest.approx(expected_offset.tolist())
