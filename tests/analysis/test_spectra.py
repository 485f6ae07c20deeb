"""Known-answer tests of noiselab.analysis.spectra against IEC 61260-1 and IEC 61672-1 Table 3."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiselab.analysis.spectra import (
    NOMINAL_THIRD_OCTAVE_HZ,
    a_weighting,
    band_levels_to_laeq,
    c_weighting,
    exact_centre,
    third_octave_centres,
)

# IEC 61672-1:2013 Table 3: nominal frequency (Hz), A weighting (dB), C weighting (dB), rounded
# to 0.1 dB by the standard. Transcribed here, independent of the code under test.
IEC_61672_TABLE_3 = [
    (10, -70.4, -14.3),
    (12.5, -63.4, -11.2),
    (16, -56.7, -8.5),
    (20, -50.5, -6.2),
    (25, -44.7, -4.4),
    (31.5, -39.4, -3.0),
    (40, -34.6, -2.0),
    (50, -30.2, -1.3),
    (63, -26.2, -0.8),
    (80, -22.5, -0.5),
    (100, -19.1, -0.3),
    (125, -16.1, -0.2),
    (160, -13.4, -0.1),
    (200, -10.9, 0.0),
    (250, -8.6, 0.0),
    (315, -6.6, 0.0),
    (400, -4.8, 0.0),
    (500, -3.2, 0.0),
    (630, -1.9, 0.0),
    (800, -0.8, 0.0),
    (1000, 0.0, 0.0),
    (1250, 0.6, 0.0),
    (1600, 1.0, -0.1),
    (2000, 1.2, -0.2),
    (2500, 1.3, -0.3),
    (3150, 1.2, -0.5),
    (4000, 1.0, -0.8),
    (5000, 0.5, -1.3),
    (6300, -0.1, -2.0),
    (8000, -1.1, -3.0),
    (10000, -2.5, -4.4),
    (12500, -4.3, -6.2),
    (16000, -6.6, -8.5),
    (20000, -9.3, -11.2),
]
# Band numbers x = -20 (10 Hz) .. 13 (20 kHz): exact centre 1000·10^(x/10), written out here.
EXACT_HZ = [1000.0 * 10.0 ** (x / 10.0) for x in range(-20, 14)]


def test_exact_centres_follow_the_base_10_formula():
    """1000·10^(x/10): x = -16 -> 25.1189 Hz, x = -15 -> 31.6228 Hz, 0 -> 1 kHz, 10 -> 10 kHz."""
    np.testing.assert_allclose(
        exact_centre([-16, -15, 0, 10]), [25.118864, 31.622777, 1000.0, 10000.0], rtol=1e-7
    )


def test_default_range_is_25_hz_to_10_khz():
    exact, nominal = third_octave_centres()
    assert nominal.tolist() == [
        25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
        1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000,
    ]  # fmt: skip
    np.testing.assert_allclose(exact, EXACT_HZ[4:31], rtol=1e-12)


def test_nominal_and_exact_centres_agree_within_preferred_number_rounding():
    """ISO 266 R10 preferred numbers are within about 1 % of the exact base-10 values."""
    exact, nominal = third_octave_centres(10, 20000)
    assert len(nominal) == len(NOMINAL_THIRD_OCTAVE_HZ) == 34
    assert np.max(np.abs(nominal / exact - 1)) < 0.012


def test_range_selects_by_nominal_frequency():
    """fmin = fmax = 31.5 gives the one band whose exact centre is 31.62 Hz (above 31.5)."""
    exact, nominal = third_octave_centres(31.5, 31.5)
    assert nominal.tolist() == [31.5]
    np.testing.assert_allclose(exact, [10**1.5])
    assert third_octave_centres(100, 1000)[1].tolist() == [
        100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000,
    ]  # fmt: skip


@pytest.mark.parametrize(("fmin", "fmax"), [(5, 100), (100, 25000), (200, 100), (101, 120)])
def test_ranges_outside_the_table_or_empty_are_rejected(fmin, fmax):
    with pytest.raises(ValueError, match=r"Hz|fmin"):
        third_octave_centres(fmin, fmax)


@pytest.mark.parametrize(("exact", "row"), list(zip(EXACT_HZ, IEC_61672_TABLE_3, strict=True)))
def test_a_weighting_reproduces_iec_61672_table_3(exact, row):
    """Annex E formula at the exact base-10 centre, rounded to 0.1 dB = Table 3."""
    _, a_table, _ = row
    assert abs(float(a_weighting(exact)) - a_table) <= 0.05 + 1e-9


@pytest.mark.parametrize(("exact", "row"), list(zip(EXACT_HZ, IEC_61672_TABLE_3, strict=True)))
def test_c_weighting_reproduces_iec_61672_table_3(exact, row):
    _, _, c_table = row
    assert abs(float(c_weighting(exact)) - c_table) <= 0.05 + 1e-9


def test_weightings_are_zero_at_1_khz():
    """A1000 = -2.000 dB and C1000 = -0.062 dB normalise both to 0 dB (within 0.001 dB)."""
    np.testing.assert_allclose([a_weighting(1000.0), c_weighting(1000.0)], [0.0, 0.0], atol=1e-3)


def test_a_weighting_at_nominal_frequencies_is_not_table_3():
    """Why bands are weighted at their exact centres: at nominal 16 Hz the formula gives
    -56.4 dB, Table 3 says -56.7 dB (the value at 15.85 Hz)."""
    assert round(float(a_weighting(16.0)), 1) == -56.4
    assert round(float(a_weighting(EXACT_HZ[2])), 1) == -56.7


def test_weightings_keep_the_shape_and_reject_bad_frequencies():
    assert a_weighting(np.full((2, 3), 1000.0)).shape == (2, 3)
    with pytest.raises(ValueError, match="positive"):
        a_weighting([0.0])
    with pytest.raises(ValueError, match="positive"):
        c_weighting([math.nan])


def test_single_1_khz_band():
    """One band at 1 kHz, 60 dB LZeq: A(1 kHz) = 0, so 60.0 dBA."""
    np.testing.assert_allclose(band_levels_to_laeq([60.0], [1000]), 60.0, atol=1e-3)


def test_two_bands_hand_sum():
    """60 dB at 100 Hz (A = -19.145 dB) and at 1 kHz: 10·log10(10^4.0855 + 10^6) = 60.0526."""
    np.testing.assert_allclose(band_levels_to_laeq([60.0, 60.0], [100, 1000]), 60.0526, atol=1e-3)


def test_flat_spectrum_25_hz_to_10_khz():
    """60 dB in each of the 27 bands 25 Hz - 10 kHz. With the Table 3 A values
    (-44.7, -39.4, -34.6, -30.2, -26.2, -22.5, -19.1, -16.1, -13.4, -10.9, -8.6, -6.6, -4.8,
    -3.2, -1.9, -0.8, 0.0, 0.6, 1.0, 1.2, 1.3, 1.2, 1.0, 0.5, -0.1, -1.1, -2.5):
    Σ 10^(Aᵢ/10) = 14.9066, so LA = 60 + 10·log10(14.9066) = 71.734 dBA. Each table value is
    within 0.05 dB of the exact weighting, so the exact sum is within 0.05 dB of that."""
    _, nominal = third_octave_centres()
    table_a = np.array([row[1] for row in IEC_61672_TABLE_3[4:31]])
    np.testing.assert_allclose(np.sum(10 ** (table_a / 10)), 14.9066, atol=1e-4)
    np.testing.assert_allclose(band_levels_to_laeq(np.full(27, 60.0), nominal), 71.734, atol=0.05)


def test_rows_of_a_2d_array_give_one_level_each():
    """Row 1: the 1-kHz case (60.0); row 2: +10 dB in every band (70.0); row 3: the two-band
    case (60.0526)."""
    bands = np.array([[-100.0, 60.0], [-90.0, 70.0], [60.0, 60.0]])
    result = band_levels_to_laeq(bands, [100, 1000])
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, [60.0, 70.0, 60.0526], atol=1e-3)


def test_nominal_exact_and_octave_labels_weight_alike():
    """Nominal 31.5 Hz and exact 31.62 Hz name the same band (A = -39.444 dB at 31.62 Hz);
    octave centres 63 and 125 Hz are third-octave centres too."""
    by_nominal = band_levels_to_laeq([80.0], [31.5])
    by_exact = band_levels_to_laeq([80.0], [10**1.5])
    np.testing.assert_allclose([by_nominal, by_exact], [80 - 39.444, 80 - 39.444], atol=1e-3)
    octave = band_levels_to_laeq([70.0, 70.0], [63, 125])
    np.testing.assert_allclose(
        octave, 10 * math.log10(10 ** ((70 - 26.197) / 10) + 10 ** ((70 - 16.100) / 10)), atol=1e-3
    )


def test_band_levels_reject_unknown_duplicate_or_mismatched_bands():
    with pytest.raises(ValueError, match="1100 Hz is not"):
        band_levels_to_laeq([60.0], [1100])
    with pytest.raises(ValueError, match="twice"):
        band_levels_to_laeq([60.0, 60.0], [1000, 1000])
    with pytest.raises(ValueError, match="bands"):
        band_levels_to_laeq([60.0, 60.0, 60.0], [1000, 2000])
    with pytest.raises(ValueError, match="finite"):
        band_levels_to_laeq([math.nan], [1000])
