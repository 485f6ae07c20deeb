"""Physical models of the simulated Vallensbæk sensors: road traffic, rail, background.

Pure numpy: arrays in, arrays out; no I/O, no clocks, no global random state (every random draw
comes from a ``numpy.random.Generator`` passed in). Levels are A-weighted sound pressure levels
in dB re 20 µPa; "energy" means ``10^(L/10)`` (relative mean-square pressure). Speeds are in
km/h where named ``*_kmh``, distances in metres, times in seconds.

**Road** (:func:`vehicle_sound_power`, :func:`line_source_level`, :func:`road_energy`). Each
vehicle class has a sound power level ``LW = A + B·log10(v/70)`` (a simplified, single-number
A-weighted form of the CNOSSOS-EU road emission, Commission Directive (EU) 2015/996, Annex II,
§2.2.2, which gives per-octave-band coefficients for rolling and propulsion noise; the A and B
here are rounded illustrative totals, not the directive's tables). A flow of ``Q`` veh/h at
``v`` km/h is a line of incoherent point sources with ``Q/(1000·v)`` vehicles per metre, so a
sound power per metre ``LW' = LW + 10·log10(Q/(1000·v))``. Integrating point sources along an
infinite line at perpendicular distance ``d`` gives ``I = W'/(4d)`` in free space, i.e.
``L = LW' - 10·log10(d) - 6``; we use ``L = LW' - 10·log10(d) - 8 - a_air·d``: the extra 2 dB stand
for the net ground effect over soft ground and the spread of the lanes (0 dB over hard ground
would give -3), and ``a_air`` = 0.005 dB/m is air absorption near 1 kHz (ISO 9613-1, 20 °C, 70 %
RH). The level falls 3 dB per doubling of distance (plus air absorption). Second-to-second
fluctuation is a Poisson shot noise: vehicles arrive at random (Poisson) with the hourly flow,
and each passes with the point-source intensity ``∝ 1/(d² + (v·t)²)``, so a dense flow gives a
steady level and a sparse night flow single audible pass-bys.

**Rail** (:func:`timetable`, :func:`train_energy`). A train of length ``l`` at speed ``v`` is a
finite moving line source with ``LW' = A_kind + 30·log10(v/100)`` per metre (rolling noise grows
about 30 dB per decade of speed; CNOSSOS-EU Annex II §2.3). With the train's front at ``x``
along the track, ``I(x) = I∞·[atan(x/d) - atan((x-l)/d)]/π`` where ``I∞`` is the level of an
infinitely long train by the road relation above. Hence ``SEL = L∞ + 10·log10(l/v)`` and
``Lmax = L∞ + 10·log10((2/π)·atan(l/(2d)))``.

**Propagation** (:func:`propagation_db`): wind and temperature gradients change the attenuation
from hour to hour, more at larger distances; a slow random term in dB, part shared by all sites
(the weather), part per site, scales the road and rail energies without changing their mean.

**Background**: a residual of ``base ± 3.5`` dB with a diurnal cycle (lowest about 03:00 local,
highest about 15:00) and a slow random drift, added energetically to the sources. Optional
wind and rain noise (:func:`weather_noise_energy`, plausible assumptions) add to it.

Formulas, sources and limits in full: ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray

__all__ = [
    "AIR_ABSORPTION_DB_PER_M",
    "HEAVY",
    "LIGHT",
    "TRAIN_KINDS",
    "WEEKDAY_FLOW",
    "WEEKEND_FLOW",
    "TrainKind",
    "VehicleEmission",
    "background_level",
    "fast_extremes",
    "heavy_share_by_hour",
    "level_of_energies",
    "line_source_level",
    "passby_kernel",
    "passby_kernel_ft",
    "propagation_db",
    "propagation_sigma_db",
    "road_energy",
    "smooth_noise",
    "timetable",
    "train_energy",
    "train_level_infinite",
    "train_lmax",
    "train_sel",
    "vehicle_sound_power",
    "weather_noise_energy",
]


AIR_ABSORPTION_DB_PER_M = 0.005
"""Air absorption (dB/m) near 1 kHz at 20 °C, 70 % RH (ISO 9613-1:1993, Table 1: ~5 dB/km)."""

LINE_EXCESS_DB = 2.0
"""Excess attenuation (dB) of the simplified line source beyond free-field spreading (soft
ground, lane spread); makes the constant -8 dB in ``L = LW' - 10·log10(d) - 8``."""


