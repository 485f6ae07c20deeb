"""The ISO 1996-2 weather validity rule, against values worked by hand (arithmetic in each
docstring; ln 80 = 4.382027, ln 200 = 5.298317, ln 40 = 3.688879, ln 120 = 4.787492)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noiselab.analysis.weather_validity import (
    MAX_WIND_MS,
    MICROPHONE_HEIGHT_M,
    ROUGHNESS_OPEN_M,
    mm_text,
    weather_validity,
    wind_at_height,
)


def test_the_constants_are_the_standard_ones():
    assert (MAX_WIND_MS, MICROPHONE_HEIGHT_M, ROUGHNESS_OPEN_M) == (5.0, 4.0, 0.05)


def test_seven_metres_a_second_at_ten_metres_is_5_79_at_four():
    """7.0 · ln(4/0.05) / ln(10/0.05) = 7.0 · ln 80 / ln 200 = 7.0 · 4.382027 / 5.298317
    = 7.0 · 0.827060 = 5.7894 m/s."""
    np.testing.assert_allclose(wind_at_height(7.0, 10.0, 4.0), 5.7894, atol=1e-4)


def test_the_profile_at_other_heights_and_roughness():
    """6 m/s at 10 m to 2 m over z0 = 0.05: 6 · ln 40 / ln 200 = 6 · 3.688879 / 5.298317
    = 4.1774; 5 m/s at 4 m up to 12 m over z0 = 0.1: 5 · ln 120 / ln 40 = 5 · 4.787492 /
    3.688879 = 6.4891; at the reference height the speed is unchanged."""
    np.testing.assert_allclose(wind_at_height([6.0], 10.0, 2.0), [4.1774], atol=1e-4)
    np.testing.assert_allclose(wind_at_height(5.0, 4.0, 12.0, 0.1), 6.4891, atol=1e-4)
    np.testing.assert_allclose(wind_at_height([3.3, 0.0], 10.0, 10.0), [3.3, 0.0])
    with pytest.raises(ValueError, match="roughness"):
        wind_at_height(5.0, 10.0, 0.01)


def test_the_limit_at_ten_metres_is_6_05():
    """5 m/s at 4 m needs 5 · ln 200 / ln 80 = 5 · 5.298317 / 4.382027 = 6.0455 m/s at 10 m:
    6.0 m/s (6 · 0.827060 = 4.9624 at 4 m) is valid, 6.1 m/s (5.0451) is not."""
    v = weather_validity([6.0, 6.1], [0.0, 0.0])
    np.testing.assert_allclose(v.wind_ms, [4.9624, 5.0451], atol=1e-4)
    assert v.valid.tolist() == [True, False]
    assert v.reasons == ("", "wind 5.0 m/s at 4 m (6.1 m/s at 10 m)")


def test_reasons_for_wind_rain_and_both():
    """7.0 m/s → 5.79 at 4 m (invalid); 0.4 mm of rain; 8.0 m/s → 8 · 0.827060 = 6.6165 with
    0.02 mm; a calm dry minute and an unobserved one (NaN) stay valid."""
    v = weather_validity([7.0, 3.0, 8.0, 2.0, math.nan], [0.0, 0.4, 0.02, 0.0, math.nan])
    assert v.valid.tolist() == [False, False, False, True, True]
    assert v.reasons == (
        "wind 5.8 m/s at 4 m (7.0 m/s at 10 m)",
        "precipitation 0.4 mm",
        "wind 6.6 m/s at 4 m (8.0 m/s at 10 m); precipitation 0.02 mm",
        "",
        "",
    )


def test_a_station_mast_of_another_height():
    """A 2 m anemometer reading 5.2 m/s: at 4 m 5.2 · ln 80 / ln 40 = 5.2 · 4.382027 / 3.688879
    = 6.1771 m/s, invalid; the reason names both heights."""
    v = weather_validity([5.2], [0.0], anemometer_m=2.0)
    np.testing.assert_allclose(v.wind_ms, [6.1771], atol=1e-4)
    assert v.reasons == ("wind 6.2 m/s at 4 m (5.2 m/s at 2 m)",)


def test_exactly_five_at_the_microphone_is_valid_and_any_rain_is_not():
    """The limit is "above 5 m/s": 5 m/s at 4 m measured at 4 m is valid; 0.001 mm is rain."""
    v = weather_validity([5.0, 0.0], [0.0, 0.001], anemometer_m=4.0)
    assert v.valid.tolist() == [True, False]
    assert v.reasons[1] == "precipitation 0.001 mm"


def test_amounts_are_shown_without_reading_as_zero():
    assert [mm_text(x) for x in (0.4, 12.46, 0.02, 0.0049, 0.095)] == [
        "0.4",
        "12.5",
        "0.02",
        "0.0049",
        "0.1",
    ]


def test_arrays_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="1-d arrays"):
        weather_validity([1.0, 2.0], [0.0])
