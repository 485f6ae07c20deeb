"""Write throughput and query latency of ``noiselab.store.sqlite.SqliteStore``.

Write scenarios, each on a fresh temporary file grown to ``--rows`` readings (default 2 M), with
``synchronous=FULL`` (durable on return, the default) and ``NORMAL``:

(a) transactions of 10,000 readings made of 100-reading runs (one sensor, consecutive seconds),
    100 sensors;
(b) transactions of 1,000 single readings interleaved over 100 sensors;
(c) as (b) with 10 % of each transaction re-delivering readings already stored.

Rates count the readings handed to ``write()`` (re-deliveries included) over the time spent
inside ``write()``; "last 10 %" is the rate once the file is nearly full; "cpu" uses the
process CPU time, which other load on the machine disturbs less than the wall clock.

Key order: the bare ``INSERT`` of the same rows into ``PRIMARY KEY (sensor_id, ts_ms)`` against
``PRIMARY KEY (ts_ms, sensor_id)`` with and without the ``(sensor_id, ts_ms)`` index that
per-sensor range queries need, and the time to read one sensor-hour back from each.

Level queries: one sensor with 30 days of 1-s readings; the median latency of ``levels()`` for
1 day at 1m, 7 days at 1h, 30 days at 1d and 1 hour at 1s.

Run: ``.venv/bin/python benchmarks/store_write.py [--rows N] [--skip-levels]``
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Literal

from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore

Sync = Literal["FULL", "NORMAL"]
SYNC_MODES: tuple[Sync, ...] = ("FULL", "NORMAL")
START = 1_780_000_000  # 2026-05-28T20:26:40Z
SENSORS = [f"vb-{kind}-{i:03d}" for i, kind in zip(range(100), ["road", "rail"] * 50, strict=True)]


def level(i: int) -> float:
    return 52.0 + (i * 7919 % 300) / 10.0


def runs_of_100(rows: int) -> Iterator[list[Reading]]:
    """(a) 10,000 readings per transaction: 100 consecutive seconds of each of 100 sensors."""
    for k in range(rows // 10_000):
        yield [
            Reading(sid, START + k * 100 + j, level(j + s), lafmax=level(j) + 8, seq=k * 100 + j)
            for s, sid in enumerate(SENSORS)
            for j in range(100)
        ]


def interleaved(rows: int, redelivered: float = 0.0) -> Iterator[list[Reading]]:
    """(b)/(c) 1,000 readings per transaction, sensor by sensor each second; a fraction
    ``redelivered`` of each transaction repeats readings of the previous transaction."""
    fresh_per_txn = round(1000 * (1 - redelivered))
    previous: list[Reading] = []
    made = 0
    while made < rows:
        fresh = [
            Reading(SENSORS[i % 100], START + i // 100, level(i), lafmax=level(i) + 8, seq=i)
            for i in range(made, made + fresh_per_txn)
        ]
        yield fresh + previous[: 1000 - fresh_per_txn]
        previous = fresh
        made += fresh_per_txn


def measure_writes(batches: Iterator[list[Reading]], synchronous: Sync) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db", synchronous=synchronous)
        samples: list[tuple[int, float, float]] = []
        for batch in batches:
            wall, cpu = time.perf_counter(), time.process_time()
            store.write(batch, time.time())
            samples.append((len(batch), time.perf_counter() - wall, time.process_time() - cpu))
        stored = store.count_readings()
        store.close()
    tail = samples[-max(1, len(samples) // 10) :]
    return {
        "rows": stored,
        "rate": _rate(samples, 1),
        "cpu": _rate(samples, 2),
        "tail": _rate(tail, 1),
    }


def _rate(samples: list[tuple[int, float, float]], column: int) -> float:
    return sum(s[0] for s in samples) / sum(s[column] for s in samples)


def write_scenarios(rows: int) -> None:
    scenarios: list[tuple[str, Callable[[], Iterator[list[Reading]]]]] = [
        ("(a) 10k/txn, runs of 100", lambda: runs_of_100(rows)),
        ("(b) 1k/txn, interleaved", lambda: interleaved(rows)),
        ("(c) 1k/txn, 10 % re-delivered", lambda: interleaved(rows, 0.1)),
    ]
    print(f"write(): readings/s into a fresh file growing to {rows:,} rows")
    print(f"{'scenario':32} {'sync':6} {'overall':>9} {'last 10%':>9} {'cpu':>9}")
    for name, make in scenarios:
        for synchronous in SYNC_MODES:
            r = measure_writes(make(), synchronous)
            print(f"{name:32} {synchronous:6} {r['rate']:9,.0f} {r['tail']:9,.0f} {r['cpu']:9,.0f}")


COLUMNS = (
    "sensor_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, duration REAL NOT NULL, laeq REAL NOT NULL,"
    " lafmax REAL, lafmin REAL, spectrum TEXT, seq INTEGER, received_at REAL NOT NULL"
)
SENSOR_FIRST = "PRIMARY KEY (sensor_id, ts_ms)"
TS_FIRST = "PRIMARY KEY (ts_ms, sensor_id)"
SENSOR_INDEX = "CREATE INDEX readings_sensor ON readings (sensor_id, ts_ms)"
LAYOUTS = {
    "(sensor_id, ts_ms)": [SENSOR_FIRST],
    "(ts_ms, sensor_id)": [TS_FIRST],
    "(ts_ms, sensor_id) + index": [TS_FIRST, SENSOR_INDEX],
}


def raw_rows(per_txn: int, k: int, ts_first: bool) -> list[tuple[object, ...]]:
    """Transaction ``k``: ``per_txn / 100`` consecutive seconds of each of the 100 sensors, in
    the order of the table's key (``write()`` sorts a batch by sensor and ts)."""
    per_sensor = per_txn // 100
    rows: list[tuple[object, ...]] = [
        (sid, (START + k * per_sensor + j) * 1000, 1.0, level(j), None, None, None, j, 0.0)
        for sid in SENSORS
        for j in range(per_sensor)
    ]
    return sorted(rows, key=lambda r: (r[1], str(r[0]))) if ts_first else rows


