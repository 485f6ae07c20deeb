"""Known-answer tests of noiselab.analysis.events: pass-by detection, SEL, 10-dB-down, N-above."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.events import (
    detect_events,
    number_above,
    running_background,
    time_above,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a multiple of the 60-s background step


def _series(n: int = 1200, level: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 1-s readings at a constant ``level`` from T0."""
    return T0 + np.arange(n, dtype=np.float64), np.full(n, level)


def test_rectangular_pass_by_sel_and_bounds():
    """10 s at 80 dB on a 50 dB background from t = 600 s: background L90 = 50 dB, threshold
    60 dB, one event [600, 610) s, SEL = 80 + 10·log10(10) = 90.0 dB, Leq = Lmax = 80 dB,
    10-dB-down span = the 10 s at 80 dB."""
    ts, laeq = _series()
    laeq[600:610] = 80.0
    (event,) = detect_events(ts, laeq)
    assert (event.start, event.end, event.duration_s) == (T0 + 600, T0 + 610, 10.0)
    np.testing.assert_allclose([event.sel, event.leq, event.lmax], [90.0, 80.0, 80.0], atol=1e-9)
    assert event.lmax_is_fast is False
    assert (event.background, event.threshold) == (50.0, 60.0)
    assert (event.t10_start, event.t10_end, event.duration_10db) == (T0 + 600, T0 + 610, 10.0)


def test_sel_python_acoustics_worked_case():
    """python-acoustics' SEL test: 1-s levels 80, 80.3, 80.6, 80.4, 79.7, 76.9 dB have
    SEL = 87.588501670 dB (= Leq 79.806989166 + 10·log10(6)); set in a 50 dB background they
    form one 6-s event; the peak is 80.6 dB, all six lie within 10 dB of it."""
    ts, laeq = _series()
    laeq[300:306] = [80.0, 80.3, 80.6, 80.4, 79.7, 76.9]
    (event,) = detect_events(ts, laeq)
    np.testing.assert_allclose(event.sel, 87.588501670, atol=1e-9)
    np.testing.assert_allclose(event.leq, 79.806989166, atol=1e-9)
    np.testing.assert_allclose(event.lmax, 80.6)
    assert event.duration_s == 6.0
    assert event.duration_10db == 6.0


def test_triangular_pass_by():
    """Ramp 55, 60, 65, 70, 75, 80, 75, 70, 65, 60, 55 dB (1 s each) from t = 500 s on 50 dB.
    Above the 60-dB threshold (strictly): 65..80..65, 7 s from 502 to 509 s.
    SEL = 10·log10(2·10^6.5 + 2·10^7 + 2·10^7.5 + 10^8) = 10·log10(189,570,108.5) = 82.777699 dB.
    10-dB-down (L ≥ 70 dB): 70, 75, 80, 75, 70 = 5 s, from 503 to 508 s."""
    ts, laeq = _series()
    laeq[500:511] = [55, 60, 65, 70, 75, 80, 75, 70, 65, 60, 55]
    (event,) = detect_events(ts, laeq)
    assert (event.start, event.end) == (T0 + 502, T0 + 509)
    np.testing.assert_allclose(event.sel, 82.777699, atol=1e-6)
    np.testing.assert_allclose(event.leq, 82.777699 - 10 * math.log10(7), atol=1e-6)
    assert (event.t10_start, event.t10_end, event.duration_10db) == (T0 + 503, T0 + 508, 5.0)


def test_ten_db_down_span_reaches_beyond_the_threshold_crossings():
    """Ramp 52, 56, 58, 62, 66, 62, 58, 56, 52 on 50 dB: the event is 62, 66, 62 (3 s, above
    60 dB) but L ≥ 66 - 10 = 56 dB holds for 56 .. 56: 7 s, from 501 to 508 s."""
    ts, laeq = _series()
    laeq[500:509] = [52, 56, 58, 62, 66, 62, 58, 56, 52]
    (event,) = detect_events(ts, laeq)
    assert (event.start, event.end) == (T0 + 503, T0 + 506)
    assert (event.t10_start, event.t10_end, event.duration_10db) == (T0 + 501, T0 + 508, 7.0)


def test_runs_close_together_merge_and_far_apart_do_not():
    """Bursts of 3 s at 75 dB: 2 s apart merge into one 8-s event (the two quiet seconds
    included: SEL = 10·log10(6·10^7.5 + 2·10^5)); 3 s apart stay two events."""
    ts, laeq = _series()
    laeq[300:303] = 75.0
    laeq[305:308] = 75.0
    laeq[700:703] = 75.0
    laeq[706:709] = 75.0
    events = detect_events(ts, laeq)
    assert [(e.start - T0, e.duration_s) for e in events] == [
        (300, 8.0),
        (700, 3.0),
        (706, 3.0),
    ]
    np.testing.assert_allclose(events[0].sel, 10 * math.log10(6 * 10**7.5 + 2 * 10**5))