@dataclass(frozen=True, slots=True)
class VehicleEmission:
    """``LW = a_db + b_db·log10(v/70)``: A-weighted sound power level (dB re 1 pW) per vehicle
    at speed v (km/h). Simplified from CNOSSOS-EU (Directive (EU) 2015/996, Annex II)."""

    a_db: float
    b_db: float


LIGHT = VehicleEmission(a_db=101.5, b_db=33.0)
"""Category 1 (light vehicles): about 101.5 dB(A) at 70 km/h, rolling noise dominated at
motorway speeds (hence the steep speed slope). Rounded, illustrative."""

HEAVY = VehicleEmission(a_db=108.5, b_db=24.0)
"""Category 3 (heavy vehicles): about 7 dB above a light vehicle at 70 km/h, flatter speed
dependence (propulsion noise matters). Rounded, illustrative."""

# Share of the daily flow in each local hour 0-23 (fractions, normalised below). Weekdays have a
# morning peak (07-08) and a broader afternoon peak (15-17) and a night trough; weekend days a
# late-morning-to-afternoon plateau and about 80 % of the weekday total (the factor is applied in
# the generator). Shaped after Danish motorway count profiles (Vejdirektoratet), rounded.
_WEEKDAY = np.array(
    [
        0.8,
        0.5,
        0.4,
        0.4,
        0.7,
        2.0,
        5.0,
        7.2,
        7.0,
        5.6,
        5.0,
        5.0,
        5.2,
        5.4,
        6.0,
        7.0,
        7.4,
        7.0,
        5.6,
        4.2,
        3.2,
        2.6,
        2.0,
        1.4,
    ]
)
_WEEKEND = np.array(
    [
        1.4,
        1.0,
        0.7,
        0.5,
        0.5,
        0.8,
        1.5,
        2.6,
        4.0,
        5.4,
        6.5,
        7.0,
        7.2,
        7.2,
        7.1,
        7.0,
        6.8,
        6.4,
        5.6,
        4.6,
        3.8,
        3.2,
        2.6,
        2.0,
    ]
)
WEEKDAY_FLOW: FloatArray = _WEEKDAY / _WEEKDAY.sum()
"""Fraction of a weekday's traffic in each local hour (sums to 1)."""
WEEKEND_FLOW: FloatArray = _WEEKEND / _WEEKEND.sum()
"""Fraction of a weekend day's traffic in each local hour (sums to 1)."""


def heavy_share_by_hour(base_share: float, *, weekend: bool) -> FloatArray:
    """Heavy-vehicle share (0..1) per local hour: ``base_share`` by day, up to 1.8 times it at
    night (lorries run through the night while cars do not), half of it on weekends."""
    hour = np.arange(24)
    night = np.where((hour < 5) | (hour >= 22), 1.8, 1.0)
    share = base_share * night * (0.5 if weekend else 1.0)
    return np.clip(share, 0.0, 0.6)


def vehicle_sound_power(speed_kmh: float, emission: VehicleEmission) -> float:
    """Sound power level (dB(A) re 1 pW) of one vehicle: ``LW = A + B·log10(v/70)``."""
    if speed_kmh <= 0:
        raise ValueError(f"speed must be positive, got {speed_kmh} km/h")
    return emission.a_db + emission.b_db * float(np.log10(speed_kmh / 70.0))


