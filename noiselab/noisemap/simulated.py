"""Hourly LAeq of the simulator's sites, and the leave-one-out check of the map against them.

The simulator (:mod:`noiselab.sensors_sim.generate`) produces per-second LAeq for each
default site; each hour's LAeq is their energetic mean (``10·log10(mean 10^(L/10))``,
:func:`noiselab.analysis.decibels.leq_along`). The check fits the map to every hour, leaving
each sensor out in turn (:mod:`.validation`), and prints the distribution of the absolute
errors (dB re 20 µPa, A-weighted). Run::

    python -m noiselab.noisemap.simulated --days 7 --seed 1

The map's propagation model is its own (:mod:`.propagation`); only the emission assumptions
(flows, speeds, timetable) are shared with the simulator.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from noiselab.analysis.arrays import FloatArray
from noiselab.analysis.decibels import leq_along
from noiselab.noisemap.basic_maps import group_levels_at
from noiselab.noisemap.emission import group_offsets_db, period_hours
from noiselab.noisemap.geometry import LocalProjection
from noiselab.noisemap.propagation import PropagationParams
from noiselab.noisemap.scale import FitParams
from noiselab.noisemap.sources import LineSource, group_names, load_sources
from noiselab.noisemap.validation import leave_one_out, summarize
from noiselab.sensors_sim.generate import generate_chunks
from noiselab.sensors_sim.site_specs import Site, load_sites

__all__ = [
    "START",
    "HourlyData",
    "hourly_laeq",
    "loo_errors",
    "main",
]

START = 1_772_409_600.0
"""2026-03-02 00:00 UTC (a Monday): the default first hour of the check."""


@dataclass(frozen=True, slots=True)
class HourlyData:
    """``laeq_db[h, s]``: hourly LAeq (dB) of site ``sites[s]`` in the hour from
    ``hour_starts[h]`` (Unix s)."""

    sites: tuple[Site, ...]
    hour_starts: FloatArray
    laeq_db: FloatArray


def hourly_laeq(
    sites: Sequence[Site], start: float = START, days: int = 2, seed: int = 1
) -> HourlyData:
    """Hourly LAeq of ``sites`` over ``days`` whole UTC days from ``start`` (a UTC midnight)."""
    end = start + days * 86_400.0
    columns = []
    for site in sites:
        hours = [
            leq_along(chunk.laeq.reshape(-1, 3600), axis=1)
            for chunk in generate_chunks(site, start, end, seed)
        ]
        columns.append(np.concatenate(hours))
    starts = start + 3600.0 * np.arange(days * 24, dtype=np.float64)
    return HourlyData(tuple(sites), starts, np.stack(columns, axis=1))


def loo_errors(
    data: HourlyData,
    sources: Sequence[LineSource],
    projection: LocalProjection,
    params: PropagationParams | None = None,
    fit_params: FitParams | None = None,
) -> FloatArray:
    """Leave-one-out errors (dB, predicted minus measured), shape ``(hours, sites)``."""
    params = params or PropagationParams()
    groups = group_names(tuple(sources))
    ids = tuple(s.id for s in data.sites)
    bg = np.array([s.source == "background" for s in data.sites])
    lon = np.array([s.lon for s in data.sites])
    lat = np.array([s.lat for s in data.sites])
    ref = group_levels_at(sources, lon, lat, projection, params)
    errors = np.empty(data.laeq_db.shape)
    for h, t in enumerate(data.hour_starts.tolist()):
        offsets = group_offsets_db(sources, groups, period_hours(t, t + 3600.0), projection)
        model = ref + offsets[:, None]
        result = leave_one_out(groups, model, data.laeq_db[h], bg, ids, params=fit_params)
        errors[h] = result.errors_db
    return errors


def main(argv: Sequence[str] | None = None) -> None:
    """Print the leave-one-out distribution of hourly LAeq on simulated data."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    data = hourly_laeq(load_sites(), START, args.days, args.seed)
    t1 = time.perf_counter()
    sources = load_sources()
    errors = loo_errors(data, sources, LocalProjection(12.370, 55.633))
    t2 = time.perf_counter()
    print(f"{args.days} days x 24 h x {len(data.sites)} sites, seed {args.seed}")
    print(f"simulate {t1 - t0:.1f} s, leave-one-out {t2 - t1:.2f} s")
    total = summarize(errors)
    print(
        f"all   n={total['n']:.0f} median {total['median']:.2f} p90 {total['p90']:.2f}"
        f" max {total['max']:.2f} bias {total['bias']:+.2f} dB"
    )
    for s, site in enumerate(data.sites):
        one = summarize(errors[:, s])
        print(
            f"{site.id:22s} {site.source:10s} median {one['median']:5.2f} p90 {one['p90']:5.2f}"
            f" max {one['max']:5.2f} bias {one['bias']:+6.2f} dB"
        )


if __name__ == "__main__":
    main()
