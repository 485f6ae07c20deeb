"""Speed of the living noise map (noiselab.noisemap) on the default Vallensbæk grid.

Grid: 6 x 5 km at 10 m, 600 x 500 = 300,000 cells, 4 source groups (the two motorways, the
Ringsted line, the local roads). Measured in one run:

* basic map build: all four maps from scratch (``build_basic_maps``), once;
* cold cache load: ``load_or_build`` reading the ``.npz`` written by that build, in a fresh
  temporary cache folder, median of 5 (the OS page cache is warm: "cold" means our cache is
  cold, not the disk's), plus the one-off conversion to energies (``ScaleAndSum``);
* scale-and-sum update: ``ScaleAndSum.surface`` into a reused output array, 200 runs,
  median and p95 (target < 200 ms);
* fit: ``fit_gains`` for one hour of the 12 simulated sensors, 200 runs;
* leave-one-out: ``leave_one_out`` for the same hour (12 refits), 50 runs;
* baselines in the same run: ``np.add`` of two 300,000-value float32 arrays, and a plain
  numpy energetic sum of the four maps, ``10·log10(Σ 10^(L/10))``, on the same arrays.

Run: ``.venv/bin/python benchmarks/bench_noisemap.py`` (about 30 s).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime

import numpy as np
from machine import describe  # benchmarks/machine.py and timing.py sit beside this script
from timing import report, times_ms

from noiselab.noisemap.basic_maps import build_basic_maps, group_levels_at, load_or_build
from noiselab.noisemap.emission import group_offsets_db, period_hours
from noiselab.noisemap.geometry import grid_around
from noiselab.noisemap.model import DEFAULT_GRID
from noiselab.noisemap.propagation import PropagationParams
from noiselab.noisemap.scale import ScaleAndSum, fit_gains
from noiselab.noisemap.simulated import START, hourly_laeq
from noiselab.noisemap.sources import load_sources
from noiselab.noisemap.validation import leave_one_out
from noiselab.sensors_sim.site_specs import load_sites

TARGET_UPDATE_MS = 200.0


def _report(name: str, ms: list[float], baseline: float | None = None) -> float:
    return report(name, ms, baseline, width=34, decimals=3)


def main() -> None:
    print(f"machine: {describe()}")
    print(f"date: {datetime.now(UTC).date().isoformat()}")
    sources = load_sources()
    grid = grid_around(*DEFAULT_GRID)
    params = PropagationParams()
    print(f"grid: {grid.nx} x {grid.ny} = {grid.size:,} cells at {grid.step_m:g} m")

    t = time.perf_counter()
    maps = build_basic_maps(sources, grid, params)
    build_s = time.perf_counter() - t
    print(f"{'basic map build (4 groups)':34s} {build_s:9.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        load_or_build(sources, grid, params, tmp)  # writes the file
        loads = []
        for _ in range(5):
            t = time.perf_counter()
            loaded, built = load_or_build(sources, grid, params, tmp)
            engine = ScaleAndSum(loaded)
            loads.append((time.perf_counter() - t) * 1000.0)
            assert not built
        _report("cold cache load + energies", loads)

    levels = maps.levels_db.reshape(len(maps.groups), -1)
    a, b = levels[0].copy(), levels[1].copy()
    out32 = np.empty_like(a)
    base = _report("baseline np.add 300k float32", times_ms(lambda: np.add(a, b, out=out32), 200))

    def plain_sum() -> np.ndarray:
        return 10.0 * np.log10(np.sum(10.0 ** (levels / 10.0), axis=0))

    _report("baseline plain energetic sum", times_ms(plain_sum, 50), base)

    sites = load_sites()
    data = hourly_laeq(sites, START, days=1, seed=1)
    hour = 10
    t0 = float(data.hour_starts[hour])
    offsets = group_offsets_db(sources, maps.groups, period_hours(t0, t0 + 3600.0), grid.projection)
    ref = group_levels_at(
        sources, [s.lon for s in sites], [s.lat for s in sites], grid.projection, params
    )
    model = ref + offsets[:, None]
    bg = np.array([s.source == "background" for s in sites])
    ids = tuple(s.id for s in sites)
    meas = data.laeq_db[hour]
    fit = fit_gains(maps.groups, model, meas, bg, ids)
    surface = np.empty(grid.shape, dtype=np.float32)

    upd = _report(
        "scale-and-sum update (300k cells)",
        times_ms(lambda: engine.surface(offsets, fit.gains_db, fit.background_db, surface), 200),
        base,
    )
    verdict = "ok" if upd < TARGET_UPDATE_MS else "OVER TARGET"
    print(f"{'':34s} [{verdict}: target < {TARGET_UPDATE_MS:g} ms]")
    _report(
        "fit (12 sensors, 4 groups)",
        times_ms(lambda: fit_gains(maps.groups, model, meas, bg, ids), 200),
    )
    _report(
        "leave-one-out (12 refits)",
        times_ms(lambda: leave_one_out(maps.groups, model, meas, bg, ids), 50),
    )


if __name__ == "__main__":
    main()
