"""Known-answer tests of noiselab.analysis.baci (insertion loss, BACI, day-block bootstrap).

Expected decibels are derived by hand in each docstring (``math`` only checks the digits);
tolerance 0.01 dB unless an identity is exact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.analysis.baci import BaciResult, baci, insertion_loss, insertion_loss_paired

TOL = 0.01
DAYS = 7
HOURS = DAYS * 24


def _const(level: float, hours: int = HOURS) -> np.ndarray:
    return np.full(hours, level)


def _diurnal_days(n_days: int) -> np.ndarray:
    """Road-traffic shape relative to daytime: day 07-19 0 dB, evening 19-22 -3, night -8."""
    hod = np.arange(24)
    shape = np.where((hod >= 7) & (hod < 19), 0.0, np.where((hod >= 19) & (hod < 22), -3.0, -8.0))
    return np.tile(shape, n_days)


def _simulate(
    rng: np.random.Generator,
    n_days: int,
    effect: float,
    *,
    common_sd: float = 1.5,
    site_sd: float = 0.7,
    hour_sd: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """T and C hourly levels for both phases: T_after is T_before's process shifted by
    ``effect`` dB, C's process is unchanged, so the true BACI effect is exactly ``effect``.
    Each day has a factor shared by both sites (traffic, weather), a factor of its own per
    site, and hourly noise."""
    out = []
    for shift in (0.0, effect):
        common = np.repeat(rng.normal(0.0, common_sd, n_days), 24)
        sites = []
        for base in (70.0 + shift, 66.0):
            own = np.repeat(rng.normal(0.0, site_sd, n_days), 24)
            hourly = rng.normal(0.0, hour_sd, n_days * 24)
            sites.append(base + _diurnal_days(n_days) + common + own + hourly)
        out += sites
    tb, cb, ta, ca = out
    return tb, cb, ta, ca


# --- insertion loss ---------------------------------------------------------------------------


def test_insertion_loss_constant_levels():
    """70 dB before, 64 dB after: IL = 70 - 64 = 6 dB (positive = quieter)."""
    np.testing.assert_allclose(insertion_loss(_const(70.0, 3), _const(64.0, 3)), 6.0, atol=TOL)


def test_insertion_loss_uses_energetic_means():
    """Before 60 and 70 dB for equal times: 10·log10((10^6 + 10^7)/2) = 67.403627 dB; after 60 dB:
    IL = 7.403627 dB (the arithmetic mean would give 5 dB)."""
    np.testing.assert_allclose(insertion_loss([60.0, 70.0], [60.0]), 7.403627, atol=TOL)


def test_insertion_loss_weights_durations():
    """Before 60 dB for 9 s and 70 dB for 1 s: 10·log10((9·10^6 + 10^7)/10) = 62.787536 dB;
    after 55 dB for 30 s and 55 dB for 60 s = 55 dB: IL = 7.787536 dB."""
    il = insertion_loss([60.0, 70.0], [55.0, 55.0], [9.0, 1.0], [30.0, 60.0])
    np.testing.assert_allclose(il, 7.787536, atol=TOL)


def test_insertion_loss_is_negative_when_louder_after():
    np.testing.assert_allclose(insertion_loss([60.0], [62.5]), -2.5, atol=TOL)


def test_insertion_loss_rejects_missing_levels():
    with pytest.raises(ValueError, match="finite"):
        insertion_loss([60.0, math.nan], [60.0])


def test_insertion_loss_paired_corrects_for_the_source():
    """Receiver 70 -> 63 dB while the unscreened reference goes 80 -> 81 dB (traffic +1 dB):
    IL = (70 - 63) - (80 - 81) = 7 + 1 = 8 dB."""
    il = insertion_loss_paired([70.0, 70.0], [63.0, 63.0], [80.0, 80.0], [81.0, 81.0])
    np.testing.assert_allclose(il, 8.0, atol=TOL)


def test_insertion_loss_paired_needs_simultaneous_reference():
    with pytest.raises(ValueError, match="2 receiver levels but 1 reference"):
        insertion_loss_paired([70.0, 70.0], [63.0], [80.0], [81.0])


# --- BACI point estimate ----------------------------------------------------------------------


def test_baci_constant_levels_known_effect_and_collapsed_interval():
    """T 70 / C 65 before, T 63 / C 65 after: effect = (63 - 65) - (70 - 65) = -7 dB; every
    bootstrap resample is the same, so the interval is [-7, -7]."""
    r = baci(_const(70.0), _const(65.0), _const(63.0), _const(65.0))
    assert isinstance(r, BaciResult)
    np.testing.assert_allclose(r.effect_db, -7.0, atol=TOL)
    np.testing.assert_allclose(r.reduction_db, 7.0, atol=TOL)
    np.testing.assert_allclose([r.ci_low, r.ci_high], [-7.0, -7.0], atol=TOL)
    np.testing.assert_allclose(
        [r.t_before, r.c_before, r.t_after, r.c_after, r.delta_before, r.delta_after],
        [70.0, 65.0, 63.0, 65.0, 5.0, -2.0],
        atol=TOL,
    )
    assert (r.hours_before, r.hours_after, r.days_before, r.days_after) == (168, 168, 7, 7)
    assert (r.n_boot, r.confidence) == (2000, 0.95)
    assert "BACI" in r.method
    assert "95 %" in r.method


def test_baci_phase_means_are_energetic():
    """T before alternates 60 and 70 dB: T_before = 10·log10((10^6 + 10^7)/2) = 67.403627 dB
    (not 65). C 65 throughout, T after 60: delta_before = 2.403627, delta_after = -5,
    effect = -5 - 2.403627 = -7.403627 dB."""
    tb = np.tile([60.0, 70.0], HOURS // 2)
    r = baci(tb, _const(65.0), _const(60.0), _const(65.0))
    np.testing.assert_allclose(r.t_before, 67.403627, atol=TOL)
    np.testing.assert_allclose(r.delta_before, 2.403627, atol=TOL)
    np.testing.assert_allclose(r.effect_db, -7.403627, atol=TOL)


def test_baci_subtracts_what_changed_at_both_sites():
    """Traffic growth raises both sites by 3 dB after; the barrier takes 6 dB off T:
    before T 70 / C 65, after T 70 + 3 - 6 = 67 / C 68: effect = (67 - 68) - (70 - 65) = -6 dB,
    although the treated site alone dropped only 3 dB."""
    r = baci(_const(70.0), _const(65.0), _const(67.0), _const(68.0))
    np.testing.assert_allclose(r.effect_db, -6.0, atol=TOL)
    np.testing.assert_allclose(r.t_before - r.t_after, 3.0, atol=TOL)


def test_baci_uses_matched_hours_only():
    """Days [0, 0, 1, 1]. Before: T [60, 70, NaN, 80], C [60, NaN, 60, 70] -> matched hours 0 and
    3: T_before = 10·log10((10^6 + 10^8)/2) = 10·log10(5.05·10^7) = 77.032914 dB (T over its own
    three hours would be 75.68 dB), C_before = 10·log10((10^6 + 10^7)/2) = 67.403627 dB,
    delta_before = 9.629287. After: T 60 x4, C [60, 60, 60, NaN] -> 3 matched hours, delta 0.
    Effect = -9.629287 dB."""
    nan = math.nan
    r = baci(
        [60.0, 70.0, nan, 80.0],
        [60.0, nan, 60.0, 70.0],
        [60.0, 60.0, 60.0, 60.0],
        [60.0, 60.0, 60.0, nan],
        day_before=[0, 0, 1, 1],
        day_after=[0, 0, 1, 1],
    )
    np.testing.assert_allclose([r.t_before, r.c_before], [77.032914, 67.403627], atol=TOL)
    np.testing.assert_allclose(r.effect_db, -9.629287, atol=TOL)
    assert (r.hours_before, r.hours_after, r.days_before, r.days_after) == (2, 3, 2, 2)


def test_baci_hour_weights():
    """Weights 1 and 0.5 h on 60 and 70 dB: T_before = 10·log10((10^6 + 0.5·10^7)/1.5)
    = 10·log10(4·10^6) = 66.020600 dB; C 60: effect = 0 - 6.020600 = -6.020600 dB. A zero
    weight drops its hour."""
    w = [1.0, 0.5, 1.0, 0.5, 0.0]
    days = [0, 0, 1, 1, 1]
    tb = [60.0, 70.0, 60.0, 70.0, 99.0]
    r = baci(
        tb,
        _const(60.0, 5),
        _const(60.0, 5),
        _const(60.0, 5),
        hours_before=w,
        day_before=days,
        day_after=days,
    )
    np.testing.assert_allclose(r.t_before, 66.020600, atol=TOL)
    np.testing.assert_allclose(r.effect_db, -6.020600, atol=TOL)
    np.testing.assert_allclose(r.hours_before, 3.0)


def test_baci_day_labels_need_not_be_contiguous():
    """Date ordinals (738000, ...) and the default 24-hour blocks describe the same days."""
    tb, cb, ta, ca = _simulate(np.random.default_rng(3), DAYS, -5.0)
    ordinals = 738_000 + 3 * (np.arange(HOURS) // 24)
    default = baci(tb, cb, ta, ca)
    labelled = baci(tb, cb, ta, ca, day_before=ordinals, day_after=ordinals.astype(float))
    assert labelled == default


# --- BACI interval ----------------------------------------------------------------------------


def test_baci_resamples_whole_days():
    """Two days per phase. Before: T 70 / C 65 (delta 5). After: C 65, T 59 dB all of day 0 and
    57 dB all of day 1. A resample of the after phase is (day0, day0), a mix, or (day1, day1),
    the last with probability 1/4 > 2.5 %, giving delta_after -6 and -8 dB at the tails, so the
    95 % interval is exactly [-8 - 5, -6 - 5] = [-13, -11] dB. (Resampling single hours would
    almost never draw 48 hours of one day and give a much narrower interval.)
    Point: T_after = 57 + 10·log10((10^0.2 + 1)/2) = 58.114118 dB, effect = -6.885882 - 5
    = -11.885882 dB."""
    ta = np.r_[np.full(24, 59.0), np.full(24, 57.0)]
    r = baci(_const(70.0, 48), _const(65.0, 48), ta, _const(65.0, 48))
    np.testing.assert_allclose(r.t_after, 58.114118, atol=TOL)
    np.testing.assert_allclose(r.effect_db, -11.885882, atol=TOL)
    np.testing.assert_allclose([r.ci_low, r.ci_high], [-13.0, -11.0], atol=TOL)


def test_baci_interval_covers_the_true_effect():
    """200 seeded synthetic trials (21 days per phase, true effect -6 dB, day-level and hourly
    noise): the 95 % interval covers -6 dB in 90-99 % of them. (The percentile day bootstrap
    runs slightly below nominal with a few weeks of data, about 93-94 % in 2,000 trials.)"""
    rng = np.random.default_rng(20240601)
    covered = 0
    for i in range(200):
        tb, cb, ta, ca = _simulate(rng, 21, -6.0)
        r = baci(tb, cb, ta, ca, n_boot=1000, seed=i)
        covered += r.ci_low <= -6.0 <= r.ci_high
    assert 180 <= covered <= 198, covered


def test_baci_keeps_treated_and_control_of_a_day_together():
    """T and C share a large day-to-day factor (6 dB SD) and differ by little (0.2 dB SD per
    site and day). Paired days cancel the shared factor: narrow interval. Shuffling the control's
    days within each phase leaves every phase mean, hence the effect, unchanged but breaks the
    pairing, and the interval must then be far wider (it is what resampling T and C
    independently would give)."""
    rng = np.random.default_rng(11)
    n_days = 14
    tb, cb, ta, ca = _simulate(rng, n_days, -6.5, common_sd=6.0, site_sd=0.2, hour_sd=0.5)
    paired = baci(tb, cb, ta, ca)

    def shuffle_days(x: np.ndarray) -> np.ndarray:
        return x.reshape(n_days, 24)[rng.permutation(n_days)].ravel()

    unpaired = baci(tb, shuffle_days(cb), ta, shuffle_days(ca))
    np.testing.assert_allclose(unpaired.effect_db, paired.effect_db, atol=1e-9)
    paired_width = paired.ci_high - paired.ci_low
    unpaired_width = unpaired.ci_high - unpaired.ci_low
    assert paired_width < 1.0, paired_width
    assert unpaired_width > 5 * paired_width, (paired_width, unpaired_width)


def test_baci_vallensbaek_barrier_end_to_end():
    """The recycled wind-turbine-blade barrier (Gate 21 reports -6 to -7 dB), synthetically: four
    weeks before and four after, a treated sensor behind the barrier by Køge Bugt Motorvejen
    (daytime 72 dB) and a control along the same motorway (68 dB), road-traffic diurnal shape,
    day factors shared by both sites (traffic, weather) and of each site alone (wind direction).
    After the build, traffic grows by 1 dB at both sites and the barrier takes 6.5 dB off the
    treated site; a two-day outage of the treated sensor and 30 lost control hours are missing.
    True effect -6.5 dB; the treated site's own before/after difference is biased by the
    traffic growth and the weather of the two phases."""
    rng = np.random.default_rng(2019)
    n_days, n = 28, 28 * 24
    diurnal = _diurnal_days(n_days)
    levels = []
    for growth, barrier in ((0.0, 0.0), (1.0, -6.5)):
        common = np.repeat(rng.normal(0.0, 1.5, n_days), 24) + growth
        for base in (72.0 + barrier, 68.0):
            own = np.repeat(rng.normal(0.0, 0.7, n_days), 24)
            levels.append(base + diurnal + common + own + rng.normal(0.0, 1.0, n))
    tb, cb, ta, ca = levels
    ta[5 * 24 : 7 * 24] = np.nan
    cb[rng.choice(n, 30, replace=False)] = np.nan

    r = baci(tb, cb, ta, ca)

    assert -8.0 < r.ci_low < -6.5 < r.ci_high < -5.0, (r.ci_low, r.ci_high)
    assert 6.0 < r.reduction_db < 7.0, r.reduction_db  # the reported -6 to -7 dB
    assert (r.hours_before, r.hours_after) == (n - 30, n - 48)
    assert (r.days_before, r.days_after) == (28, 26)
    # The treated site alone credits the barrier with less: traffic grew by 1 dB meanwhile.
    naive = insertion_loss(tb, ta[~np.isnan(ta)])
    assert naive < r.reduction_db - 0.5, (naive, r.reduction_db)


# --- BACI properties --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), offset=st.floats(-40.0, 40.0))
def test_baci_is_unchanged_by_a_common_offset(seed: int, offset: float):
    """Adding the same dB to every input shifts every level by it and leaves the effect and
    the interval unchanged."""
    tb, cb, ta, ca = _simulate(np.random.default_rng(seed), 3, -4.0)
    base = baci(tb, cb, ta, ca, n_boot=200)
    moved = baci(tb + offset, cb + offset, ta + offset, ca + offset, n_boot=200)
    np.testing.assert_allclose(
        [moved.effect_db, moved.ci_low, moved.ci_high],
        [base.effect_db, base.ci_low, base.ci_high],
        atol=1e-6,
    )
    np.testing.assert_allclose(moved.t_before, base.t_before + offset, atol=1e-6)
    np.testing.assert_allclose(moved.c_after, base.c_after + offset, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_baci_swapping_before_and_after_negates_the_effect(seed: int):
    tb, cb, ta, ca = _simulate(np.random.default_rng(seed), 3, -4.0)
    forward = baci(tb, cb, ta, ca, n_boot=200)
    backward = baci(ta, ca, tb, cb, n_boot=200)
    np.testing.assert_allclose(backward.effect_db, -forward.effect_db, atol=1e-9)
    np.testing.assert_allclose(backward.reduction_db, forward.effect_db, atol=1e-9)
    assert (backward.t_before, backward.c_after) == (forward.t_after, forward.c_before)


def test_baci_is_reproducible_with_a_seed():
    tb, cb, ta, ca = _simulate(np.random.default_rng(5), DAYS, -6.0)
    assert baci(tb, cb, ta, ca, seed=42) == baci(tb, cb, ta, ca, seed=42)
    assert baci(tb, cb, ta, ca, seed=42).ci_low != baci(tb, cb, ta, ca, seed=43).ci_low


def test_baci_confidence_level_orders_intervals():
    tb, cb, ta, ca = _simulate(np.random.default_rng(6), DAYS, -6.0)
    wide = baci(tb, cb, ta, ca, confidence=0.99)
    narrow = baci(tb, cb, ta, ca, confidence=0.80)
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    assert "80 %" in narrow.method


# --- BACI validation --------------------------------------------------------------------------

_OK = _const(60.0, 48)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"treated_before": _const(60.0, 47)}, "treated_before has 47 hours but control_before"),
        ({"control_after": np.ones((2, 24))}, "control_after must be a 1-D array"),
        ({"treated_after": np.r_[_const(60.0, 47), math.inf]}, "treated_after: levels must be"),
        (
            {"treated_before": np.r_[_const(60.0, 24), _const(math.nan, 24)]},
            "before phase: .* 1 day",
        ),
        ({"control_after": _const(math.nan, 48)}, "after phase: .* 0 day"),
        ({"day_before": [0] * 48}, "on 1 day"),
        ({"day_after": [0, 1]}, "day_after: 2 day labels for 48 hours"),
        ({"day_after": np.arange(48) / 2}, "day labels must be integers"),
        ({"hours_before": -_OK}, "hours_before: weights must be finite"),
        ({"hours_after": [1.0]}, "hours_after: 1 weights for 48 hours"),
        ({"n_boot": 0}, "n_boot must be a positive integer"),
        ({"n_boot": 2.5}, "n_boot must be a positive integer"),
        ({"confidence": 1.0}, "confidence must be within"),
        ({"confidence": math.nan}, "confidence must be within"),
    ],
)
def test_baci_rejects_bad_input(kwargs: dict[str, object], message: str):
    args: dict[str, object] = {
        "treated_before": _OK,
        "control_before": _OK,
        "treated_after": _OK,
        "control_after": _OK,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        baci(**args)  # type: ignore[arg-type]
