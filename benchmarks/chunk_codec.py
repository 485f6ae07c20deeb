"""Size and speed of the chunk codec (``noiselab.store.chunk_codec``) on simulated sensor-hours.

Data: for the motorway site ``kbm-25m`` and the railway site ``ring-25m``, one UTC day
(2026-01-06, seed 1) of 1-s readings as the simulator's MQTT contract makes them (levels to
0.1 dB, ``seq`` numbers, with ``--spectra`` third-octave spectra to 0.01 dB) is written into a
temporary ``SqliteStore`` in one write; each UTC hour's ``readings`` rows and ``rollup_1m`` rows
are read back with ``sqlite3`` and encoded as one chunk.

``received_at`` variants, because it is stored to the millisecond and its jitter is information:

* **one write**: the day stored by one write (as stored);
* **write/s**: an ingest writing once a second (each write 0-20 ms late), a reading stored by the
  first write after it arrives 50-400 ms after its interval ends;
* **own write**: every reading stored the moment it arrives, 50-400 ms after its interval ends
  (independent delays: the worst case).

Bytes per reading: the readings part is the chunk of the hour's readings with no minutes, the
minutes part what the minutes add to it; the sums are over the 24 hours. Times are medians over
the 24 hour-chunks of ``encode_chunk``, ``decode_chunk``, ``decode_readings`` and
``decode_readings(...).rows()``. ``--levels`` repeats the table for other zstd levels.

Run: ``.venv/bin/python benchmarks/chunk_codec.py [--spectra] [--levels 3,9,19,22]``
(about 20 s).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from noiselab.model import Reading, Spectrum
from noiselab.sensors_sim.generate import generate, readings
from noiselab.sensors_sim.site_specs import site_by_id
from noiselab.store.chunk_codec import (
    ZSTD_LEVEL,
    ChunkMinutes,
    ChunkReadings,
    decode_chunk,
    decode_readings,
    encode_chunk,
)
from noiselab.store.sqlite import SqliteStore

DAY = 1_767_657_600  # 2026-01-06 00:00 UTC, a Tuesday
SITES = ("kbm-25m", "ring-25m")
Hour = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def simulated_hours(spectra: bool) -> dict[str, list[Hour]]:
    """Per site, the 24 hours of ``(readings rows, rollup_1m rows)`` of the simulated day."""
    hours: dict[str, list[Hour]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.db"
        with SqliteStore(path, synchronous="NORMAL") as store:
            for site_id in SITES:
                g = generate(site_by_id(site_id), DAY, DAY + 86_400, seed=1, spectra=spectra)
                batch = [_reading(site_id, row) for row in readings(g)]
                store.write(batch, received_at=DAY + 86_400.0)
        with closing(sqlite3.connect(path)) as conn:
            for site_id in SITES:
                hours[site_id] = [_hour(conn, site_id, DAY // 3600 + h) for h in range(24)]
    return hours


def _reading(site_id: str, row: dict[str, Any]) -> Reading:
    spectrum = row.pop("spectrum", None)
    if spectrum is not None:
        spectrum = Spectrum(tuple(spectrum["bands_hz"]), tuple(spectrum["lzeq"]))
    return Reading(site_id, spectrum=spectrum, **row)


def _hour(conn: sqlite3.Connection, site_id: str, hour: int) -> Hour:
    rows = conn.execute(
        "SELECT ts_ms, duration, laeq, lafmax, lafmin, spectrum, seq, received_at FROM readings"
        " WHERE sensor_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms",
        (site_id, hour * 3_600_000, (hour + 1) * 3_600_000),
    ).fetchall()
    minutes = conn.execute(
        "SELECT minute, energy, seconds, lafmax, lafmin, hist FROM rollup_1m"
        " WHERE sensor_id = ? AND minute >= ? AND minute < ? ORDER BY minute",
        (site_id, hour * 60, (hour + 1) * 60),
    ).fetchall()
    return rows, minutes


def one_write(ts: np.ndarray, stored: list[float], rng: np.random.Generator) -> list[float]:
    return stored


def write_per_second(ts: np.ndarray, stored: list[float], rng: np.random.Generator) -> list[float]:
    arrive = ts + 1.0 + rng.uniform(0.05, 0.4, ts.size)
    writes = ts[0] + rng.uniform(0, 1) + np.arange(ts.size + 2) + rng.uniform(0, 0.02, ts.size + 2)
    received: list[float] = writes[np.searchsorted(writes, arrive)].tolist()
    return received


def own_write(ts: np.ndarray, stored: list[float], rng: np.random.Generator) -> list[float]:
    received: list[float] = (ts + 1.0 + rng.uniform(0.05, 0.4, ts.size)).tolist()
    return received


VARIANTS: dict[str, Callable[[np.ndarray, list[float], np.random.Generator], list[float]]] = {
    "one write": one_write,
    "write/s": write_per_second,
    "own write": own_write,
}


def measure(hours: list[Hour], variant: str, level: int) -> dict[str, float]:
    rng = np.random.default_rng(7)
    count = readings_bytes = total_bytes = 0
    times: dict[str, list[float]] = {"encode": [], "decode": [], "readings": [], "rows": []}
    no_minutes = ChunkMinutes.from_rows([])
    for stored, minute_rows in hours:
        ts = np.array([r[0] for r in stored], dtype=np.float64) / 1000.0
        received = VARIANTS[variant](ts, [r[7] for r in stored], rng)
        rows = [(*r[:7], at) for r, at in zip(stored, received, strict=True)]
        chunk, minutes = ChunkReadings.from_rows(rows), ChunkMinutes.from_rows(minute_rows)
        started = time.perf_counter()
        blob = encode_chunk(chunk, minutes, level=level)
        times["encode"].append(time.perf_counter() - started)
        started = time.perf_counter()
        _, decoded_minutes = decode_chunk(blob)
        times["decode"].append(time.perf_counter() - started)
        started = time.perf_counter()
        decode_readings(blob)
        times["readings"].append(time.perf_counter() - started)
        started = time.perf_counter()
        back = decode_readings(blob).rows()
        times["rows"].append(time.perf_counter() - started)
        assert decoded_minutes.rows() == minute_rows
        assert [r[:7] for r in back] == [r[:7] for r in rows]
        count += len(chunk)
        readings_bytes += len(encode_chunk(chunk, no_minutes, level=level))
        total_bytes += len(blob)
    result = {name: statistics.median(values) * 1000 for name, values in times.items()}
    result["readings_b"] = readings_bytes / count
    result["minutes_b"] = (total_bytes - readings_bytes) / count
    result["total_b"] = total_bytes / count
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spectra", action="store_true", help="readings carry spectra")
    parser.add_argument("--levels", default=str(ZSTD_LEVEL), help="zstd levels, comma-separated")
    args = parser.parse_args()
    hours = simulated_hours(args.spectra)
    print(
        "site      received_at  level  readings  minutes  chunk (bytes/reading)"
        "   encode  decode  decode_readings  +rows()  (ms per hour-chunk)"
    )
    for level in (int(v) for v in args.levels.split(",")):
        for site_id in SITES:
            for variant in VARIANTS:
                r = measure(hours[site_id], variant, level)
                print(
                    f"{site_id:9} {variant:11} {level:6} {r['readings_b']:9.3f} "
                    f"{r['minutes_b']:8.3f} {r['total_b']:7.3f}"
                    f"{r['encode']:24.1f} {r['decode']:7.2f} {r['readings']:16.2f} "
                    f"{r['rows']:8.2f}"
                )


if __name__ == "__main__":
    main()
