"""Known-answer tests of noiselab.analysis.trial, SqliteStore.hourly_bands and the trial
repository. Expected decibels are worked out by hand in each docstring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from noiselab.analysis.trial import (
    BandPhase,
    PhaseHours,
    band_effects,
    combine_sensors,
    evaluate_trial,
)
from noiselab.errors import StoreError
from noiselab.model import Reading, Sensor, Spectrum
from noiselab.store.metadata import MetadataStore, Trial, UnknownSensors
from noiselab.store.sqlite import SqliteStore

L_60_70 = 10 * np.log10((1e6 + 1e7) / 2)  # 67.40 dB: the energetic mean of 60 and 70 dB


def phase(treated, control, *, days=7, t_cov=None, c_cov=None, selected=None) -> PhaseHours:
    """A phase of ``days`` whole days; scalars are repeated over every hour."""
    n = 24 * days
    t = np.broadcast_to(np.asarray(treated, float), n).copy()
    c = np.broadcast_to(np.asarray(control, float), n).copy()
    return PhaseHours(
        treated=t,
        control=c,
        treated_coverage=np.ones(n) if t_cov is None else np.asarray(t_cov, float),
        control_coverage=np.ones(n) if c_cov is None else np.asarray(c_cov, float),
        day=np.arange(n) // 24 + 740_000,
        selected=np.ones(n, bool) if selected is None else np.asarray(selected, bool),
    )


def test_combine_sensors_needs_every_sensor_in_the_hour():
    """Hour 0: 60 and 70 dB -> 67.40 dB, coverage min(1, 0.8) = 0.8; hour 1: the second
    sensor measured 40 % (< 50 %) -> missing; hour 2: the first has no level -> missing."""
    level, cov = combine_sensors([[60, 60, np.nan], [70, 60, 50]], [[1, 1, 0], [0.8, 0.4, 1]])
    np.testing.assert_allclose(level[0], L_60_70)
    assert np.isnan(level[1:]).all()
    np.testing.assert_allclose(cov, [0.8, 0.0, 0.0])


def test_constant_levels_give_the_known_effect_and_a_reduction_verdict():
    """(63 - 65) - (70 - 65) = -7 dB; no spread between days, so the interval is [-7, -7]."""
    result = evaluate_trial(phase(70.0, 65.0), phase(63.0, 65.0))
    assert result.baci is not None
    assert result.baci.effect_db == pytest.approx(-7.0)
    assert (result.baci.ci_low, result.baci.ci_high) == pytest.approx((-7.0, -7.0))
    assert result.before.treated_db == pytest.approx(70.0)
    assert result.after.difference_db == pytest.approx(-2.0)
    assert (result.before.coverage, result.before.complete_days) == (1.0, 7)
    assert result.verdict.status == "reduction"
    assert "a reduction of 7.0 dB" in result.verdict.text
    assert "statistically significant at the 95 % level" in result.verdict.text
    assert len(result.daily) == 14
    assert result.daily[7].phase == "after"


def test_an_increase_is_called_an_increase():
    result = evaluate_trial(phase(65.0, 65.0), phase(67.0, 65.0))
    assert result.verdict.status == "increase"
    assert "an increase of 2.0 dB" in result.verdict.text


def test_an_interval_that_includes_zero_is_no_significant_change():
    """T alternates 66/64 dB from day to day in both phases against a steady 65 dB: the
    point effect is 0 and resampled days move it both ways."""
    t = np.repeat([66.0, 64.0, 66.0, 64.0, 66.0, 64.0, 66.0, 64.0], 24)
    result = evaluate_trial(phase(t, 65.0, days=8), phase(t[::-1].copy(), 65.0, days=8))
    assert result.baci is not None
    assert result.baci.ci_low < 0 < result.baci.ci_high
    assert result.verdict.status == "no_significant_change"


def test_daily_values_are_energetic_means_of_matched_hours():
    """Day 0: treated 12 h at 60 dB and 12 h at 70 dB -> 67.40 dB, control 65 dB, difference
    2.40 dB. Day 1: control missing 6 hours -> 18 matched hours, still complete."""
    t = np.r_[np.full(12, 60.0), np.full(12, 70.0), np.full(24 * 6, 65.0)]
    c = np.full(24 * 7, 65.0)
    c[24:30] = np.nan
    result = evaluate_trial(phase(t, c), phase(65.0, 65.0))
    day0, day1 = result.daily[0], result.daily[1]
    assert day0.treated_db == pytest.approx(L_60_70)
    assert day0.difference_db == pytest.approx(L_60_70 - 65.0)
    assert (day1.matched_hours, day1.selected_hours) == (18, 24)
    assert result.before.complete_days == 7
    assert result.before.coverage == pytest.approx(162 / 168)


def test_hours_are_weighted_by_the_smaller_coverage():
    """Treated 60 dB (coverage 1) and 70 dB (coverage 0.5, control 1) alternating:
    10·log10((1·10^6 + 0.5·10^7) / 1.5) = 66.02 dB."""
    t = np.tile([60.0, 70.0], 84)
    t_cov = np.tile([1.0, 0.5], 84)
    result = evaluate_trial(phase(t, 65.0, t_cov=t_cov), phase(65.0, 65.0))
    assert result.before.treated_db == pytest.approx(10 * np.log10(6e6 / 1.5))


def test_only_selected_hours_count():
    """Hours 0-5 of each day are selected; treated is 50 dB there and 80 dB elsewhere."""
    hour = np.arange(168) % 24
    t = np.where(hour < 6, 50.0, 80.0)
    result = evaluate_trial(phase(t, 50.0, selected=hour < 6), phase(t, 50.0, selected=hour < 6))
    assert result.before.treated_db == pytest.approx(50.0)
    assert result.before.selected_hours == 42
    assert result.daily[0].selected_hours == 6


def test_too_few_days_or_hours_is_insufficient_data():
    short = evaluate_trial(phase(70.0, 65.0, days=6), phase(63.0, 65.0))
    assert short.verdict.status == "insufficient_data"
    assert "before period has 6 complete day(s), at least 7" in short.verdict.text
    assert short.baci is not None  # estimated, but not trusted
    gappy = np.where(np.arange(168) % 24 < 10, 63.0, np.nan)  # 10 of 24 hours: 42 %
    sparse = evaluate_trial(phase(70.0, 65.0), phase(gappy, 65.0))
    assert sparse.verdict.status == "insufficient_data"
    assert "after period has 0 complete day(s)" in sparse.verdict.text
    assert "42 % of its hours" in sparse.verdict.text
    one_day = evaluate_trial(phase(70.0, 65.0, days=1), phase(63.0, 65.0))
    assert one_day.baci is None
    assert one_day.verdict.status == "insufficient_data"


def test_band_effects_known_answer():
    """Band 100 Hz: treated 60 -> 59 dB, control 60 dB: -1 dB; band 1 kHz: 60 -> 50: -10 dB;
    band 5 kHz has no treated data: no effect."""
    n = 48
    ones = np.ones((n, 3))
    before = BandPhase(60.0 * ones, 60.0 * ones, np.ones(n), np.arange(n) // 24)
    after_t = np.tile([59.0, 50.0, np.nan], (n, 1))
    after = BandPhase(after_t, 60.0 * ones, np.ones(n), np.arange(n) // 24)
    effects = band_effects([100.0, 1000.0, 5000.0], before, after)
    assert [e.band_hz for e in effects] == [100.0, 1000.0, 5000.0]
    assert effects[0].effect_db == pytest.approx(-1.0)
    assert effects[1].effect_db == pytest.approx(-10.0)
    assert effects[2].effect_db is None
    assert effects[2].days_after == 0


# --------------------------------------------------------------------------- store


def test_hourly_bands_sums_energy_per_hour(tmp_path: Path):
    """Hour 0: 30 s of (60, 70) dB and 30 s of (70, 70) dB -> (67.40, 70.00) dB over 60 s; a
    reading without a spectrum and one with other bands are left out. Hour 1: one reading."""
    t0 = datetime(2026, 3, 2, 12, tzinfo=UTC).timestamp()
    bands = (100.0, 125.0)
    readings = [
        Reading("s1", t0, 70.0, duration=30.0, spectrum=Spectrum(bands, (60.0, 70.0))),
        Reading("s1", t0 + 30, 70.0, duration=30.0, spectrum=Spectrum(bands, (70.0, 70.0))),
        Reading("s1", t0 + 60, 70.0, duration=30.0),
        Reading("s1", t0 + 90, 70.0, duration=30.0, spectrum=Spectrum((1.0,), (99.0,))),
        Reading("s1", t0 + 3600, 70.0, duration=10.0, spectrum=Spectrum(bands, (50.0, 55.0))),
    ]
    with SqliteStore(tmp_path / "r.db") as store:
        store.write(readings, received_at=t0)
        found = store.hourly_bands(
            "s1", datetime.fromtimestamp(t0, UTC), datetime.fromtimestamp(t0 + 7200, UTC)
        )
        empty = store.hourly_bands(
            "s2", datetime.fromtimestamp(t0, UTC), datetime.fromtimestamp(t0 + 7200, UTC)
        )
    np.testing.assert_array_equal(found.t, [t0, t0 + 3600])
    np.testing.assert_array_equal(found.bands_hz, bands)
    np.testing.assert_allclose(found.lzeq, [[L_60_70, 70.0], [50.0, 55.0]])
    np.testing.assert_allclose(found.seconds, [60.0, 10.0])
    assert len(empty) == 0


# --------------------------------------------------------------------------- repository


def _trial(**changes: object) -> Trial:
    start = datetime(2026, 3, 1, 23, tzinfo=UTC)
    fields: dict[str, object] = {
        "id": "tr-000000000001",
        "name": "Barrier",
        "vendor": "acme",
        "treated": ("t-1",),
        "control": ("c-1", "c-2"),
        "before_start": start,
        "before_end": start + timedelta(days=14),
        "after_start": start + timedelta(days=14),
        "after_end": start + timedelta(days=28),
        "hours": (22, 23),
    }
    return Trial(**(fields | changes))  # type: ignore[arg-type]


def test_repository_round_trip_and_vendor_sensors(tmp_path: Path):
    with MetadataStore(f"sqlite:///{tmp_path / 'm.db'}") as meta:
        meta.sensors.add([Sensor(id=i, name=i) for i in ("t-1", "c-1", "c-2", "t-9")])
        trials = meta.trials
        trial = trials.create(_trial())
        assert trials.get(trial.id) == trial
        trials.create(_trial(id="tr-000000000002", vendor="rival", treated=("t-9",)))
        assert trials.vendor_sensors("acme") == {"t-1", "c-1", "c-2"}
        assert trials.vendor_sensors("nobody") == frozenset()
        assert [t.id for t in trials.all(vendor="rival")] == ["tr-000000000002"]
        assert len(trials.all()) == 2
        renamed = trials.replace(_trial(name="Barrier v2", created=trial.created))
        assert renamed is not None
        assert renamed.name == "Barrier v2"
        assert trials.replace(_trial(id="tr-00000000000f")) is None
        with pytest.raises(UnknownSensors, match="unknown sensors: x-1"):
            trials.create(_trial(id="tr-000000000003", treated=("x-1",)))
        with pytest.raises(StoreError):
            trials.create(_trial())
        assert trials.delete(trial.id)
        assert not trials.delete(trial.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"treated": ()}, "treated: at least one sensor"),
        ({"control": ("t-1",)}, "both treated and control"),
        ({"control": ("c-1", "c-1")}, "listed twice"),
        ({"hours": (24,)}, "not an hour of day"),
        ({"before_end": datetime(2026, 3, 20, tzinfo=UTC)}, "before must end no later"),
        ({"before_start": datetime(2026, 3, 1, 23, 30, tzinfo=UTC)}, "whole hour"),
        ({"vendor": ""}, "vendor must be"),
    ],
)
def test_invalid_trials_are_refused(changes: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        _trial(**changes)
