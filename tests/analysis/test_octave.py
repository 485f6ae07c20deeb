"""One-third-octave band filters against IEC 61260-1:2014 (class 1), with generated signals
whose band levels are known."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import signal

from noiselab.analysis import octave
from noiselab.analysis.octave import (
    DEFAULT_BANDS_HZ,
    P_REF,
    ThirdOctaveMeter,
    band_decimation,
    band_edges,
    band_response_db,
    third_octave_sos,
)
from noiselab.analysis.weighting import AWeightedMeter

FS = 48_000
G = 10 ** (3 / 10)
ONE_PA_DB = 20 * math.log10(1.0 / P_REF)  # 93.98 dB

# IEC 61260-1:2014 Table 1, class 1 acceptance limits on relative attenuation (dB) for octave
# bands at Ω = G^x; transcribed here, independent of the code under test. Pass band
# (|x| < 1/2): minimum -0.4 dB everywhere, maximum per row. Stop band (|x| > 1/2): minimum per
# row, no maximum; beyond G^±4 the 70 dB minimum holds on.
TABLE_1_PASS_MAX = [(0.0, 0.4), (1 / 8, 0.5), (1 / 4, 0.7), (3 / 8, 1.4), (1 / 2, 5.3)]
TABLE_1_PASS_MIN = -0.4
TABLE_1_STOP_MIN = [(1 / 2, 1.2), (1.0, 16.6), (2.0, 40.5), (3.0, 60.0), (4.0, 70.0)]
# IEC 61260-1:2014 Annex F (Table F.1): the same breakpoints for one-third-octave bands,
# mapped with equation 9, Ω = 1 + (G^(1/6) - 1)/(G^(1/2) - 1)·(G^x - 1), to five decimals.
TABLE_F1 = {
    1 / 8: 1.02667,
    1 / 4: 1.05575,
    3 / 8: 1.08746,
    1 / 2: 1.12202,
    1.0: 1.29437,
    2.0: 1.88173,
    3.0: 3.05365,
    4.0: 5.39195,
}


def _class_1_limits(omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum relative attenuation (dB) at normalised frequencies ``Ω = f/f_m``:
    the Table F.1 breakpoints, mirrored below the mid-band frequency (equation 10) and
    interpolated linearly in lg Ω between them (5.10.6)."""
    high = np.where(omega < 1, 1 / omega, omega)
    edge = TABLE_F1[1 / 2]
    pass_x = np.log10([1.0] + [TABLE_F1[x] for x, _ in TABLE_1_PASS_MAX[1:]])
    pass_y = [limit for _, limit in TABLE_1_PASS_MAX]
    stop_x = np.log10([TABLE_F1[x] for x, _ in TABLE_1_STOP_MIN])
    stop_y = [limit for _, limit in TABLE_1_STOP_MIN]
    in_pass = high <= edge
    lg = np.log10(high)
    minimum = np.where(in_pass, TABLE_1_PASS_MIN, np.interp(lg, stop_x, stop_y))
    maximum = np.where(in_pass, np.interp(lg, pass_x, pass_y), np.inf)
    return minimum, maximum


def _centre(nominal: float) -> float:
    lower, upper = band_edges(nominal)
    return math.sqrt(lower * upper)


def _tone(freq: float, rms_pa: float, seconds: float, fs: int = FS) -> np.ndarray:
    t = np.arange(int(fs * seconds)) / fs
    return rms_pa * math.sqrt(2) * np.sin(2 * math.pi * freq * t)


def _noise(seconds: float, exponent: float, seed: int, *, exact: bool = False) -> np.ndarray:
    """White Gaussian noise shaped in the frequency domain to a power spectrum ∝ 1/f^exponent
    (0 white, 1 pink), 1 Pa RMS. With ``exact`` every FFT bin keeps only the noise's phase and
    gets exactly the target magnitude, so band energies carry no statistical scatter."""
    n = int(FS * seconds)
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / FS)
    gain = np.zeros_like(freqs)
    gain[1:] = freqs[1:] ** (-exponent / 2)
    if exact:
        spectrum /= np.abs(spectrum)
    x: np.ndarray = np.fft.irfft(spectrum * gain, n)
    return x / math.sqrt(np.mean(x * x))


