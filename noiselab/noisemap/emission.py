"""Sound power per metre of each line source and group, hour by hour, from the simulator's
traffic and rail assumptions (imported from :mod:`noiselab.sensors_sim`, not copied).

Units: sound power levels per metre ``LW'`` in dB re 1 pW/m, A-weighted; energy means
``10^(L/10)``; flows in vehicles/h, speeds in km/h; hours are local clock hours 0-23
(Europe/Copenhagen for the default sites); ``weekend`` selects the weekend profiles.

**Road**: hour ``h`` carries ``Q = AADT · f(h)`` vehicles (``f`` =
:data:`~noiselab.sensors_sim.physics.WEEKDAY_FLOW` or, times the simulator's weekend factor,
:data:`~noiselab.sensors_sim.physics.WEEKEND_FLOW`), a share ``p(h)`` heavy
(:func:`~noiselab.sensors_sim.physics.heavy_share_by_hour`). Each class is a line of
``Q/(1000·v)`` vehicles per metre, each of sound power ``LW(v)``
(:func:`~noiselab.sensors_sim.physics.vehicle_sound_power`), so
``LW' = 10·log10(Σ_class 10^(LW/10) · Q_class/(1000·v_class))``.

**Rail**: a train of length ``l`` (m) at ``v`` (m/s) with ``LW'_train`` per metre covers each
metre of track for ``l/v`` seconds, so ``n`` trains in an hour give the time-averaged
``LW' = 10·log10(Σ_trains 10^(LW'_train/10) · l/(3600·v))`` (both directions of the
simulator's :func:`~noiselab.sensors_sim.physics.timetable`, kinds
:data:`~noiselab.sensors_sim.physics.TRAIN_KINDS`), times ``service_factor``.

**Reference and offsets**: a basic map is computed with each line at its *reference* power,
the energetic mean over a week (5 weekdays, 2 weekend days: 168 hours). For a period, a
group's *offset* is ``10·log10(Σ_lines l·mean_hours(E(h)) / Σ_lines l·E_ref)`` (l the line's
length, ``E = 10^(LW'/10)``): exact when the group's lines share one daily profile (as here),
a length-weighted approximation otherwise. ``basic map + offset`` is the unscaled model of the
period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from noiselab.analysis.arrays import BoolArray, FloatArray, IntArray
from noiselab.analysis.buckets import DEFAULT_ZONE
from noiselab.noisemap.geometry import LocalProjection
from noiselab.noisemap.sources import LineSource, RailTraffic, RoadTraffic
from noiselab.sensors_sim import physics
from noiselab.sensors_sim.generate import WEEKEND_FACTOR

__all__ = [
    "PeriodHours",
    "group_offsets_db",
    "hourly_lw",
    "period_hours",
    "rail_lw",
    "reference_lw",
    "road_lw",
]

ZONE = DEFAULT_ZONE
"""Local time of the traffic profiles and timetables (the simulator's)."""


def road_lw(traffic: RoadTraffic, *, weekend: bool) -> FloatArray:
    """``LW'`` (dB re 1 pW/m) of a road for each local hour 0-23, shape ``(24,)``; zero flow
    gives ``-inf``. Example: 140,000 veh/day, 8 % heavy, 110/80 km/h, weekday 07-08 h."""
    profile = physics.WEEKEND_FLOW if weekend else physics.WEEKDAY_FLOW
    flow = traffic.aadt * (WEEKEND_FACTOR if weekend else 1.0) * profile  # veh/h
    heavy = physics.heavy_share_by_hour(traffic.heavy_share, weekend=weekend)
    energy = np.zeros(24)
    for share, speed, emission in (
        (1.0 - heavy, traffic.speed_kmh, physics.LIGHT),
        (heavy, traffic.heavy_speed_kmh, physics.HEAVY),
    ):
        lw = physics.vehicle_sound_power(speed, emission)
        energy += 10.0 ** (lw / 10.0) * flow * share / (1000.0 * speed)
    with np.errstate(divide="ignore"):
        result: FloatArray = 10.0 * np.log10(energy)
    return result


def rail_lw(traffic: RailTraffic, *, weekend: bool) -> FloatArray:
    """Time-averaged ``LW'`` (dB re 1 pW/m) of a railway for each local hour 0-23 from the
    simulator's timetable, shape ``(24,)``; an hour without trains gives ``-inf``."""
    times, kinds = physics.timetable(weekend=weekend)
    energy = np.zeros(24)
    for t, k in zip(times.tolist(), kinds.tolist(), strict=True):
        kind = physics.TRAIN_KINDS[k]
        lw = kind.a_db + 30.0 * np.log10(kind.speed_kmh / 100.0)
        energy[int(t // 3600) % 24] += (
            10.0 ** (lw / 10.0) * kind.length_m / (3600.0 * kind.speed_kmh / 3.6)
        )
    with np.errstate(divide="ignore"):
        result: FloatArray = 10.0 * np.log10(energy * traffic.service_factor)
    return result


def hourly_lw(source: LineSource) -> FloatArray:
    """``LW'`` (dB re 1 pW/m) by ``[weekend, hour]``, shape ``(2, 24)``: row 0 weekdays."""
    rows = []
    for weekend in (False, True):
        if source.road is not None:
            rows.append(road_lw(source.road, weekend=weekend))
        elif source.rail is not None:
            rows.append(rail_lw(source.rail, weekend=weekend))
        else:
            raise ValueError(f"source {source.name!r} has no traffic")
    return np.stack(rows)


def reference_lw(source: LineSource) -> float:
    """Reference ``LW'`` (dB re 1 pW/m): the energetic mean over a week's 168 hours."""
    energy = 10.0 ** (hourly_lw(source) / 10.0)
    return float(10.0 * np.log10((5.0 * energy[0].sum() + 2.0 * energy[1].sum()) / 168.0))


@dataclass(frozen=True, slots=True)
class PeriodHours:
    """The local clock hours a period covers: ``weekend[i]``, ``hour[i]`` (0-23) and the
    seconds ``weight[i]`` of the period in that hour."""

    weekend: BoolArray
    hour: IntArray
    weight: FloatArray


def period_hours(start: float, end: float, zone: ZoneInfo = ZONE) -> PeriodHours:
    """The local hours overlapping ``[start, end)`` (Unix s), each weighted by its overlap in
    seconds: a 15-minute period gives one (or two) hours, a year 8,760 of them."""
    if not end > start:
        raise ValueError(f"empty period [{start}, {end})")
    edges = np.arange(np.floor(start / 3600.0) * 3600.0, end + 3600.0, 3600.0)
    edges = edges[edges < end]
    lo = np.maximum(edges, start)
    hi = np.minimum(edges + 3600.0, end)
    weekend = np.empty(edges.size, dtype=np.bool_)
    hour = np.empty(edges.size, dtype=np.int64)
    for i, t in enumerate(edges.tolist()):
        local = datetime.fromtimestamp(t, UTC).astimezone(zone)
        weekend[i] = local.weekday() >= 5
        hour[i] = local.hour
    return PeriodHours(weekend=weekend, hour=hour, weight=hi - lo)


def _length_m(source: LineSource, projection: LocalProjection) -> float:
    x, y = projection.to_xy(source.lonlat[:, 0], source.lonlat[:, 1])
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


def group_offsets_db(
    sources: Sequence[LineSource],
    groups: Sequence[str],
    hours: PeriodHours,
    projection: LocalProjection,
) -> FloatArray:
    """Offset (dB) of each group's emission in the period from its reference (see the module
    docstring), shape ``(len(groups),)``; a group silent the whole period gives ``-inf``."""
    w = hours.weight / hours.weight.sum()
    offsets = np.empty(len(groups))
    for g, group in enumerate(groups):
        mine = [s for s in sources if s.group == group]
        if not mine:
            raise ValueError(f"no source in group {group!r}")
        period = reference = 0.0
        for s in mine:
            length = _length_m(s, projection)
            energy = 10.0 ** (hourly_lw(s)[hours.weekend.astype(np.int64), hours.hour] / 10.0)
            period += length * float(np.dot(w, energy))
            reference += length * 10.0 ** (reference_lw(s) / 10.0)
        with np.errstate(divide="ignore"):
            offsets[g] = 10.0 * np.log10(period / reference)
    return offsets
