"""Pure generator API of the Vallensbæk simulator: a site and a time range in, arrays out.

``generate(site, start, end, seed)`` returns the readings a sensor at ``site`` would send (LAeq,
LAFmax, LAFmin per interval) together with the truth behind them (road, rail and background
contributions, train pass times). No broker, no clock, no global state: the same arguments give
the same arrays. Times are Unix seconds (UTC); levels dB re 20 µPa, A-weighted.

Work is done in whole UTC days, each with its own random stream derived from ``(seed, what,
day)``, so a day's data do not depend on the requested range (``[a, c)`` equals ``[a, b)``
followed by ``[b, c)``) and memory stays at one day per call of :func:`generate_chunks`. Shared
things share a stream: every site on the same road sees the same day-to-day traffic factor,
every site by the railway the same trains. Models and formulas: :mod:`.physics`.

Example::

    site = site_by_id("kbm-25m")
    g = generate(site, 1_767_225_600, 1_767_225_600 + 3600, seed=1)
    g.laeq.shape  # (3600,)
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.sensors_sim import physics
from noiselab.sensors_sim import spectra as sim_spectra
from noiselab.sensors_sim.site_specs import Barrier, RoadSpec, Site

ContractValue = float | int | dict[str, list[float]]
ContractReading = dict[str, ContractValue]
"""A reading as the MQTT contract's JSON object."""

__all__ = [
    "ContractReading",
    "ContractValue",
    "Generated",
    "Weather",
    "generate",
    "generate_chunks",
    "readings",
]


DAY_S = 86_400
ZONE = ZoneInfo("Europe/Copenhagen")
"""Traffic profiles and timetables follow local time."""
WEEKEND_FACTOR = 0.8
"""Weekend daily flow as a share of the weekday flow (assumption)."""
DAY_FACTOR_SIGMA = 0.05
"""Day-to-day spread of a road's flow (log-normal sigma, about ±5 %), shared by its sites."""
TRAIN_DELAY_MEAN_S = 45.0
"""Mean of the exponential delay of each train against its timetable time (s)."""