def _band_limited_noise(
    seconds: float, exponent: float, seed: int, lo: float, hi: float
) -> np.ndarray:
    n = int(FS * seconds)
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / FS)
    gain = np.zeros_like(freqs)
    inside = (freqs >= lo) & (freqs <= hi)
    gain[inside] = freqs[inside] ** (-exponent / 2)
    return np.fft.irfft(spectrum * gain, n)


def _mean_levels(seconds: list[tuple[float, ...]]) -> np.ndarray:
    """Energetic mean over seconds of each band's LZeq,1s."""
    levels: np.ndarray = 10 * np.log10(np.mean(10 ** (np.asarray(seconds) / 10), axis=0))
    return levels


# --- band edges -------------------------------------------------------------------------------


def test_default_bands_are_the_27_nominal_bands_from_25_hz_to_10_khz() -> None:
    assert len(DEFAULT_BANDS_HZ) == 27
    assert DEFAULT_BANDS_HZ[:4] == (25.0, 31.5, 40.0, 50.0)
    assert DEFAULT_BANDS_HZ[-3:] == (6300.0, 8000.0, 10000.0)


@pytest.mark.parametrize(
    ("nominal", "lower", "upper"),
    [
        # f_m = 1000·10^(x/10), edges f_m·10^(∓0.05), worked by hand
        (1000.0, 891.2509, 1122.0185),  # 1000·10^(∓0.05)
        (25.0, 22.3872, 28.1838),  # 1000·10^(-1.65), 1000·10^(-1.55)
        (10000.0, 8912.5094, 11220.1845),  # 1000·10^(0.95), 1000·10^(1.05)
        (31.5, 28.1838, 35.4813),  # 1000·10^(-1.55), 1000·10^(-1.45)
    ],
)
def test_band_edges_equal_the_iec_61260_formula(nominal: float, lower: float, upper: float) -> None:
    assert band_edges(nominal) == pytest.approx((lower, upper), abs=1e-4)


def test_adjacent_bands_share_an_edge() -> None:
    for low, high in itertools.pairwise(DEFAULT_BANDS_HZ):
        assert band_edges(low)[1] == pytest.approx(band_edges(high)[0], rel=1e-12)


def test_a_frequency_that_is_not_a_band_centre_is_refused() -> None:
    with pytest.raises(ValueError, match="band"):
        band_edges(1100.0)


# --- design -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fs", "nominal", "factor"),
    [
        # upper edge f2 ≤ fs/(4·D), D as large as possible; D = 1 above fs/8.
        (48_000, 10000.0, 1),  # f2 = 11220 > 6000
        (48_000, 6300.0, 1),  # f2 = 7079 > 6000
        (48_000, 5000.0, 2),  # f2 = 5623 ≤ 6000, > 3000
        (48_000, 1000.0, 8),  # f2 = 1122 ≤ 1500, > 750
        (48_000, 25.0, 256),  # f2 = 28.18 ≤ 46.9, > 23.4
        (44_100, 5000.0, 1),  # f2 = 5623 > 5512
        (44_100, 25.0, 256),  # f2 = 28.18 ≤ 43.1, > 21.5
    ],
)
def test_low_bands_run_at_a_reduced_rate(fs: int, nominal: float, factor: int) -> None:
    assert band_decimation(fs, nominal) == factor


def test_the_25_hz_band_is_a_stable_6th_order_filter_at_its_own_rate() -> None:
    sos = third_octave_sos(FS, 25.0)
    assert sos.shape == (3, 6)
    rate = FS / band_decimation(FS, 25.0)  # 187.5 Hz
    _, poles, _ = signal.sos2zpk(sos)
    assert np.abs(poles).max() < 0.99
    _, h = signal.sosfreqz(sos, worN=[_centre(25.0)], fs=rate)
    assert abs(20 * math.log10(abs(h[0]))) < 0.05


@pytest.mark.parametrize(("fs", "nominal"), [(44_100, 20000.0), (32_000, 16000.0)])
def test_bands_above_0_45_fs_are_refused(fs: int, nominal: float) -> None:
    with pytest.raises(ValueError, match="cannot be measured"):
        third_octave_sos(fs, nominal)


def test_the_default_bands_need_at_least_25_khz() -> None:
    # The 8 kHz band's upper edge, 8913 Hz, is above 0.45·16000 = 7200 Hz (and the 10 kHz one's).
    with pytest.raises(ValueError, match="8000 Hz band"):
        ThirdOctaveMeter(16_000)
    assert third_octave_sos(44_100, 16000.0).shape == (3, 6)  # 17783 Hz ≤ 19845 Hz


