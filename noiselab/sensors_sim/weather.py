"""The simulated weather of Vallensbæk: one station, ``vb-weather``, whose per-minute wind and
rain are also what the noise model adds as wind and rain noise (:func:`physics.
weather_noise_energy`), so the loud windy and rainy minutes are the ones its observations make
invalid (ISO 1996-2; :mod:`noiselab.analysis.weather_validity`).

Per UTC day (pure: the same seed and day give the same weather, whether backfilled or live):

- wind at the 10 m anemometer: a diurnal swing (calmest before dawn, windiest mid-afternoon,
  3 ± 1.5 m/s) plus a slow random drift (standard deviation 1 m/s, about 2 h correlation),
  and on every other day (and on others with probability 0.3) a gale front of 2-5 h adding
  5-8 m/s at its peak: above 6.05 m/s at 10 m the wind at a 4 m microphone passes 5 m/s;
- rain: 1 to 3 showers a day of 10-90 min at 0.3-4 mm/h;
- temperature: 8 ± 4 °C, warmest at 15:00 UTC.

Plausible assumptions for a coastal Danish autumn, not climatology. Values are rounded as the
station reports them (wind to 0.1 m/s, a minute's precipitation to 0.01 mm, a minute without
rounding to 0.01 mm counting as dry), and the noise model is given those same rounded values.
"""

from __future__ import annotations

import math
import zlib
from typing import Final, TypedDict

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.sensors_sim import physics
from noiselab.sensors_sim.generate import DAY_S, Weather

__all__ = [
    "STATION_HEIGHT_M",
    "STATION_ID",
    "STATION_LAT",
    "STATION_LON",
    "STATION_NAME",
    "DayWeather",
    "Observation",
    "day_weather",
    "observations",
    "weather_between",
]

STATION_ID: Final = "vb-weather"
STATION_NAME: Final = "Vallensbæk weather mast (simulated)"
STATION_LAT: Final = 55.6235
STATION_LON: Final = 12.3840
STATION_HEIGHT_M: Final = 10.0
_STEP_S: Final = 60.0
_MINUTES: Final = 1440


class Observation(TypedDict):
    """One observation as the MQTT contract's JSON object."""

    ts: float
    duration: float
    wind_speed: float
    wind_gust: float
    wind_direction: float
    precipitation: float
    temperature: float


class DayWeather(TypedDict):
    """One UTC day of minutes: starts (Unix s) and the values of each minute."""

    ts: FloatArray
    wind_ms: FloatArray
    gust_ms: FloatArray
    direction: FloatArray
    rain_mm: FloatArray
    temperature: FloatArray


def _rng(seed: int, day: int) -> np.random.Generator:
    key = zlib.crc32(b"weather-station")
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, key, day + 2**21]))


def day_weather(seed: int, day: int) -> DayWeather:
    """The minutes of UTC day ``day`` (days since 1970-01-01)."""
    rng = _rng(seed, day)
    ts = day * float(DAY_S) + _STEP_S * np.arange(_MINUTES, dtype=np.float64)
    hour = (ts - day * float(DAY_S)) / 3600.0
    wind = 3.0 + 1.5 * np.sin(2 * np.pi * (hour - 9.0) / 24.0)
    wind = wind + physics.smooth_noise(rng, _MINUTES, _STEP_S, corr_s=7200.0, sigma_db=1.0)
    gale = (day + seed) % 2 == 0 or rng.random() < 0.3
    if gale:
        centre, width = rng.uniform(3.0, 21.0), rng.uniform(2.0, 5.0)
        peak = rng.uniform(5.0, 8.0)
        wind = wind + peak * np.exp(-0.5 * ((hour - centre) / (width / 2.5)) ** 2)
    wind = np.round(np.clip(wind, 0.0, 40.0), 1).astype(np.float64)
    rain_mm_h = np.zeros(_MINUTES)
    for _ in range(1 + int(rng.integers(0, 3))):
        start = int(rng.integers(0, _MINUTES - 10))
        length = int(rng.integers(10, 91))
        rain_mm_h[start : start + length] = rng.uniform(0.3, 4.0)
    rain_mm = np.round(rain_mm_h / 60.0, 2)
    gust = np.round(wind * rng.uniform(1.3, 1.6, _MINUTES), 1)
    direction = np.round(240.0 + 40.0 * np.sin(2 * np.pi * hour / 24.0)).astype(np.float64)
    temperature = np.round(8.0 + 4.0 * np.sin(2 * np.pi * (hour - 9.0) / 24.0), 1)
    return DayWeather(
        ts=ts,
        wind_ms=wind,
        gust_ms=np.maximum(gust, wind),
        direction=direction,
        rain_mm=rain_mm,
        temperature=temperature,
    )


def weather_between(seed: int, start: float, end: float) -> Weather:
    """The noise model's :class:`~noiselab.sensors_sim.generate.Weather` over the whole UTC
    days covering ``[start, end)`` (Unix s): the station's reported wind (m/s at 10 m) and its
    reported precipitation as a rate (mm/h)."""
    days = range(
        math.floor(start / DAY_S), max(math.ceil(end / DAY_S), math.floor(start / DAY_S) + 1)
    )
    parts = [day_weather(seed, d) for d in days]
    return Weather(
        ts=np.concatenate([p["ts"] for p in parts]),
        wind_ms=np.concatenate([p["wind_ms"] for p in parts]),
        rain_mm_h=np.concatenate([p["rain_mm"] for p in parts]) * (3600.0 / _STEP_S),
    )


def observations(seed: int, start: float, end: float) -> list[Observation]:
    """The station's observations of the minutes starting in ``[start, end)`` (Unix s) as
    contract objects (``ts``, ``duration`` 60 s, wind, gust, direction, precipitation,
    temperature)."""
    found: list[Observation] = []
    for day in range(math.floor(start / DAY_S), math.ceil(end / DAY_S)):
        w = day_weather(seed, day)
        inside = (w["ts"] >= start) & (w["ts"] < end)
        for i in np.flatnonzero(inside).tolist():
            found.append(
                Observation(
                    ts=float(w["ts"][i]),
                    duration=_STEP_S,
                    wind_speed=float(w["wind_ms"][i]),
                    wind_gust=float(w["gust_ms"][i]),
                    wind_direction=float(w["direction"][i]),
                    precipitation=float(w["rain_mm"][i]),
                    temperature=float(w["temperature"][i]),
                )
            )
    return found
