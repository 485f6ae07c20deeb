"""``/api/v1/map`` latency while heavy reads hammer the API, against the same run's baseline.

The API runs as ``uvicorn`` (one worker) in a subprocess on a free loopback port over a SQLite
store of eight days of 1-s readings of one public sensor (the data of
``tests/api/test_abuse_http.py``, built by ``tests/support/api_server.py`` in a temporary
directory, ~4 s). The public rate limit and the cost budgets are off, as if the heavy reads
came from many addresses; the heavy pool keeps its defaults (one read per core but one, 10 s
wait, worker processes) unless ``--threads`` computes in threads of the API's process.

Measured, each for one phase:

1. baseline: ``/api/v1/map`` asked on one kept connection every 20 ms for ``--seconds``;
2. under load: the same while ``--heavy`` heavy reads run at once (half public 7-day
   ``events``, half staff one-day ``levels`` at ``every=1s``, each over its own range), until
   the last of them is answered.

Reported: p50/p99/max of /map in both phases, the heavy reads' statuses (200 or 503) and their
longest time. Run: ``.venv/bin/python benchmarks/bench_abuse.py [--heavy 24] [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

from machine import describe  # noqa: E402 (after the path)
from support.abuse_load import get, map_latencies, under_heavy_load  # noqa: E402
from support.api_server import ApiServer, build_week  # noqa: E402

START = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
DAYS = 8
NO_RATE_LIMIT = {"public_rate_per_s": 0.0, "public_burst": 0}
NO_BUDGETS = {"public_cost_per_s": 0.0, "keyed_cost_per_s": 0.0}


def _percentiles(seconds: list[float]) -> str:
    values = np.array(seconds) * 1000
    return (
        f"n={values.size}, p50 {np.percentile(values, 50):.1f} ms, "
        f"p99 {np.percentile(values, 99):.1f} ms, max {values.max():.1f} ms"
    )


def main() -> None:
    """Build the data, run both phases, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heavy", type=int, default=24, help="heavy reads at once")
    parser.add_argument("--seconds", type=float, default=5.0, help="baseline length, s")
    parser.add_argument("--threads", action="store_true", help="heavy reads in threads")
    args = parser.parse_args()
    print(describe())
    limits: dict[str, object] = dict(NO_BUDGETS)
    if args.threads:
        limits["heavy_processes"] = False
    with tempfile.TemporaryDirectory(prefix="noiselab-bench-abuse-") as root:
        began = time.perf_counter()
        week = build_week(Path(root), START, DAYS)
        print(f"data: {DAYS} days of 1-s readings in {time.perf_counter() - began:.1f} s")
        with ApiServer(week, NO_RATE_LIMIT, limits) as server:
            get(server, "/api/v1/map", {})
            stop = threading.Event()
            threading.Timer(args.seconds, stop.set).start()
            baseline = map_latencies(server, stop)
            loaded, answers = under_heavy_load(server, week, args.heavy)
    print(f"/api/v1/map unloaded:        {_percentiles(baseline)}")
    print(f"/api/v1/map under {args.heavy} heavy: {_percentiles(loaded)}")
    statuses = Counter(status for status, _, _ in answers)
    longest = max(seconds for _, _, seconds in answers)
    print(f"heavy reads: {dict(sorted(statuses.items()))}, longest {longest:.1f} s")


if __name__ == "__main__":
    main()