def test_the_table_f1_breakpoints_follow_from_table_1() -> None:
    # The transcribed Annex F values agree with equation 9 applied to the octave breakpoints.
    for x, omega in TABLE_F1.items():
        assert 1 + (G ** (1 / 6) - 1) / (G**0.5 - 1) * (G**x - 1) == pytest.approx(omega, abs=6e-6)


@pytest.mark.parametrize("fs", [48_000, 44_100])
@pytest.mark.parametrize("nominal", DEFAULT_BANDS_HZ)
def test_relative_attenuation_is_within_the_class_1_limits(fs: int, nominal: float) -> None:
    """Relative attenuation ΔA = -gain (design goal 0 dB) of the whole chain (halving stages,
    decimation, band-pass) within IEC 61260-1:2014 Table 1, class 1, from 1 Hz to fs/2, on a
    dense grid plus every breakpoint."""
    f_m = _centre(nominal)
    breakpoints = np.array([1.0, *TABLE_F1.values()])
    freqs = np.concatenate(
        [np.geomspace(1.0, fs / 2, 20_000), f_m * breakpoints, f_m / breakpoints]
    )
    freqs = freqs[freqs <= fs / 2]
    attenuation = -band_response_db(fs, nominal, freqs)
    minimum, maximum = _class_1_limits(freqs / f_m)
    assert (attenuation >= minimum).all()
    assert (attenuation <= maximum).all()


@pytest.mark.parametrize("fs", [48_000, 44_100])
def test_effective_bandwidth_is_that_of_a_3rd_order_butterworth(fs: int) -> None:
    """Effective bandwidth ∫|H|² df over the nominal f2 - f1: for a Butterworth band-pass of
    order n per side it is (π/2n)/sin(π/2n), +0.20 dB for n = 3; IEC 61260-1:2014 5.12
    allows ±0.4 dB (class 1). Bilinear warping narrows the digital filters slightly."""
    expected = 10 * math.log10((math.pi / 6) / math.sin(math.pi / 6))
    assert round(expected, 2) == 0.20
    for nominal in DEFAULT_BANDS_HZ:
        lower, upper = band_edges(nominal)
        # Four octaves either side: beyond them |H|² is below 1e-10.
        freqs = np.geomspace(_centre(nominal) / 16, min(16 * _centre(nominal), fs / 2), 20_000)
        power = 10 ** (band_response_db(fs, nominal, freqs) / 10)
        deviation = 10 * math.log10(np.trapezoid(power, freqs) / (upper - lower))
        assert abs(deviation - expected) <= 0.05
        assert abs(deviation) <= 0.4


def test_the_outputs_of_all_bands_add_up_to_the_input_for_any_tone() -> None:
    """IEC 61260-1:2014 5.16: the summed band outputs of a tone between 25 Hz and 10 kHz stay
    within +0.8/-1.8 dB (class 1) of the input; two Butterworth bands give -3 dB each at their
    shared edge, so the sum is 0 dB there."""
    freqs = np.geomspace(_centre(25.0), _centre(10000.0), 2000)
    total = 10 * np.log10(
        sum(10 ** (band_response_db(FS, nominal, freqs) / 10) for nominal in DEFAULT_BANDS_HZ)
    )
    assert total.max() <= 0.8
    assert total.min() >= -1.8
    edge = band_edges(1000.0)[1]
    assert band_response_db(FS, 1000.0, [edge])[0] == pytest.approx(-3.01, abs=0.05)


# --- measured tones ---------------------------------------------------------------------------


def test_a_1_khz_sine_reads_its_level_in_the_1_khz_band() -> None:
    """1 Pa RMS = 93.98 dB re 20 µPa. The 800 Hz and 1.25 kHz bands see the tone at
    Ω = G^(∓1/3), where Table 1 (interpolated in lg Ω between the G^(1/2)+ and G^1 rows) asks
    for at least 13.6 dB of attenuation; a 3rd-order Butterworth gives about 18 dB."""
    seconds = ThirdOctaveMeter(FS).process(_tone(1000.0, 1.0, 3.0))
    assert len(seconds) == 3
    assert round(ONE_PA_DB, 2) == 93.98
    i = DEFAULT_BANDS_HZ.index(1000.0)
    minimum, _ = _class_1_limits(np.array([G ** (1 / 3)]))
    assert minimum[0] == pytest.approx(13.6, abs=0.05)
    for levels in seconds[1:]:  # the first second holds the filters' start
        assert abs(levels[i] - ONE_PA_DB) <= 0.1
        assert levels[i - 1] <= ONE_PA_DB - 15
        assert levels[i + 1] <= ONE_PA_DB - 15


