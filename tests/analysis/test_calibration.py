"""Known-answer tests of noiselab.analysis.calibration: deviations, offsets left, drifts between
consecutive calibrations and the spans they make calibration uncertain (|drift| > 0.5 dB)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiselab.analysis.calibration import (
    DRIFT_TOLERANCE_DB,
    DriftSpan,
    deviations,
    drifts,
    exceeds_tolerance,
    offsets_left,
    uncertain_spans,
)

NAN = math.nan
DAY = 86_400.0
T0 = 1_793_577_600.0  # 2026-11-02T00:00:00Z


def test_deviation_is_the_level_read_minus_the_reference() -> None:
    """94.6 - 94.0 = +0.6 dB; 113.7 - 114.0 = -0.3 dB."""
    np.testing.assert_allclose(deviations([94.0, 114.0], [94.6, 113.7]), [0.6, -0.3], atol=1e-12)


def test_offset_left_is_after_minus_reference_or_the_deviation_without_an_adjustment() -> None:
    """Adjusted to 94.1 on 94.0: +0.1 dB left; a tone check reading 94.8 (nothing adjusted)
    leaves its deviation, +0.8 dB."""
    np.testing.assert_allclose(
        offsets_left([94.0, 94.0], [94.6, 94.8], [94.1, NAN]), [0.1, 0.8], atol=1e-12
    )


def test_drift_is_the_next_deviation_minus_the_offset_left() -> None:
    """Field calibration 94.6 → adjusted 94.0 (o₁ = 0.0); tone check 94.8 (d₂ = 0.8, o₂ = 0.8);
    tone check 94.9 (d₃ = 0.9): Δ₁ = 0.8 - 0.0 = +0.8 dB, Δ₂ = 0.9 - 0.8 = +0.1 dB."""
    found = drifts([94.0, 94.0, 94.0], [94.6, 94.8, 94.9], [94.0, NAN, NAN])
    np.testing.assert_array_equal(found, [0.8, 0.1])


def test_drift_uses_each_calibrations_own_reference() -> None:
    """A 94 dB check then a 114 dB calibrator: d₁ = 94.2 - 94 = 0.2 (o₁ = 0.2, nothing
    adjusted); d₂ = 113.6 - 114 = -0.4: Δ₁ = -0.4 - 0.2 = -0.6 dB."""
    np.testing.assert_array_equal(drifts([94.0, 114.0], [94.2, 113.6], [NAN, NAN]), [-0.6])


@pytest.mark.parametrize(
    ("drift", "uncertain"),
    [
        pytest.param(0.5, False, id="exactly 0.5 dB is within tolerance"),
        pytest.param(-0.5, False, id="exactly -0.5 dB is within tolerance"),
        pytest.param(0.51, True, id="0.51 dB is not"),
        pytest.param(-0.51, True, id="-0.51 dB is not"),
        pytest.param(0.0, False, id="no drift"),
        pytest.param(NAN, False, id="NaN never"),
    ],
)
def test_the_tolerance_is_half_a_decibel_exclusive(drift: float, uncertain: bool) -> None:
    assert DRIFT_TOLERANCE_DB == 0.5
    assert exceeds_tolerance(drift) is uncertain


def test_floating_point_noise_does_not_decide_at_the_edge() -> None:
    """A check reads 92.52 dB on a 94.0 dB calibrator (d₁ = -1.48), the next 93.12 dB on one
    whose certificate says 94.1 dB (d₂ = -0.98): Δ₁ = -0.98 + 1.48 = +0.50 dB, which binary
    floating point makes 0.5000000000000142. At the 0.01 dB resolution it is 0.50 dB: not
    uncertain."""
    assert (93.12 - 94.1) - (92.52 - 94.0) > 0.5  # the noise this guards against
    found = drifts([94.0, 94.1], [92.52, 93.12], [NAN, NAN])
    assert found.tolist() == [0.5]
    assert uncertain_spans([T0, T0 + DAY], [94.0, 94.1], [92.52, 93.12], [NAN, NAN]) == []


def test_uncertain_spans_are_the_intervals_between_drifted_calibrations() -> None:
    """Four calibrations a day apart, all on 94.0 dB:
    1 field 94.6 → 94.0 (o = 0.0); 2 tone 94.51 (d = 0.51: Δ₁ = +0.51, uncertain);
    3 tone 95.01 (d = 1.01: Δ₂ = 1.01 - 0.51 = +0.50, not); 4 field 94.2 (d = 0.2:
    Δ₃ = 0.2 - 1.01 = -0.81, uncertain). Spans: [day 0, day 1) and [day 2, day 3)."""
    ts = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
    spans = uncertain_spans(ts, [94.0] * 4, [94.6, 94.51, 95.01, 94.2], [94.0, NAN, NAN, 94.0])
    assert spans == [
        DriftSpan(T0, T0 + DAY, 0, 0.51),
        DriftSpan(T0 + 2 * DAY, T0 + 3 * DAY, 2, -0.81),
    ]


def test_negative_control_without_drift_nothing_is_uncertain() -> None:
    """The same four dates with every check reading 94.0: drift 0 everywhere, no span."""
    ts = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]
    assert uncertain_spans(ts, [94.0] * 4, [94.0] * 4, [NAN] * 4) == []


def test_two_calibrations_at_one_instant_enclose_no_data() -> None:
    assert uncertain_spans([T0, T0], [94.0, 94.0], [94.0, 95.0], [NAN, NAN]) == []


def test_fewer_than_two_calibrations_have_no_drift() -> None:
    assert drifts([94.0], [94.3], [NAN]).size == 0
    assert uncertain_spans([T0], [94.0], [94.3], [NAN]) == []
    assert uncertain_spans([], [], [], []) == []


@pytest.mark.parametrize(
    ("ts", "reference", "before", "after", "message"),
    [
        ([T0 + 1, T0], [94.0, 94.0], [94.0, 94.0], [NAN, NAN], "time order"),
        ([T0], [94.0, 94.0], [94.0, 94.0], [NAN, NAN], "ts: needs"),
        ([T0, T0 + 1], [94.0], [94.0, 94.0], [NAN, NAN], "equal lengths"),
        ([T0, T0 + 1], [94.0, 94.0], [94.0, 94.0], [NAN], "after_db"),
    ],
)
def test_mismatched_series_raise_value_errors(
    ts: list[float], reference: list[float], before: list[float], after: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        uncertain_spans(ts, reference, before, after)
