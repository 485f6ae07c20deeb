"""Simulator spectra and weather: third-octave LZeq consistent with the LAeq, band-dependent
barrier insertion loss, wind and rain raising the residual background."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from noiselab.analysis.spectra import a_weighting, band_levels_to_laeq
from noiselab.sensors_sim import physics
from noiselab.sensors_sim import spectra as sim_spectra
from noiselab.sensors_sim.generate import Generated, Weather, generate
from noiselab.sensors_sim.site_specs import Barrier, site_by_id

CPH = ZoneInfo("Europe/Copenhagen")
TUESDAY = datetime(2026, 1, 6, tzinfo=CPH)
SEED = 7
INSTALLED = TUESDAY + timedelta(hours=12)


@cache
def _treated(with_barrier: bool) -> Generated:
    barrier = Barrier(installed_at=INSTALLED.timestamp()) if with_barrier else None
    site = site_by_id("trial-blade-treated")
    return generate(site, TUESDAY, TUESDAY + timedelta(days=1), SEED, barrier=barrier, spectra=True)


def _a_total(spectrum_db: np.ndarray) -> float:
    return float(10.0 * np.log10(np.sum(10.0 ** (spectrum_db / 10.0))))


# --- the normalised spectra and the band insertion loss ------------------------------------


def test_bands_are_en_1793_3_range() -> None:
    assert sim_spectra.BANDS_HZ[0] == 100.0
    assert sim_spectra.BANDS_HZ[-1] == 5000.0
    assert sim_spectra.BANDS_HZ.size == 18


@pytest.mark.parametrize(
    "shape",
    [
        sim_spectra.ROAD_SPECTRUM_DB,
        sim_spectra.RAIL_SPECTRUM_DB,
        sim_spectra.BACKGROUND_SPECTRUM_DB,
    ],
)
def test_normalised_spectra_sum_to_0_dba(shape: np.ndarray) -> None:
    assert shape.size == sim_spectra.BANDS_HZ.size
    assert _a_total(shape) == pytest.approx(0.0, abs=1e-12)


def test_road_spectrum_is_en_1793_3_shape() -> None:
    """EN 1793-3:1997 Table 1 as transcribed, up to the renormalising constant: maximum at
    1 kHz, -20 dB at 100 Hz and -18 dB at 5 kHz relative to -8 dB there."""
    s = sim_spectra.ROAD_SPECTRUM_DB
    assert int(np.argmax(s)) == list(sim_spectra.BANDS_HZ).index(1000.0)
    assert s[0] - s[10] == pytest.approx(-12.0)
    assert s[-1] - s[10] == pytest.approx(-10.0)


@pytest.mark.parametrize("il", [3.0, 6.0, 9.0])
def test_band_il_keeps_the_broadband_a_weighted_il(il: float) -> None:
    band_il = sim_spectra.barrier_band_il(il)
    assert np.all(np.diff(band_il) > 0), "IL grows with frequency"
    after = _a_total(sim_spectra.ROAD_SPECTRUM_DB - band_il)
    assert after == pytest.approx(-il, abs=1e-9)


def test_lzeq_spectrum_hits_the_target_exactly() -> None:
    energy = np.array([1e6, 1e7, 3.3e5])
    bands = sim_spectra.band_energies(energy, sim_spectra.ROAD_SPECTRUM_DB)
    target = np.array([60.0, 70.1, 55.2])
    lz = sim_spectra.lzeq_spectrum(bands, target)
    np.testing.assert_allclose(band_levels_to_laeq(lz, sim_spectra.BANDS_HZ), target, atol=1e-9)


# --- generated spectra ---------------------------------------------------------------------


@pytest.mark.parametrize("site_id", ["kbm-25m", "ring-25m", "bg-vallensbaek-mose"])
def test_generated_spectrum_matches_laeq(site_id: str) -> None:
    start = TUESDAY + timedelta(hours=6)
    g = generate(site_by_id(site_id), start, start + timedelta(hours=3), SEED, spectra=True)
    assert g.spectrum is not None
    assert g.spectrum.shape == (g.ts.size, sim_spectra.BANDS_HZ.size)
    assert np.isfinite(g.spectrum).all()
    total = band_levels_to_laeq(g.spectrum, sim_spectra.BANDS_HZ)
    assert np.max(np.abs(total - g.laeq)) < 0.05


def test_spectra_do_not_change_the_other_arrays_and_chunk() -> None:
    site = site_by_id("ring-25m")
    a, b = TUESDAY + timedelta(hours=23), TUESDAY + timedelta(hours=25)
    plain = generate(site, a, b, SEED)
    full = generate(site, a, b, SEED, spectra=True)
    assert plain.spectrum is None
    np.testing.assert_array_equal(plain.laeq, full.laeq)
    np.testing.assert_array_equal(plain.lafmax, full.lafmax)
    mid = TUESDAY + timedelta(hours=24, minutes=17)
    first = generate(site, a, mid, SEED, spectra=True)
    second = generate(site, mid, b, SEED, spectra=True)
    assert full.spectrum is not None
    assert first.spectrum is not None
    assert second.spectrum is not None
    np.testing.assert_array_equal(full.spectrum, np.vstack([first.spectrum, second.spectrum]))


def test_rail_pass_by_shifts_the_spectrum_towards_the_rail_shape() -> None:
    """At 25 m from the railway the loudest seconds are train pass-bys; their spectrum,
    relative to its A-weighted total, is the rail shape."""
    start = TUESDAY + timedelta(hours=10)
    g = generate(site_by_id("ring-25m"), start, start + timedelta(hours=1), SEED, spectra=True)
    assert g.spectrum is not None
    loud = int(np.argmax(g.laeq))
    a_weighted = g.spectrum[loud] + a_weighting(sim_spectra.BANDS_EXACT_HZ)
    relative = a_weighted - g.laeq[loud]
    np.testing.assert_allclose(relative, sim_spectra.RAIL_SPECTRUM_DB, atol=0.5)


def test_treated_spectrum_after_installation_differs_by_the_band_il() -> None:
    with_b, without = _treated(True), _treated(False)
    assert with_b.spectrum is not None
    assert without.spectrum is not None
    before = with_b.ts < INSTALLED.timestamp()
    np.testing.assert_array_equal(with_b.spectrum[before], without.spectrum[before])
    # Daytime at 30 m from the motorway the road dominates every band by > 25 dB.
    day = (with_b.ts >= INSTALLED.timestamp()) & (
        with_b.ts < (INSTALLED + timedelta(hours=4)).timestamp()
    )
    diff = without.spectrum[day] - with_b.spectrum[day]
    expected = sim_spectra.barrier_band_il(6.0)
    np.testing.assert_allclose(np.median(diff, axis=0), expected, atol=0.2)
    # ...and the A-weighted effect is still the broadband 6 dB.
    np.testing.assert_allclose(
        with_b.road_mitigated_laeq[day], with_b.road_laeq[day] - 6.0, atol=1e-9
    )


def test_a_barrier_given_per_band_sets_the_spectrum_and_its_a_weighted_effect() -> None:
    """A barrier with 3 dB below 500 Hz and 12 dB from 500 Hz up: its A-weighted loss on the
    road is -10·log10(Σ wᵢ·10^(-ILᵢ/10)) over the normalised road spectrum wᵢ (computed here
    from the shipped table), the road part drops by exactly that, and the treated spectrum
    drops by the given loss in each band."""
    bands = sim_spectra.BANDS_HZ
    band_il = tuple(3.0 if f < 500 else 12.0 for f in bands)
    w = 10.0 ** (sim_spectra.ROAD_SPECTRUM_DB / 10.0)
    expected_a = -10 * np.log10(
        sum(wi * 10 ** (-il / 10) for wi, il in zip(w, band_il, strict=True))
    )
    site = site_by_id("trial-blade-treated")
    start, end = INSTALLED.timestamp(), (INSTALLED + timedelta(hours=2)).timestamp()
    barrier = Barrier(installed_at=start, band_il_db=band_il)
    assert barrier.broadband_il() == pytest.approx(expected_a, abs=1e-9)
    with_b = generate(site, start, end, SEED, barrier=barrier, spectra=True)
    without = generate(site, start, end, SEED, spectra=True)
    np.testing.assert_allclose(with_b.road_mitigated_laeq, with_b.road_laeq - expected_a, atol=1e-9)
    assert with_b.spectrum is not None
    assert without.spectrum is not None
    diff = np.median(without.spectrum - with_b.spectrum, axis=0)
    np.testing.assert_allclose(diff, band_il, atol=0.3)
    with pytest.raises(ValueError, match="band_il_db needs 18 values"):
        Barrier(installed_at=start, band_il_db=(6.0, 6.0))


# --- weather -------------------------------------------------------------------------------


def test_weather_noise_relation() -> None:
    e = physics.weather_noise_energy(
        np.array([0.0, 1.9, 5.0, 10.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 0.0, 1.0, 10.0])
    )
    with np.errstate(divide="ignore"):
        level = 10.0 * np.log10(e)
    assert level[0] == -np.inf
    assert level[1] == -np.inf
    np.testing.assert_allclose(
        level[2:],
        [
            physics.WIND_NOISE_DB,
            physics.WIND_NOISE_DB + 50.0 * np.log10(2.0),
            physics.RAIN_NOISE_DB,
            physics.RAIN_NOISE_DB + 10.0,
        ],
    )


def test_weather_series_is_step_wise() -> None:
    w = Weather(
        ts=np.array([100.0, 200.0]), wind_ms=np.array([3.0, 8.0]), rain_mm_h=np.array([0.0, 2.0])
    )
    wind, rain = w.at(np.array([0.0, 150.0, 200.0, 1e9]))
    np.testing.assert_array_equal(wind, [3.0, 3.0, 8.0, 8.0])
    np.testing.assert_array_equal(rain, [0.0, 0.0, 2.0, 2.0])


def test_rain_and_wind_raise_the_background_from_their_start() -> None:
    site = site_by_id("bg-vallensbaek-mose")
    start = TUESDAY + timedelta(hours=2)
    end = start + timedelta(hours=4)
    t_rain, t_calm = (start + timedelta(hours=1)).timestamp(), (start + timedelta(hours=2))
    weather = Weather(
        ts=np.array([start.timestamp(), t_rain, t_calm.timestamp(), t_calm.timestamp() + 3600]),
        wind_ms=np.array([1.0, 1.0, 0.0, 10.0]),
        rain_mm_h=np.array([0.0, 5.0, 0.0, 0.0]),
    )
    plain = generate(site, start, end, SEED)
    wet = generate(site, start, end, SEED, weather=weather, spectra=True)
    wind, rain = weather.at(plain.ts)
    expected = physics.level_of_energies(
        10.0 ** (plain.background_laeq / 10.0), physics.weather_noise_energy(wind, rain)
    )
    np.testing.assert_allclose(wet.background_laeq, expected, atol=1e-9)
    calm = (wind < physics.WIND_THRESHOLD_MS) & (rain == 0)
    np.testing.assert_allclose(wet.background_laeq[calm], plain.background_laeq[calm], atol=1e-9)
    raining = rain > 0
    assert np.median(wet.laeq[raining] - plain.laeq[raining]) > 5.0  # 50 dB rain over ~39 dB
    windy = wind >= 10.0
    assert np.min(wet.laeq[windy]) > 49.0
    assert wet.spectrum is not None
    total = band_levels_to_laeq(wet.spectrum, sim_spectra.BANDS_HZ)
    assert np.max(np.abs(total - wet.laeq)) < 0.05