@pytest.mark.parametrize("nominal", [25.0, 31.5, 100.0, 1000.0, 10000.0])
def test_a_tone_at_the_exact_centre_reads_its_level(nominal: float) -> None:
    # 0.2 Pa RMS = 20·log10(0.2/20e-6) = 80.00 dB, in the band with the longest decimation chain
    # too (25 Hz runs at 187.5 Hz after eight halvings).
    levels = ThirdOctaveMeter(FS).process(_tone(_centre(nominal), 0.2, 3.0))
    assert abs(levels[-1][DEFAULT_BANDS_HZ.index(nominal)] - 80.0) <= 0.1


@pytest.mark.parametrize(
    ("nominal", "freq"),
    [
        (25.0, 25.1189 * 1.29437),  # Ω = G^1 mapped: at least 16.6 dB down
        (25.0, 25.1189 / 1.88173),  # Ω = G^-2 mapped: at least 40.5 dB
        (25.0, 187.5 - 25.1189),  # folds onto 25 Hz at 187.5 Hz: the halving filters must stop it
        (25.0, 25.1189 * 3.05365),  # Ω = G^3 mapped: at least 60 dB
        (1000.0, 1000.0 * 1.12202),  # the band edge: -3 dB
        (1000.0, 1000.0 * 3.05365),  # Ω = G^3 mapped: at least 60 dB
        (1000.0, 6000.0 - 1000.0),  # folds onto 1 kHz at 6 kHz
        (10000.0, 10000.0 / 1.29437),  # Ω = G^-1 mapped: at least 16.6 dB
        (10000.0, 10000.0 * 1.29437),  # Ω = G^1 mapped
    ],
)
def test_measured_tone_levels_match_the_response_and_the_class_1_limits(
    nominal: float, freq: float
) -> None:
    """The meter's reading of a 1 Pa tone equals 93.98 dB plus the predicted chain gain, and
    that gain is within the class 1 limits (alias frequencies included)."""
    predicted = band_response_db(FS, nominal, [freq])[0]
    measured = ThirdOctaveMeter(FS).process(_tone(freq, 1.0, 3.0))[-1]
    assert measured[DEFAULT_BANDS_HZ.index(nominal)] - ONE_PA_DB == pytest.approx(
        predicted, abs=0.05
    )
    minimum, maximum = _class_1_limits(np.array([freq / _centre(nominal)]))
    assert minimum[0] <= -predicted <= maximum[0]


# --- noise ------------------------------------------------------------------------------------


def test_pink_noise_gives_equal_band_levels() -> None:
    """Pink noise (1/f power, equal power per band) with exact bin magnitudes, 20 s repeated
    once; levels over the second period, when every filter is in its steady state. The only
    band-to-band difference left is each digital filter's own noise bandwidth (+0.16 to
    +0.19 dB, see the effective-bandwidth test), so ±0.1 dB of the energetic mean."""
    x = _noise(20.0, 1.0, seed=7, exact=True)
    levels = _mean_levels(ThirdOctaveMeter(FS).process(np.concatenate([x, x]))[20:])
    mean = 10 * math.log10(np.mean(10 ** (levels / 10)))
    assert np.abs(levels - mean).max() <= 0.1


def test_random_pink_noise_gives_equal_band_levels_within_its_statistical_scatter() -> None:
    """Gaussian pink noise, 60 s: a band of width B averaged over T seconds has a level
    standard deviation of about 4.34/sqrt(B·T) dB (0.23 dB for the 25 Hz band over 59 s,
    0.04 dB at 1 kHz); each band must lie within three of those plus 0.1 dB of the mean."""
    x = _noise(60.0, 1.0, seed=11)
    seconds = ThirdOctaveMeter(FS).process(x)[1:]
    levels = _mean_levels(seconds)
    mean = 10 * math.log10(np.mean(10 ** (levels / 10)))
    for nominal, level in zip(DEFAULT_BANDS_HZ, levels, strict=True):
        lower, upper = band_edges(nominal)
        sigma = 10 * math.log10(math.e) / math.sqrt((upper - lower) * len(seconds))
        assert abs(level - mean) <= 0.1 + 3 * sigma


