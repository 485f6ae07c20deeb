"""Which measurement intervals the weather makes invalid for long-term indicators (ISO 1996-2).

ISO 1996-2:2017 (Acoustics — Description, measurement and assessment of environmental noise —
Part 2: Determination of sound pressure levels), clause 8 and annex on measurement conditions:
long-term levels are to be measured when the wind speed at the microphone is at most 5 m/s and
without precipitation, as wind on the microphone and rain on the ground and on the windscreen
add noise that is not the source's. An interval is therefore **invalid** when

- the mean wind speed at the microphone height is above :data:`MAX_WIND_MS` (5 m/s), or
- any precipitation fell in it (``precipitation > 0`` mm).

A weather station measures the wind at its anemometer (10 m above ground by WMO custom), not at
the microphone (4 m for Lden maps, Directive 2002/49/EC annex I and ISO 1996-2), so the speed is
carried down by the **logarithmic wind profile** of a neutral surface layer::

    u(z) = u(z_ref) · ln(z / z0) / ln(z_ref / z0)

with the roughness length ``z0`` = :data:`ROUGHNESS_OPEN_M` (0.05 m, open flat terrain with
grass and few obstacles: the Davenport-Wieringa classes used in WMO-No. 8, annex 5.B). Worked
value: 7.0 m/s at 10 m gives 7.0 · ln(4 / 0.05) / ln(10 / 0.05) = 7.0 · ln 80 / ln 200
= 7.0 · 4.3820 / 5.2983 = 5.79 m/s at 4 m, above 5 m/s: invalid. The 10-m speed that just
reaches the limit at 4 m is 5 · ln 200 / ln 80 = 6.05 m/s.

Pure: numpy in, numbers and text out; a missing value (NaN) never invalidates an interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import BoolArray, FloatArray

__all__ = [
    "MAX_WIND_MS",
    "MICROPHONE_HEIGHT_M",
    "ROUGHNESS_OPEN_M",
    "Validity",
    "mm_text",
    "weather_validity",
    "wind_at_height",
    "wind_text",
]

MAX_WIND_MS: Final = 5.0
"""The highest mean wind speed at the microphone for a valid interval, m/s (ISO 1996-2)."""
MICROPHONE_HEIGHT_M: Final = 4.0
"""The assessment height of Lden, m above ground (Directive 2002/49/EC annex I, ISO 1996-2)."""
ROUGHNESS_OPEN_M: Final = 0.05
"""Roughness length of open flat terrain (grass, few obstacles), m (WMO-No. 8, annex 5.B)."""


def wind_at_height(
    speed_ms: npt.ArrayLike,
    reference_m: float,
    height_m: float,
    roughness_m: float = ROUGHNESS_OPEN_M,
) -> FloatArray:
    """Mean wind speed (m/s) at ``height_m`` from ``speed_ms`` measured at ``reference_m`` by
    the logarithmic profile ``u(z) = u(z_ref)·ln(z/z0)/ln(z_ref/z0)``; heights in m above
    ground, both above ``roughness_m`` (``ValueError`` otherwise). NaN stays NaN."""
    if not (roughness_m > 0 and reference_m > roughness_m and height_m > roughness_m):
        raise ValueError(
            f"heights must be above the roughness length {roughness_m} m, "
            f"got reference {reference_m} m and height {height_m} m"
        )
    factor = math.log(height_m / roughness_m) / math.log(reference_m / roughness_m)
    result: FloatArray = np.asarray(speed_ms, dtype=np.float64) * factor
    return result


@dataclass(frozen=True, slots=True)
class Validity:
    """Per interval: ``valid`` (False where the weather invalidates it), ``wind_ms`` the mean
    wind speed carried to the microphone (m/s, NaN where not observed) and ``reasons``: ``""``
    for a valid interval, else e.g. ``"wind 5.8 m/s at 4 m (7.0 m/s at 10 m)"``,
    ``"precipitation 0.4 mm"`` or both joined by ``"; "``."""

    valid: BoolArray
    wind_ms: FloatArray
    reasons: tuple[str, ...]


def weather_validity(
    wind_speed_ms: npt.ArrayLike,
    precipitation_mm: npt.ArrayLike,
    *,
    anemometer_m: float = 10.0,
    microphone_m: float = MICROPHONE_HEIGHT_M,
    roughness_m: float = ROUGHNESS_OPEN_M,
    max_wind_ms: float = MAX_WIND_MS,
) -> Validity:
    """Validity of each interval from its mean wind speed at the anemometer (m/s, at
    ``anemometer_m``) and its precipitation (mm); NaN means not observed. Invalid when the wind
    carried to ``microphone_m`` (:func:`wind_at_height`) is above ``max_wind_ms`` or the
    precipitation is above 0 (see the module docstring)."""
    wind = np.asarray(wind_speed_ms, dtype=np.float64)
    rain = np.asarray(precipitation_mm, dtype=np.float64)
    if wind.shape != rain.shape or wind.ndim != 1:
        raise ValueError(f"expected two 1-d arrays of one length, got {wind.shape}, {rain.shape}")
    at_mic = wind_at_height(wind, anemometer_m, microphone_m, roughness_m)
    windy = at_mic > max_wind_ms  # NaN compares False: not observed is not invalid
    wet = rain > 0.0
    wind_words = [
        wind_text(float(m), microphone_m, float(u), anemometer_m) if w else ""
        for w, m, u in zip(windy, at_mic, wind, strict=True)
    ]
    rain_words = [
        f"precipitation {mm_text(float(p))} mm" if r else "" for r, p in zip(wet, rain, strict=True)
    ]
    reasons = tuple(
        "; ".join(filter(None, pair)) for pair in zip(wind_words, rain_words, strict=True)
    )
    valid: BoolArray = ~(windy | wet)
    return Validity(valid=valid, wind_ms=at_mic, reasons=reasons)


def wind_text(at_mic: float, microphone_m: float, at_ref: float, anemometer_m: float) -> str:
    """``"wind 5.8 m/s at 4 m (7.0 m/s at 10 m)"``: speeds to 0.1 m/s, heights as given."""
    return f"wind {at_mic:.1f} m/s at {microphone_m:g} m ({at_ref:.1f} m/s at {anemometer_m:g} m)"


def mm_text(amount_mm: float) -> str:
    """A precipitation amount for a reason text: 0.1 mm steps from 0.1 mm (``"0.4"``,
    ``"12.5"``), two significant digits below (``"0.02"``), so a trace never reads as 0."""
    return f"{amount_mm:.1f}" if amount_mm >= 0.095 else f"{amount_mm:.2g}"