def test_min_duration_drops_short_runs():
    """2 s above the threshold is not an event with the default 3 s; with 2 s it is."""
    ts, laeq = _series()
    laeq[400:402] = 80.0
    assert detect_events(ts, laeq) == []
    assert len(detect_events(ts, laeq, min_duration=2.0)) == 1


def test_missing_data_ends_an_event_and_blocks_merging():
    """A 10-s pass-by at 80 dB with the reading at 605 s missing: two events, 600-605 and
    606-610, not merged although only 1 s apart."""
    ts, laeq = _series()
    laeq[600:610] = 80.0
    keep = np.ones(ts.size, dtype=bool)
    keep[605] = False
    events = detect_events(ts[keep], laeq[keep])
    assert [(e.start - T0, e.end - T0) for e in events] == [(600, 605), (606, 610)]
    assert events[0].t10_end == T0 + 605  # the 10-dB-down span stops at the gap too


def test_constant_and_stationary_noise_have_no_events():
    ts, laeq = _series(3600, 62.0)
    assert detect_events(ts, laeq) == []
    rng = np.random.default_rng(7)
    assert detect_events(ts, 62.0 + rng.normal(0, 1.0, ts.size)) == []


def test_absolute_threshold_overrides_the_background():
    """With threshold 70 dB a 65-dB pass-by is no event and a 75-dB one is; the background
    (50 dB) is still reported."""
    ts, laeq = _series()
    laeq[300:310] = 65.0
    laeq[800:810] = 75.0
    (event,) = detect_events(ts, laeq, threshold=70.0)
    assert (event.start, event.threshold, event.background) == (T0 + 800, 70.0, 50.0)
    assert len(detect_events(ts, laeq)) == 2


def test_no_ten_db_down_span_when_the_peak_is_within_10_db_of_the_background():
    """A 65 dB road with a 10-s 72 dB event found by an absolute 70 dB threshold: 72 - 10 =
    62 dB lies below the 65 dB background, so the whole series would be "within 10 dB of the
    peak"; the 10-dB-down span is undefined (None), the event itself is 10 s."""
    ts, laeq = _series(4 * 3600, 65.0)
    laeq[7200:7210] = 72.0
    (event,) = detect_events(ts, laeq, threshold=70.0)
    assert event.duration_s == 10.0
    assert (event.t10_start, event.t10_end, event.duration_10db) == (None, None, None)


def test_lafmax_is_used_for_lmax_when_given():
    ts, laeq = _series()
    laeq[300:310] = 80.0
    lafmax = laeq + 3.0
    lafmax[305] = 91.5
    (event,) = detect_events(ts, laeq, lafmax=lafmax)
    assert (event.lmax, event.lmax_is_fast) == (91.5, True)
    np.testing.assert_allclose(event.sel, 90.0)  # SEL still from LAeq


def test_lafmax_may_be_missing_for_some_readings():
    """NaN marks readings without LAFmax: an event with some uses their highest LAFmax, an
    event with none falls back to the highest LAeq."""
    ts, laeq = _series()
    laeq[300:310] = 80.0
    laeq[800:810] = 75.0
    lafmax = np.full(ts.size, np.nan)
    lafmax[303] = 84.0
    first, second = detect_events(ts, laeq, lafmax=lafmax)
    assert (first.lmax, first.lmax_is_fast) == (84.0, True)
    assert (second.lmax, second.lmax_is_fast) == (75.0, False)


def test_longer_readings_weight_sel_by_duration():
    """2-s readings: five of 80 dB (10 s) on 50 dB give SEL = 80 + 10·log10(10) = 90 dB."""
    ts = T0 + np.arange(0, 2400, 2, dtype=np.float64)
    laeq = np.full(ts.size, 50.0)
    laeq[300:305] = 80.0
    (event,) = detect_events(ts, laeq, durations=np.full(ts.size, 2.0))
    np.testing.assert_allclose([event.sel, event.duration_s], [90.0, 10.0])


