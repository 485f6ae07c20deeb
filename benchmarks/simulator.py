"""CPU time to generate one sensor-year of 1-s readings with the Vallensbæk simulator.

Target (issue 4): under 10 s of CPU for one sensor-year (31,536,000 readings) of a motorway
site. Measured with ``generate_chunks`` (one UTC day at a time, so memory stays at a day of
arrays), 2026-01-01 to 2027-01-01 local time, seed 1, for the motorway site ``kbm-25m`` and,
for comparison, the railway site ``ring-25m`` (road + trains + background). One warm-up day
first (kernel caches, imports); CPU time by ``time.process_time`` (all threads of this
process), wall time by ``time.perf_counter``; peak resident memory from ``getrusage``.

Run: ``.venv/bin/python benchmarks/simulator.py`` (about 15 s).
"""

from __future__ import annotations

import resource
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from machine import describe  # benchmarks/machine.py, beside this script

from noiselab.sensors_sim.generate import generate_chunks
from noiselab.sensors_sim.site_specs import site_by_id

CPH = ZoneInfo("Europe/Copenhagen")
START = datetime(2026, 1, 1, tzinfo=CPH)
END = datetime(2027, 1, 1, tzinfo=CPH)
TARGET_CPU_S = 10.0


def _year(site_id: str) -> tuple[float, float, int]:
    site = site_by_id(site_id)
    for _ in generate_chunks(site, START, START.replace(day=2), 1):  # warm-up day
        pass
    cpu0, wall0 = time.process_time(), time.perf_counter()
    count = 0
    for chunk in generate_chunks(site, START, END, 1):
        count += chunk.ts.size
    return time.process_time() - cpu0, time.perf_counter() - wall0, count


def main() -> None:
    print(f"machine: {describe()}")
    print(f"range: {START.isoformat()} .. {END.isoformat()}, 1-s readings, seed 1")
    for site_id in ("kbm-25m", "ring-25m"):
        cpu, wall, count = _year(site_id)
        verdict = "ok" if cpu < TARGET_CPU_S else "OVER TARGET"
        print(
            f"{site_id:10s} readings {count:,}  cpu {cpu:6.2f} s  wall {wall:6.2f} s  "
            f"{count / cpu / 1e6:5.2f} M readings/cpu-s  [{verdict}: target < {TARGET_CPU_S} s]"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
