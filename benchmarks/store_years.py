"""A sensor-year in the SQLite store: bytes per reading per tier, compaction, year-long queries.

Usage::

    .venv/bin/python benchmarks/store_years.py            # --cache DIR --json FILE

The sensor-year is the one ``benchmarks/bench_api.py`` builds and caches (the simulator's site
``kbm-25m``, 2026 local time, 31,536,000 1-s readings written one UTC day per transaction, so
every roll-up tier is the one the ingest keeps). This script copies it and measures, in one run:

* bytes on disk per table (SQLite ``dbstat`` pages) and per reading, before and after
  compacting everything older than the 48-hour hot window, and the compaction's speed;
* levels over the year at ``1h`` (8,760 points) and ``1d`` (365), cold (a freshly opened store:
  SQLite's page cache empty, the operating system's file cache warm) and warm, against the
  baseline of summing the same buckets from the 525,600 per-minute rows as the store did
  before the hourly and daily tiers, in the same run;
* a year of indicators (hour series + ``lden``) cold and warm, and Lden for 12 sensor-years
  (the year's hourly tier copied under 11 more sensor ids: the same work as 12 distinct
  sensors);
* that compaction changed no answer: the year's ``1h``, ``1d`` and ``15m`` levels and its
  daily indicators before and after, to 0.01 dB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_api

from noiselab.analysis.buckets import Every, bucket_edges
from noiselab.analysis.periods import lden
from noiselab.store.level_buckets import minute_buckets
from noiselab.store.sqlite import SqliteStore

CPH = ZoneInfo("Europe/Copenhagen")
YEAR = 2026
START = datetime(YEAR, 1, 1, tzinfo=CPH)
END = datetime(YEAR + 1, 1, 1, tzinfo=CPH)
SENSOR = bench_api.SENSOR
TABLES = ("readings", "rollup_1m", "rollup_1h", "hist_1h", "rollup_1d", "hist_1d", "chunks")


def table_bytes(store: SqliteStore) -> dict[str, int]:
    """Bytes of pages per table (indexes included: the tables are WITHOUT ROWID)."""
    rows = store._conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    found = {str(name): int(size) for name, size in rows}
    out = {table: found.pop(table, 0) for table in TABLES}
    out["other"] = sum(found.values())
    return out


def timed(fn: Callable[[], object], repeats: int = 5) -> tuple[float, object]:
    """Median wall time (ms) of ``repeats`` calls, and the last result."""
    times = []
    result: object = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times), result


def cold(path: Path, fn: Callable[[SqliteStore], object], repeats: int = 3) -> float:
    """Median ms of ``fn`` on a freshly opened store (empty SQLite page cache)."""
    times = []
    for _ in range(repeats):
        with SqliteStore(path) as store:
            started = time.perf_counter()
            fn(store)
            times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def levels_from_minutes(store: SqliteStore, every: str) -> list[Any]:
    """The baseline: the year's buckets summed from the per-minute rows only (the store's
    method before the hourly and daily tiers)."""
    edges = bucket_edges(START, END, Every(every), CPH)
    rows = store._conn.execute(
        "SELECT minute, energy, seconds, lafmax, hist FROM rollup_1m"
        " WHERE sensor_id = ? AND minute >= ? AND minute < ?",
        (SENSOR, int(edges[0]) // 60, int(edges[-1]) // 60),
    ).fetchall()
    minute, energies, seconds, lafmax, hists = zip(*rows, strict=True)
    return minute_buckets(
        edges,
        minute=np.array(minute, np.int64),
        energies=np.array(energies, np.float64),
        seconds=np.array(seconds, np.float64),
        lafmax=np.array(lafmax, np.float64),
        hists=hists,
    ).points(edges)


def indicators(store: SqliteStore, sensor: str = SENSOR) -> list[Any]:
    """A year of daily indicators the way ``/indicators`` computes them."""
    until = (END + timedelta(days=1)).astimezone(UTC)  # the last night ends the next morning
    cells = store.hour_series(sensor, START.astimezone(UTC), until)
    return lden(
        cells.ts,
        cells.laeq,
        cells.duration,
        tz="Europe/Copenhagen",
        start=START.date(),
        end=END.date(),
    )


def max_difference(a: list[Any], b: list[Any], fields: tuple[str, ...]) -> float:
    """Largest absolute difference (dB) of ``fields`` between two equal-length answers."""
    assert len(a) == len(b), (len(a), len(b))
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        for field in fields:
            u, v = getattr(x, field), getattr(y, field)
            assert (u is None) == (v is None), (field, u, v)
            if u is not None:
                worst = max(worst, abs(u - v))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "noiselab-bench-api"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    data = bench_api.build(YEAR, 1.0, args.cache)
    work = Path(tempfile.mkdtemp(prefix="noiselab-years-"))
    path = work / "year.db"
    out: dict[str, Any] = {"date": datetime.now(UTC).date().isoformat()}
    try:
        with SqliteStore(data.written) as source:  # migrate and checkpoint in place
            source._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(data.written, path)
        with SqliteStore(path) as store:
            readings = store.count_readings(SENSOR)
            out["readings"] = readings
            out["bytes_before"] = table_bytes(store)
            baseline = {
                e: timed(lambda e=e: levels_from_minutes(store, e), 3) for e in ("1h", "1d")
            }
            before = {e: store.levels(SENSOR, START, END, e, CPH) for e in ("1h", "1d", "15m")}
            before_days = indicators(store)
            end_s = END.timestamp()
            started = time.perf_counter()
            report = store.compact(now=end_s)
            out["compaction"] = {
                "seconds": time.perf_counter() - started,
                "chunks": report.chunks,
                "readings": report.readings,
                "readings_per_s": report.readings / (time.perf_counter() - started),
            }
            out["bytes_after"] = table_bytes(store)
            out["disk_usage"] = store.disk_usage()
            after = {e: store.levels(SENSOR, START, END, e, CPH) for e in ("1h", "1d", "15m")}
            fields = ("laeq", "lafmax", "l10", "l50", "l90", "coverage")
            out["max_difference_db"] = {
                e: max_difference(before[e], after[e], fields) for e in before
            }
            out["max_difference_db"]["indicators"] = max_difference(
                before_days, indicators(store), ("lday", "levening", "lnight", "lden", "laeq24")
            )
            out["levels_ms"] = {}
            for every in ("1h", "1d"):
                warm, points = timed(lambda e=every: store.levels(SENSOR, START, END, e, CPH))
                out["levels_ms"][every] = {
                    "points": len(points),  # type: ignore[arg-type]
                    "warm": warm,
                    "baseline_minutes_warm": baseline[every][0],
                }
            out["indicators_ms"] = {"warm": timed(lambda: indicators(store))[0]}
            hours = store._conn.execute(
                "SELECT * FROM rollup_1h WHERE sensor_id = ?", (SENSOR,)
            ).fetchall()
            others = [f"copy-{i:02d}" for i in range(11)]
            with store._lock:
                store._conn.execute("BEGIN")
                for other in others:
                    store._conn.executemany(
                        "INSERT INTO rollup_1h VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(other, *row[1:]) for row in hours],
                    )
                store._conn.execute("COMMIT")
        for every in ("1h", "1d"):
            out["levels_ms"][every]["cold"] = cold(
                path, lambda s, e=every: s.levels(SENSOR, START, END, e, CPH)
            )
        out["indicators_ms"]["cold"] = cold(path, indicators)
        twelve = [SENSOR, *others]
        out["lden_12_sensor_years_ms"] = {
            "cold": cold(path, lambda s: [indicators(s, sid) for sid in twelve]),
        }
        with SqliteStore(path) as store:
            out["lden_12_sensor_years_ms"]["warm"] = timed(
                lambda: [indicators(store, sid) for sid in twelve], 3
            )[0]
            store._conn.execute("DELETE FROM rollup_1h WHERE sensor_id LIKE 'copy-%'")
            store._conn.execute("VACUUM")
            out["file_bytes_vacuumed"] = path.stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report_text(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


def report_text(out: dict[str, Any]) -> None:
    n = out["readings"]
    print(f"{n:,} readings; compaction {out['compaction']}")
    print("| table | before (MB) | B/reading | after (MB) | B/reading |")
    for table in (*TABLES, "other"):
        b, a = out["bytes_before"][table], out["bytes_after"][table]
        print(f"| {table} | {b / 1e6:,.1f} | {b / n:.2f} | {a / 1e6:,.1f} | {a / n:.2f} |")
    total_b, total_a = sum(out["bytes_before"].values()), sum(out["bytes_after"].values())
    print(
        f"| total | {total_b / 1e6:,.1f} | {total_b / n:.2f}"
        f" | {total_a / 1e6:,.1f} | {total_a / n:.2f} |"
    )
    print(f"file after VACUUM: {out['file_bytes_vacuumed'] / 1e6:,.1f} MB")
    print("levels (ms):", json.dumps(out["levels_ms"]))
    print("indicators (ms):", out["indicators_ms"])
    print("Lden, 12 sensor-years (ms):", out["lden_12_sensor_years_ms"])
    print("max difference before/after compaction (dB):", out["max_difference_db"])


if __name__ == "__main__":
    main()