def test_background_follows_a_change_in_traffic():
    """50 dB for 20 min, then 60 dB: 10 min into the louder part the trailing L90 is 60 dB,
    so a 68-dB pass-by there is no event (threshold 70), while one at 72 dB is."""
    ts, laeq = _series(3600)
    laeq[1200:] = 60.0
    background = running_background(ts, laeq)
    assert background[0] == 50.0
    assert background[1900] == 60.0
    laeq[2000:2010] = 68.0
    laeq[3000:3010] = 72.0
    (event,) = detect_events(ts, laeq)
    assert (event.start, event.background, event.threshold) == (T0 + 3000, 60.0, 70.0)


def test_running_background_is_the_trailing_l90():
    """Window 600 s in 60-s steps. Readings 0..599 s are 40 dB, reading i in 600..1199 s is
    41 + 0.1·(i - 600) dB. L90 (nearest rank) of 600 one-second readings is the 60th lowest.
    The reading at 659 s (step 10) sees steps 1..10, readings 60..659 s: 540 of 40 dB and 60
    from 41.0 to 46.9 dB, so L90 = 40 dB. At 1199 s (steps 10..19, readings 600..1199 s) the
    60th lowest is 41 + 0.1·59 = 46.9 dB."""
    ts = T0 + np.arange(1200, dtype=np.float64)
    laeq = np.full(1200, 40.0)
    laeq[600:] = np.round(41.0 + 0.1 * np.arange(600), 1)
    background = running_background(ts, laeq)
    assert background[659] == 40.0
    np.testing.assert_allclose(background[1199], 46.9)


def test_a_sensor_day_is_processed_well_under_a_second():
    rng = np.random.default_rng(11)
    ts = T0 + np.arange(86_400, dtype=np.float64)
    laeq = np.round(55 + rng.normal(0, 1.5, ts.size), 1)
    for start in range(300, 86_000, 600):  # 143 pass-bys of 20 s
        laeq[start : start + 20] = 80.0
    started = time.perf_counter()
    events = detect_events(ts, laeq)
    assert time.perf_counter() - started < 1.0
    assert len(events) == 143


@settings(max_examples=40, deadline=None)
@given(
    base=st.integers(min_value=30, max_value=70),
    passes=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1150),
            st.integers(min_value=1, max_value=40),
            st.integers(min_value=0, max_value=40),
        ),
        max_size=6,
    ),
)
def test_adding_10_db_shifts_every_level_and_keeps_every_time(base, passes):
    """Whole-dB levels keep the comparisons exact: +10 dB everywhere moves SEL, Leq, Lmax,
    background and threshold by +10 dB and leaves starts, ends and 10-dB-down spans alone."""
    ts, laeq = _series(1200, float(base))
    for start, length, excess in passes:
        laeq[start : start + length] = base + excess
    before = detect_events(ts, laeq)
    after = detect_events(ts, laeq + 10.0)
    assert len(before) == len(after)
    for b, a in zip(before, after, strict=True):
        assert (a.start, a.end, a.t10_start, a.t10_end) == (b.start, b.end, b.t10_start, b.t10_end)
        shifted = [a.sel, a.leq, a.lmax, a.background, a.threshold]
        original = [b.sel, b.leq, b.lmax, b.background, b.threshold]
        np.testing.assert_allclose(shifted, np.add(original, 10.0), atol=1e-9)


def test_detect_events_validates_input():
    with pytest.raises(ValueError, match="increasing"):
        detect_events([2.0, 1.0], [50.0, 50.0])
    with pytest.raises(ValueError, match="levels for"):
        detect_events([1.0, 2.0], [50.0])
    with pytest.raises(ValueError, match="lafmax"):
        detect_events([1.0, 2.0], [50.0, 50.0], lafmax=[60.0])
    with pytest.raises(ValueError, match="lafmax"):
        detect_events([1.0, 2.0], [50.0, 50.0], lafmax=[60.0, math.inf])
    with pytest.raises(ValueError, match="finite"):
        detect_events([1.0, 2.0], [50.0, math.nan])
    assert detect_events([], []) == []


def test_number_above_counts_strict_exceedances():
    """NA65 of Lmax 64, 65, 65.1, 80 dB: 65.1 and 80 exceed 65 -> 2; N70 -> 1."""
    assert number_above([64.0, 65.0, 65.1, 80.0]) == 2
    assert number_above([64.0, 65.0, 65.1, 80.0], 70.0) == 1
    assert number_above([]) == 0


def test_time_above_sums_durations():
    """1-s levels 60, 66, 70, 64 above 65 dB: 2 s; with durations 1, 2, 3, 4 s: 5 s."""
    assert time_above([60, 66, 70, 64], 65.0) == 2.0
    assert time_above([60, 66, 70, 64], 65.0, [1, 2, 3, 4]) == 5.0