@dataclass(frozen=True, slots=True)
class Generated:
    """Readings and truth for consecutive intervals starting at ``ts`` (Unix s).

    ``laeq``, ``lafmax``, ``lafmin``: what the sensor reports (dB, 0.1 dB resolution).
    ``road_laeq``: the road contribution (all the site's roads) *without* mitigation;
    ``road_mitigated_laeq``: with it (equal when no barrier; a barrier screens only the main
    road); ``rail_laeq``, ``background_laeq``: the other parts. Absent sources are ``-inf``.
    ``train_times`` (Unix s, when the middle of the train passes) and ``train_kinds`` (index
    into :data:`physics.TRAIN_KINDS`) list the pass-bys in the range.
    ``spectrum`` (only with ``spectra=True``, else ``None``): unweighted third-octave band levels
    LZeq (dB), shape ``(n, bands)`` for the bands :data:`.spectra.BANDS_HZ` (100 Hz - 5 kHz),
    whose A-weighted total is ``laeq``. With a ``weather`` series, ``background_laeq`` includes
    the wind and rain noise.
    """

    ts: FloatArray
    laeq: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    road_laeq: FloatArray
    road_mitigated_laeq: FloatArray
    rail_laeq: FloatArray
    background_laeq: FloatArray
    train_times: FloatArray
    train_kinds: IntArray
    spectrum: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class Weather:
    """A weather series: from each time ``ts[i]`` (Unix s, increasing) until the next, wind
    speed ``wind_ms[i]`` (m/s, at about 10 m) and rain rate ``rain_mm_h[i]`` (mm/h). Before the
    first time the first values hold. Raises the residual background
    (:func:`physics.weather_noise_level`); it does not change propagation."""

    ts: FloatArray
    wind_ms: FloatArray
    rain_mm_h: FloatArray

    def at(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Wind speed and rain rate in force at times ``t`` (step-wise, previous value)."""
        times = np.asarray(self.ts, dtype=np.float64)
        if times.size == 0:
            return np.zeros(t.size), np.zeros(t.size)
        i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, times.size - 1)
        wind = np.asarray(self.wind_ms, dtype=np.float64)[i]
        rain = np.asarray(self.rain_mm_h, dtype=np.float64)[i]
        return wind, rain


def _stream(seed: int, what: str, day: int) -> np.random.Generator:
    """Random stream for one UTC day (or local service day) of one thing (site, road, line)."""
    key = zlib.crc32(what.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, key, day + 2**20]))


def _as_unix(t: float | datetime) -> float:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError(f"naive datetime {t!r}: give a timezone")
        return t.timestamp()
    return float(t)


@dataclass(frozen=True, slots=True)
class _Clock:
    """Local hour (fractional) and weekend flag of every interval of one UTC day."""

    hour: FloatArray
    weekend: npt.NDArray[np.bool_]

    @classmethod
    def of_day(cls, ts: FloatArray) -> _Clock:
        utc_hour = np.floor((ts - ts[0]) / 3600.0).astype(np.int64)
        offsets = np.array(
            [_utc_offset(float(ts[0]) + 3600.0 * h) for h in range(int(utc_hour[-1]) + 1)]
        )
        local = ts + offsets[utc_hour]
        weekday = (np.floor(local / DAY_S).astype(np.int64) + 3) % 7  # 1970-01-01 a Thursday
        return cls(hour=(local % DAY_S) / 3600.0, weekend=weekday >= 5)


def _utc_offset(t: float) -> float:
    delta = datetime.fromtimestamp(t, UTC).astimezone(ZONE).utcoffset()
    return delta.total_seconds() if delta is not None else 0.0


def _road_energy(
    road: RoadSpec, *, clock: _Clock, step: float, seed: int, day: int, stream: str
) -> FloatArray:
    """Road energy per interval: hourly flows by class, Poisson pass-bys, line-source mean.
    ``stream`` names the random stream of the pass-bys (one per site and road)."""
    factor = float(np.exp(DAY_FACTOR_SIGMA * _stream(seed, road.name, day).standard_normal()))
    rng = _stream(seed, stream, day)
    hour = clock.hour.astype(np.int64) % 24
    daily = road.flow_per_day * factor * np.where(clock.weekend, WEEKEND_FACTOR, 1.0)
    fraction = np.where(clock.weekend, physics.WEEKEND_FLOW[hour], physics.WEEKDAY_FLOW[hour])
    heavy = np.where(
        clock.weekend,
        physics.heavy_share_by_hour(road.heavy_share, weekend=True)[hour],
        physics.heavy_share_by_hour(road.heavy_share, weekend=False)[hour],
    )
    flow = daily * fraction  # veh/h
    total = np.zeros(hour.size)
    for share, speed, emission in (
        (1.0 - heavy, road.speed_kmh, physics.LIGHT),
        (heavy, road.heavy_speed_kmh, physics.HEAVY),
    ):
        lw = physics.vehicle_sound_power(speed, emission)
        per_vehicle = 10.0 ** (
            physics.line_source_level(lw, 3600.0 / step, speed, road.distance_m)[()] / 10.0
        )
        kernel_ft = physics.passby_kernel_ft(road.distance_m, speed, step, hour.size)
        rate = flow * share * (step / 3600.0)
        total += physics.road_energy(rng, rate, kernel_ft, float(per_vehicle))
    return total


def _local_midnight(day_ordinal: int) -> float:
    """Unix time of the local midnight that starts local date number ``day_ordinal``."""
    date = datetime.fromordinal(day_ordinal).replace(tzinfo=ZONE)
    return date.timestamp()


def _trains(seed: int, line: str, t_start: float, t_end: float) -> tuple[FloatArray, IntArray]:
    """Pass times (Unix s) and kinds of the trains of ``line`` whose middle passes within
    ``[t_start - 600, t_end + 600)``: the local timetable of each service day plus a delay."""
    first = datetime.fromtimestamp(t_start, ZONE).toordinal() - 1
    last = datetime.fromtimestamp(t_end, ZONE).toordinal() + 1
    times: list[FloatArray] = []
    kinds: list[IntArray] = []
    for ordinal in range(first, last + 1):
        midnight = _local_midnight(ordinal)
        weekend = datetime.fromordinal(ordinal).weekday() >= 5
        at, kind = physics.timetable(weekend=weekend)
        delay = _stream(seed, f"rail:{line}", ordinal).exponential(TRAIN_DELAY_MEAN_S, at.size)
        times.append(midnight + at + delay)
        kinds.append(kind)
    t = np.concatenate(times)
    k = np.concatenate(kinds)
    keep = (t >= t_start - 600.0) & (t < t_end + 600.0)
    return t[keep], k[keep]


def _level(energy: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        result: FloatArray = 10.0 * np.log10(energy)
    return result


def _neg_inf(n: int) -> FloatArray:
    return np.full(n, -np.inf)


def _propagated(
    energy: FloatArray,
    weather: FloatArray,
    rng: np.random.Generator,
    distance_m: float,
    step: float,
) -> FloatArray:
    """``energy`` scaled by the hour-to-hour propagation change (:func:`physics.propagation_db`)."""
    own = physics.smooth_noise(rng, energy.size, step, corr_s=3600.0, sigma_db=1.0)
    result: FloatArray = energy * 10.0 ** (physics.propagation_db(weather, own, distance_m) / 10.0)
    return result


def _rail(
    site: Site, ts: FloatArray, step: float, seed: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Rail energy per interval and the trains passing within the intervals (times, kinds)."""
    if site.rail is None:
        return np.zeros(ts.size), np.zeros(0), np.zeros(0, dtype=np.int64)
    end = float(ts[-1]) + step
    times, kinds = _trains(seed, site.rail.name, float(ts[0]), end)
    energy = physics.train_energy(ts, step, times, kinds, site.rail.distance_m)
    inside = (times >= ts[0]) & (times < end)
    return energy, times[inside], kinds[inside]


def _day(
    site: Site,
    day: int,
    seed: int,
    step: float,
    barrier: Barrier | None,
    *,
    spectra: bool = False,
    weather: Weather | None = None,
) -> Generated:
    """All intervals of UTC day ``day`` (days since 1970-01-01)."""
    n = round(DAY_S / step)
    ts = day * float(DAY_S) + step * np.arange(n, dtype=np.float64)
    clock = _Clock.of_day(ts)
    rng = _stream(seed, f"site:{site.id}", day)
    bg = physics.background_level(rng, clock.hour, site.background_db, step)
    if weather is not None:
        wind, rain = weather.at(ts)
        bg = physics.level_of_energies(
            10.0 ** (bg / 10.0), physics.weather_noise_energy(wind, rain)
        )
    shared_met = physics.smooth_noise(
        _stream(seed, "weather", day), n, step, corr_s=3600.0, sigma_db=1.0
    )
    main = further = np.zeros(n)
    for i, spec in enumerate(site.roads):
        stream = f"road:{site.id}" if i == 0 else f"road:{site.id}:{i}"
        energy = _road_energy(spec, clock=clock, step=step, seed=seed, day=day, stream=stream)
        energy = _propagated(energy, shared_met, rng, spec.distance_m, step)
        if i == 0:
            main = energy
        else:
            further = further + energy
    several = len(site.roads) > 1
    road = mitigated = main + further if several else main
    if barrier is not None and site.road is not None:
        screened = ts >= barrier.installed_at
        mitigated = main * np.where(screened, 10.0 ** (-barrier.broadband_il() / 10.0), 1.0)
        mitigated = mitigated + further if several else mitigated
    rail, train_t, train_k = _rail(site, ts, step, seed)
    if site.rail is not None:
        rail = _propagated(rail, shared_met, rng, site.rail.distance_m, step)
    laeq = physics.level_of_energies(mitigated, rail, 10.0 ** (bg / 10.0))
    lafmax, lafmin = physics.fast_extremes(rng, laeq)
    road_l = _level(road) if site.road is not None else _neg_inf(n)
    spectrum = None
    if spectra:
        spectrum = _spectrum(
            main,
            further if several else None,
            rail,
            10.0 ** (bg / 10.0),
            laeq=np.round(laeq, 1),
            ts=ts,
            barrier=barrier,
        )
    return Generated(
        ts=ts,
        laeq=np.round(laeq, 1),
        lafmax=np.round(lafmax, 1),
        lafmin=np.round(lafmin, 1),
        road_laeq=road_l,
        road_mitigated_laeq=_level(mitigated) if mitigated is not road else road_l,
        rail_laeq=_level(rail) if site.rail is not None else _neg_inf(n),
        background_laeq=bg,
        train_times=train_t,
        train_kinds=train_k,
        spectrum=spectrum,
    )


def _spectrum(
    road: FloatArray,
    further: FloatArray | None,
    rail: FloatArray,
    background: FloatArray,
    *,
    laeq: FloatArray,
    ts: FloatArray,
    barrier: Barrier | None,
) -> FloatArray:
    """LZeq band levels of one day: main road (band insertion loss after the installation),
    further roads, rail and background energies spread over their normalised spectra, matched
    to the reported LAeq."""
    road_bands = sim_spectra.band_energies(road, sim_spectra.ROAD_SPECTRUM_DB)
    if barrier is not None:
        il = barrier.band_il()
        screened = ts >= barrier.installed_at
        road_bands[screened] *= 10.0 ** (-il / 10.0)[None, :]
    if further is not None:
        road_bands += sim_spectra.band_energies(further, sim_spectra.ROAD_SPECTRUM_DB)
    bands = (
        road_bands
        + sim_spectra.band_energies(rail, sim_spectra.RAIL_SPECTRUM_DB)
        + sim_spectra.band_energies(background, sim_spectra.BACKGROUND_SPECTRUM_DB)
    )
    return sim_spectra.lzeq_spectrum(bands, laeq)


def _slice(g: Generated, start: float, end: float) -> Generated:
    keep = (g.ts >= start) & (g.ts < end)
    trains = (g.train_times >= start) & (g.train_times < end)
    return Generated(
        ts=g.ts[keep],
        laeq=g.laeq[keep],
        lafmax=g.lafmax[keep],
        lafmin=g.lafmin[keep],
        road_laeq=g.road_laeq[keep],
        road_mitigated_laeq=g.road_mitigated_laeq[keep],
        rail_laeq=g.rail_laeq[keep],
        background_laeq=g.background_laeq[keep],
        train_times=g.train_times[trains],
        train_kinds=g.train_kinds[trains],
        spectrum=None if g.spectrum is None else g.spectrum[keep],
    )


def _check_rate(rate_hz: float) -> float:
    step = 1.0 / rate_hz if rate_hz > 0 else 0.0
    n = DAY_S / step if step > 0 else 0.0
    if not (0 < step <= 3600.0 and abs(n - round(n)) < 1e-9):
        raise ValueError(f"rate_hz={rate_hz}: the interval 1/rate_hz must divide a day (≤ 3600 s)")
    return step


def generate_chunks(
    site: Site,
    start: float | datetime,
    end: float | datetime,
    seed: int,
    *,
    rate_hz: float = 1.0,
    barrier: Barrier | None = None,
    spectra: bool = False,
    weather: Weather | None = None,
) -> Iterator[Generated]:
    """:func:`generate` one UTC day at a time (memory bounded by a day of arrays).

    Intervals start on the ``1/rate_hz`` grid counted from the Unix epoch, within
    ``[start, end)``. ``rate_hz`` must make ``1/rate_hz`` divide a day. ``spectra`` and
    ``weather`` as in :func:`generate`.
    """
    step = _check_rate(rate_hz)
    t0, t1 = _as_unix(start), _as_unix(end)
    if t1 < t0:
        raise ValueError(f"end {t1} is before start {t0}")
    for day in range(int(t0 // DAY_S), int(np.ceil(t1 / DAY_S))):
        g = _day(site, day, seed, step, barrier, spectra=spectra, weather=weather)
        if t0 > day * DAY_S or t1 < (day + 1) * DAY_S:
            g = _slice(g, t0, t1)
        yield g


def generate(
    site: Site,
    start: float | datetime,
    end: float | datetime,
    seed: int,
    *,
    rate_hz: float = 1.0,
    barrier: Barrier | None = None,
    spectra: bool = False,
    weather: Weather | None = None,
) -> Generated:
    """Readings and truth of ``site`` for intervals in ``[start, end)`` (Unix s or aware
    datetimes) at ``rate_hz`` readings per second, reproducible for a given ``seed``. With a
    ``barrier`` the road contribution is reduced from its installation time. For long ranges
    prefer :func:`generate_chunks` (a sensor-year of 1-s data is about 2.5 GB here).

    ``spectra=True`` adds third-octave LZeq spectra (:attr:`Generated.spectrum`, bands
    :data:`.spectra.BANDS_HZ`) consistent with ``laeq``; the barrier's insertion loss is then
    band dependent (:func:`.spectra.barrier_band_il`) with the same A-weighted total. A
    ``weather`` series raises the residual background with wind and rain. Neither changes the
    random streams: the other arrays are the same with or without them (apart from the
    background and the sums that include it, when ``weather`` is given)."""
    step_s = _check_rate(rate_hz)
    parts = list(
        generate_chunks(
            site,
            start,
            end,
            seed,
            rate_hz=rate_hz,
            barrier=barrier,
            spectra=spectra,
            weather=weather,
        )
    )
    if not parts:
        empty = _day(site, 0, seed, step_s, barrier, spectra=spectra)
        return _slice(empty, 0.0, 0.0)
    merged: dict[str, Any] = {}
    for f in Generated.__dataclass_fields__:
        values = [getattr(p, f) for p in parts]
        merged[f] = None if values[0] is None else np.concatenate(values)
    return Generated(**merged)


def readings(g: Generated, *, rate_hz: float = 1.0, first_seq: int = 0) -> list[ContractReading]:
    """The readings of ``g`` as MQTT-contract JSON objects (``ts``, ``laeq``, ``lafmax``,
    ``lafmin``, ``duration``, ``seq``, and ``spectrum`` when ``g`` carries spectra: LZeq in the
    bands of ``spectra.BANDS_HZ``, to 0.01 dB), ready to encode."""
    step = 1.0 / rate_hz
    rows: list[ContractReading] = [
        {
            "ts": float(t),
            "laeq": float(a),
            "lafmax": float(mx),
            "lafmin": float(mn),
            "duration": step,
            "seq": first_seq + i,
        }
        for i, (t, a, mx, mn) in enumerate(
            zip(g.ts.tolist(), g.laeq.tolist(), g.lafmax.tolist(), g.lafmin.tolist(), strict=True)
        )
    ]
    if g.spectrum is not None:
        bands = [float(f) for f in sim_spectra.BANDS_HZ]
        for row, levels in zip(rows, np.round(g.spectrum, 2).tolist(), strict=True):
            row["spectrum"] = {"bands_hz": bands, "lzeq": levels}
    return rows