def line_source_level(
    lw_db: float,
    flow_per_h: npt.ArrayLike,
    speed_kmh: float,
    distance_m: float,
) -> FloatArray:
    """LAeq (dB) at ``distance_m`` of a traffic flow as an incoherent line source.

    ``L = LW + 10·log10(Q/(1000·v)) - 10·log10(d) - 8 - a_air·d`` with ``Q`` in veh/h, ``v`` in km/h
    (``Q/(1000·v)`` = vehicles per metre), ``d`` in m, a_air = :data:`AIR_ABSORPTION_DB_PER_M`; see
    the module docstring for the derivation. Example: 1000 veh/h of 100 dB vehicles at 100 km/h
    give ``LW' = 80`` dB/m and, at 10 m, ``80 - 10 - 8 - 0.05 = 61.95`` dB. Zero flow gives -inf.
    """
    if distance_m <= 0:
        raise ValueError(f"distance must be positive, got {distance_m} m")
    q = np.asarray(flow_per_h, dtype=np.float64)
    with np.errstate(divide="ignore"):
        per_metre = lw_db + 10.0 * np.log10(q / (1000.0 * speed_kmh))
    spreading = 10.0 * np.log10(distance_m) + 6.0 + LINE_EXCESS_DB
    result: FloatArray = per_metre - spreading - AIR_ABSORPTION_DB_PER_M * distance_m
    return result


@lru_cache(maxsize=256)
def passby_kernel_ft(
    distance_m: float, speed_kmh: float, step_s: float, n: int
) -> npt.NDArray[np.complex128]:
    """``rfft`` of :func:`passby_kernel` (cached: the generator reuses it every day)."""
    result: npt.NDArray[np.complex128] = np.fft.rfft(
        passby_kernel(distance_m, speed_kmh, step_s, n)
    )
    return result