def test_white_noise_levels_rise_1_db_per_band() -> None:
    """White noise has equal power per hertz; band widths grow by G^(1/3) = 10^0.1 per band,
    so levels rise by exactly 10·log10(10^0.1) = 1.00 dB per band (least-squares slope)."""
    levels = _mean_levels(ThirdOctaveMeter(FS).process(_noise(30.0, 0.0, seed=5))[1:])
    slope = np.polyfit(np.arange(levels.size), levels, 1)[0]
    assert slope == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("exponent", [0.0, 1.0])
def test_band_energies_add_up_to_the_lzeq_of_band_limited_noise(exponent: float) -> None:
    """Noise limited (by FFT) to 22.4 Hz - 11.2 kHz, the outer edges of the 25 Hz and 10 kHz
    bands: the energetic sum of the 27 bands equals the noise's LZeq over the same seconds
    within 0.5 dB (the Butterworth bands overlap: about +0.2 dB)."""
    x = _band_limited_noise(20.0, exponent, 3, band_edges(25.0)[0], band_edges(10000.0)[1])
    seconds = ThirdOctaveMeter(FS).process(x)[1:]
    band_sum = 10 * math.log10(np.sum(10 ** (np.asarray(seconds) / 10)) / len(seconds))
    lzeq = 10 * math.log10(np.mean(x[FS:] ** 2) / P_REF**2)
    assert abs(band_sum - lzeq) <= 0.5


# --- the meter --------------------------------------------------------------------------------


@pytest.mark.parametrize("min_run", [0, octave._MIN_RUN])
def test_blocks_give_the_same_levels_as_one_pass(
    min_run: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With min_run = 0 the filters run on every block, down to single samples.
    monkeypatch.setattr(octave, "_MIN_RUN", min_run)
    noise = np.random.default_rng(3).normal(0, 0.2, FS * 3)
    whole = ThirdOctaveMeter(FS).process(noise)
    sizes = [1] * 700 + [0, 1000, 4800, 3, 48_000, 17, 9999] + [1] * 300 + [12_345]
    meter = ThirdOctaveMeter(FS)
    blocked: list[tuple[float, ...]] = []
    start = 0
    for size in sizes:
        blocked += meter.process(noise[start : start + size])
        start += size
    blocked += meter.process(noise[start:])
    assert len(blocked) == len(whole) == 3
    np.testing.assert_allclose(np.asarray(blocked), np.asarray(whole), rtol=0, atol=1e-9)


def test_seconds_line_up_with_the_a_weighted_meter() -> None:
    # Both meters complete second k when sample (k + 1)·fs arrives, whatever the blocks.
    bands, levels = ThirdOctaveMeter(FS), AWeightedMeter(FS)
    noise = np.random.default_rng(4).normal(0, 0.1, int(FS * 3.5))
    for start in range(0, noise.size, 7001):
        block = noise[start : start + 7001]
        assert len(bands.process(block)) == len(levels.process(block))


def test_calibration_offset_is_added_to_every_band() -> None:
    noise = np.random.default_rng(8).normal(0, 0.1, FS * 2)
    plain = np.asarray(ThirdOctaveMeter(FS).process(noise))
    offset = np.asarray(ThirdOctaveMeter(FS, calibration_db=12.5).process(noise))
    np.testing.assert_allclose(offset - plain, 12.5, atol=1e-9)


def test_an_empty_block_returns_no_seconds() -> None:
    meter = ThirdOctaveMeter(FS)
    assert meter.process([]) == []
    assert meter.process(np.zeros(FS - 1)) == []
    assert len(meter.process(np.zeros(1))) == 1


def test_a_subset_of_bands_is_measured_in_the_order_given() -> None:
    tone = _tone(1000.0, 1.0, 2.0)
    meter = ThirdOctaveMeter(FS, bands_hz=(1000.0, 25.0))
    level_1k, level_25 = meter.process(tone)[-1]
    assert abs(level_1k - ONE_PA_DB) <= 0.1
    assert level_25 < 0  # more than 94 dB down


def test_the_meter_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="twice"):
        ThirdOctaveMeter(FS, bands_hz=(1000.0, 1000.0))
    with pytest.raises(ValueError, match="at least one band"):
        ThirdOctaveMeter(FS, bands_hz=())
    with pytest.raises(ValueError, match="whole number"):
        ThirdOctaveMeter(48_000.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1-D"):
        ThirdOctaveMeter(FS).process(np.zeros((2, 10)))