def key_order(rows: int) -> None:
    print("\nkey order: bare INSERT (rows/s, WAL, synchronous=FULL) into a table growing to")
    print(f"{rows:,} rows, and the time to read one sensor-hour (3,600 rows) back")
    for per_txn in (10_000, 1_000):
        for name, ddl in LAYOUTS.items():
            rate, read_ms = _insert_rate(ddl, per_txn, rows)
            print(f"  {per_txn:6,}/txn  {name:28} {rate:9,.0f} rows/s  read {read_ms:6.2f} ms")


def _insert_rate(ddl: list[str], per_txn: int, rows: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "keys.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"CREATE TABLE readings ({COLUMNS}, {ddl[0]}) WITHOUT ROWID")
        for statement in ddl[1:]:
            conn.execute(statement)
        spent = 0.0
        for k in range(rows // per_txn):
            batch = raw_rows(per_txn, k, ddl[0] == TS_FIRST)
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            conn.execute("COMMIT")
            spent += time.perf_counter() - started
        read = _median_ms(
            lambda: conn.execute(
                "SELECT ts_ms, duration, laeq FROM readings"
                " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ?",
                (SENSORS[7], START * 1000, (START + 3600) * 1000),
            ).fetchall()
        )
        conn.close()
    return (rows // per_txn) * per_txn / spent, read


def _median_ms(call: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


QUERIES = (
    (timedelta(hours=1), "1s"),
    (timedelta(days=1), "1m"),
    (timedelta(days=7), "1h"),
    (timedelta(days=30), "1d"),
)


def level_queries(days: int = 30) -> None:
    print(f"\nlevels(): median of 5 calls, one sensor with {days} days of 1-s readings")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "levels.db")
        sensor = SENSORS[0]
        begin = datetime(2026, 3, 1, tzinfo=UTC)
        t0 = int(begin.timestamp())
        started = time.perf_counter()
        for chunk in range(0, days * 86_400, 10_000):
            seconds = range(chunk, min(chunk + 10_000, days * 86_400))
            batch = [Reading(sensor, t0 + s, level(s), lafmax=level(s) + 8) for s in seconds]
            store.write(batch, time.time())
        loaded = time.perf_counter() - started
        print(f"  loaded {store.count_readings():,} readings in {loaded:.1f} s")
        for span, every in QUERIES:
            end = begin + span
            points = len(store.levels(sensor, begin, end, every))
            ms = _median_ms(partial(store.levels, sensor, begin, end, every))
            print(f"  {span!s:>18} at {every:3}: {points:6,} points {ms:8.1f} ms")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="readings per write scenario")
    parser.add_argument("--skip-levels", action="store_true", help="skip the query latencies")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    write_scenarios(args.rows)
    key_order(min(args.rows, 1_000_000))
    if not args.skip_levels:
        level_queries()


if __name__ == "__main__":
    main()