def passby_kernel(distance_m: float, speed_kmh: float, step_s: float, n: int) -> FloatArray:
    """Share of one pass-by's energy in each interval, as a length-``n`` circular kernel.

    A point source at speed ``v`` passing at distance ``d`` gives ``I(t) ∝ 1/(d² + v²t²)``; its
    integral over an interval ``[t0, t1]`` is ``∝ atan(v·t1/d) - atan(v·t0/d)``. Interval ``j``
    covers ``[(j - ½)·step, (j + ½)·step]`` around the closest approach (index 0, negative
    ``j`` wrapped to the end). Cut at ±300·d/v (0.2 % of the energy) and normalised to sum 1.
    """
    v = speed_kmh / 3.6
    half = min(int(np.ceil(300.0 * distance_m / v / step_s)), (n - 1) // 2)
    j = np.arange(-half, half + 1, dtype=np.float64)
    w = np.arctan(v * (j + 0.5) * step_s / distance_m) - np.arctan(
        v * (j - 0.5) * step_s / distance_m
    )
    kernel = np.zeros(n)
    kernel[np.arange(-half, half + 1) % n] = w / w.sum()
    return kernel


def road_energy(
    rng: np.random.Generator,
    rate_per_step: FloatArray,
    kernel_ft: npt.NDArray[np.complex128],
    energy_per_vehicle: float,
) -> FloatArray:
    """Energy series (``10^(L/10)`` per interval) of one vehicle class as Poisson shot noise.

    ``rate_per_step`` is the expected number of vehicles passing in each interval (flow times
    step), ``kernel_ft`` the :func:`passby_kernel_ft` of the same length, and
    ``energy_per_vehicle`` the mean energy one vehicle adds to one interval's level averaged
    over a long time, i.e. ``10^(L_line/10) / rate`` for any rate. Counts
    ``N_i ~ Poisson(rate_i)`` are spread by the kernel with a circular FFT convolution (the
    chunk wraps around: the generator uses whole UTC days, so midnight meets midnight). The
    expected value equals the line-source energy; the result is floored 60 dB below the mean so
    that a gap in the traffic is quiet but finite.
    """
    counts = rng.poisson(rate_per_step).astype(np.float64)
    spread = np.fft.irfft(np.fft.rfft(counts) * kernel_ft, n=counts.size)
    floor = 1e-6 * float(np.mean(rate_per_step))  # -60 dB re the mean: no -inf in gaps
    return np.maximum(spread, floor) * energy_per_vehicle


@dataclass(frozen=True, slots=True)
class TrainKind:
    """A class of train: ``length_m``, running ``speed_kmh`` and the A-weighted sound power per
    metre of train at 100 km/h, ``a_db`` (dB re 1 pW/m); ``LW' = a_db + 30·log10(v/100)``."""

    name: str
    length_m: float
    speed_kmh: float
    a_db: float


TRAIN_KINDS: tuple[TrainKind, ...] = (
    TrainKind("regional", 160.0, 180.0, 102.0),
    TrainKind("intercity", 240.0, 200.0, 103.0),
    TrainKind("freight", 600.0, 100.0, 112.0),
)
"""Regional and intercity trains (disc brakes), and freight with cast-iron block brakes, about
10 dB louder than modern stock at equal speed. With these, at
25 m an intercity at 200 km/h peaks near 89 dB and a freight train at 100 km/h near 91 dB."""


def train_level_infinite(kind: TrainKind, distance_m: float) -> float:
    """LAeq (dB) at ``distance_m`` beside an infinitely long train of ``kind``: the line
    relation ``L∞ = LW' - 10·log10(d) - 8 - a_air·d`` with ``LW' = a + 30·log10(v/100)``."""
    lw_per_m = kind.a_db + 30.0 * float(np.log10(kind.speed_kmh / 100.0))
    return float(line_source_level(lw_per_m, 1000.0, 1.0, distance_m))


def train_sel(kind: TrainKind, distance_m: float) -> float:
    """Sound exposure level (dB) of one pass-by: ``SEL = L∞ + 10·log10(l/v)``, v in m/s."""
    return train_level_infinite(kind, distance_m) + 10.0 * float(
        np.log10(kind.length_m / (kind.speed_kmh / 3.6))
    )


def train_lmax(kind: TrainKind, distance_m: float) -> float:
    """Maximum pass-by level (dB, slow-varying envelope): ``L∞ + 10·log10((2/π)·atan(l/2d))``."""
    share = 2.0 / np.pi * np.arctan(kind.length_m / (2.0 * distance_m))
    return train_level_infinite(kind, distance_m) + 10.0 * float(np.log10(share))


def _atan_antiderivative(x: FloatArray, d: float) -> FloatArray:
    """``∫ atan(x/d) dx = x·atan(x/d) - (d/2)·ln(d² + x²)``."""
    result: FloatArray = x * np.arctan(x / d) - 0.5 * d * np.log(d * d + x * x)
    return result


def _mean_atan(a: FloatArray, b: FloatArray, d: float) -> FloatArray:
    """Mean of ``atan(x/d)`` over ``[a, b]`` (element-wise, ``b > a``)."""
    result: FloatArray = (_atan_antiderivative(b, d) - _atan_antiderivative(a, d)) / (b - a)
    return result


def train_energy(
    t0: FloatArray,
    step_s: float,
    centres: FloatArray,
    kinds: IntArray,
    distance_m: float,
    *,
    window_s: float = 300.0,
) -> FloatArray:
    """Energy (``10^(L/10)``) of train pass-bys in each interval ``[t0, t0 + step)``.

    ``centres`` are the times (s) the middle of each train passes the receiver, ``kinds``
    indexes :data:`TRAIN_KINDS`. The finite-line intensity ``I∞·[atan(x/d) - atan((x-l)/d)]/π``
    (front at ``x = v·(t - centre) + l/2``) is averaged exactly over each interval with the
    antiderivative of ``atan``; contributions more than ``window_s`` from the centre are
    dropped. ``t0`` must be evenly spaced by ``step_s``.
    """
    energy = np.zeros(t0.size)
    if t0.size == 0 or centres.size == 0:
        return energy
    n_win = int(np.ceil(window_s / step_s))
    offsets = np.arange(-n_win, n_win + 1)
    for k, kind in enumerate(TRAIN_KINDS):
        mine = centres[kinds == k]
        if mine.size == 0:
            continue
        v = kind.speed_kmh / 3.6
        first = np.floor((mine - t0[0]) / step_s).astype(np.int64)
        idx = first[:, None] + offsets[None, :]
        start = t0[0] + idx * step_s - mine[:, None]
        x0 = v * start + kind.length_m / 2.0
        x1 = x0 + v * step_s
        near = _mean_atan(x0, x1, distance_m)
        far = _mean_atan(x0 - kind.length_m, x1 - kind.length_m, distance_m)
        mean_share = (near - far) / np.pi
        e_inf = 10.0 ** (train_level_infinite(kind, distance_m) / 10.0)
        inside = (idx >= 0) & (idx < t0.size)
        np.add.at(energy, idx[inside], np.maximum(mean_share[inside], 0.0) * e_inf)
    return energy


def timetable(*, weekend: bool) -> tuple[FloatArray, IntArray]:
    """Scheduled pass times (s after local midnight) and kinds (index into :data:`TRAIN_KINDS`)
    of one service day, both directions, sorted by time.

    Weekdays 05-24 h: regional at :07, :22, :37, :52 and intercity at :14, :29, :44, :59 (two
    per hour each way, 8/h); weekend regional only at :07 and :37. Freight (``freight``) once
    an hour each way (:03, :33) from 22 to 06 h and at 10, 14 and 19 h: mostly at night.
    At most 10 trains an hour, within the line's capacity of 24.
    """
    times: list[float] = []
    kinds: list[int] = []
    regional = (7, 37) if weekend else (7, 22, 37, 52)
    intercity = () if weekend else (14, 29, 44, 59)
    for hour in range(24):
        if hour >= 5:
            for minute, kind in [(m, 0) for m in regional] + [(m, 1) for m in intercity]:
                times.append(hour * 3600.0 + minute * 60.0)
                kinds.append(kind)
        if hour >= 22 or hour < 6 or hour in {10, 14, 19}:
            for minute in (3, 33):
                times.append(hour * 3600.0 + minute * 60.0)
                kinds.append(2)
    order = np.argsort(times, kind="stable")
    return np.asarray(times)[order], np.asarray(kinds, dtype=np.int64)[order]


def background_level(
    rng: np.random.Generator, local_hour: FloatArray, base_db: float, step_s: float
) -> FloatArray:
    """Residual level (dB): ``base - 3.5·cos(2π·(h - 3)/24)`` (lowest at 03 h, highest at 15 h,
    local time ``h`` in fractional hours) plus a slow drift (:func:`smooth_noise`, sigma 1.5 dB
    over ~10 min) plus 0.5 dB interval-to-interval noise."""
    diurnal = base_db - 3.5 * np.cos(2.0 * np.pi * (local_hour - 3.0) / 24.0)
    drift = smooth_noise(rng, local_hour.size, step_s, corr_s=600.0, sigma_db=1.5)
    result: FloatArray = diurnal + drift + 0.5 * rng.standard_normal(local_hour.size)
    return result


RAIN_NOISE_DB = 43.0
"""LAeq (dB) of rain noise at 1 mm/h near the microphone (ground, foliage, windscreen);
+10 dB per decade of rain rate. A plausible assumption, not a measured relation."""
WIND_NOISE_DB = 35.0
"""LAeq (dB) of wind-induced noise (foliage and microphone windscreen) at 5 m/s; rises
``50·log10(v/5)`` (about 15 dB per doubling), i.e. 50 dB at 10 m/s. A plausible assumption."""
WIND_THRESHOLD_MS = 2.0
"""Below this wind speed (m/s) wind adds no noise."""


def weather_noise_energy(wind_ms: FloatArray, rain_mm_h: FloatArray) -> FloatArray:
    """Energy (``10^(L/10)``) that wind and rain add to the residual background:
    ``L_rain = RAIN_NOISE_DB + 10·log10(R / 1 mm/h)`` for ``R > 0`` and
    ``L_wind = WIND_NOISE_DB + 50·log10(v / 5 m/s)`` for ``v ≥ WIND_THRESHOLD_MS`` (plausible
    assumptions; see :data:`RAIN_NOISE_DB`, :data:`WIND_NOISE_DB`)."""
    wind = np.asarray(wind_ms, dtype=np.float64)
    rain = np.asarray(rain_mm_h, dtype=np.float64)
    rain_e = np.where(rain > 0, 10.0 ** (RAIN_NOISE_DB / 10.0) * np.maximum(rain, 0.0), 0.0)
    with np.errstate(divide="ignore"):
        ratio = np.maximum(wind, 1e-9) / 5.0
    wind_e = np.where(wind >= WIND_THRESHOLD_MS, 10.0 ** (WIND_NOISE_DB / 10.0) * ratio**5.0, 0.0)
    result: FloatArray = rain_e + wind_e
    return result


def propagation_sigma_db(distance_m: float) -> float:
    """Standard deviation (dB) of hour-to-hour propagation changes (wind, temperature gradient)
    at ``distance_m``: ``0.5·log2(1 + d/25)``, 0.5 dB at 25 m, 1.4 dB at 150 m. An assumption
    shaped after the growth of meteorological variation with distance (ISO 9613-2 §8, C_met)."""
    return 0.5 * float(np.log2(1.0 + distance_m / 25.0))


def propagation_db(shared: FloatArray, own: FloatArray, distance_m: float) -> FloatArray:
    """Propagation change (dB) at ``distance_m`` from unit-variance slow noises: ``shared`` (the
    weather all sites see) and ``own`` (this path), weighted 0.8 and 0.6 of
    :func:`propagation_sigma_db` (total variance sigma²). The mean ``-sigma²·ln(10)/20`` makes
    the mean energy factor exactly 1, so the long-term LAeq stays the line-source value."""
    sigma = propagation_sigma_db(distance_m)
    result: FloatArray = sigma * (0.8 * shared + 0.6 * own) - sigma**2 * np.log(10.0) / 20.0
    return result


def smooth_noise(
    rng: np.random.Generator, n: int, step_s: float, *, corr_s: float, sigma_db: float
) -> FloatArray:
    """Slowly varying Gaussian noise (standard deviation ``sigma_db``) for ``n`` intervals of
    ``step_s``: white noise on a 1-min grid smoothed by a circular Gaussian kernel of width
    ``corr_s`` (s) and linearly interpolated to the intervals."""
    if n == 0:
        return np.zeros(0)
    coarse_step = max(60.0, step_s)
    m = max(int(np.ceil(n * step_s / coarse_step)), 1)
    smooth = _gaussian_ft(m, corr_s / coarse_step)
    drift = np.fft.irfft(np.fft.rfft(rng.standard_normal(m)) * smooth, n=m)
    fine = np.interp(np.arange(n) * (step_s / coarse_step), np.arange(m), drift, period=m)
    result: FloatArray = sigma_db * fine
    return result


@lru_cache(maxsize=64)
def _gaussian_ft(m: int, sigma: float) -> npt.NDArray[np.complex128]:
    """rfft of a circular Gaussian kernel of length ``m`` scaled so that smoothed unit white
    noise keeps unit standard deviation."""
    lag = np.minimum(np.arange(m), m - np.arange(m)).astype(np.float64)
    gauss = np.exp(-0.5 * (lag / max(sigma, 1e-9)) ** 2)
    gauss /= np.sqrt(np.sum(gauss**2))
    result: npt.NDArray[np.complex128] = np.fft.rfft(gauss)
    return result


def level_of_energies(*energies: FloatArray) -> FloatArray:
    """Level (dB) of energies added: ``10·log10(Σ Eᵢ)``."""
    total = np.sum(np.stack(energies), axis=0)
    result: FloatArray = 10.0 * np.log10(total)
    return result


def fast_extremes(rng: np.random.Generator, laeq: FloatArray) -> tuple[FloatArray, FloatArray]:
    """LAFmax and LAFmin (dB) of 1-s intervals from their LAeq series.

    Within one interval the fast (125 ms) level swings more where the level is changing: both
    depart from LAeq by ``0.2 + 0.6·|ΔL| + X`` dB, ``|ΔL|`` the larger step to a neighbour
    interval and ``X`` exponential with mean 0.3 dB. Guarantees ``LAFmin < LAeq < LAFmax``.
    """
    step = np.abs(np.diff(laeq, prepend=laeq[:1], append=laeq[-1:]))
    swing = 0.2 + 0.6 * np.maximum(step[:-1], step[1:])
    up = swing + rng.exponential(0.3, laeq.size)
    down = swing + rng.exponential(0.3, laeq.size)
    return laeq + up, laeq - down
