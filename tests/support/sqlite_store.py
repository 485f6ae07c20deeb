"""What the SqliteStore test modules share: a reference hour and receive time, a reading
builder, the check of a sensor's minute roll-up against two recomputations, and a writer to run
in another process (``multiprocessing`` spawn imports it by name, so it lives here rather than
in a test module)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime

from noiselab.model import Reading, ts_key
from noiselab.store.sqlite import SqliteStore
from noiselab.store.sqlite_rollup import decode_hist

H = 1_779_998_400  # 2026-05-28T20:00:00Z: a whole hour, so also a whole minute
RECEIVED = 1_780_000_000.0


def utc(ts: float) -> datetime:
    """Unix seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def reading(ts: float, laeq: float, duration: float = 1.0, sensor: str = "s-1", **kw) -> Reading:
    """A reading of ``sensor`` (``s-1`` unless given); ``kw`` are further Reading fields."""
    return Reading(sensor_id=sensor, ts=ts, laeq=laeq, duration=duration, **kw)


def naive_rollup(readings: list[Reading]) -> dict[int, tuple[float, float, float | None, dict]]:
    """Minute -> (energy, seconds, lafmax, {bin: ms}) by plain loops over each reading; only
    readings of at most 1 s enter the histogram."""
    minutes: dict[int, list] = defaultdict(lambda: [0.0, 0, None, defaultdict(int)])
    for r in readings:
        start = ts_key(r.ts)
        end = start + max(1, round(r.duration * 1000))
        for minute in range(start // 60_000, (end - 1) // 60_000 + 1):
            overlap = min(end, (minute + 1) * 60_000) - max(start, minute * 60_000)
            cell = minutes[minute]
            cell[0] += overlap / 1000 * 10 ** (r.laeq / 10)
            cell[1] += overlap
            if r.lafmax is not None:
                cell[2] = r.lafmax if cell[2] is None else max(cell[2], r.lafmax)
            if end - start <= 1000:
                cell[3][round(r.laeq * 10)] += overlap
    return {m: (c[0], c[1] / 1000, c[2], dict(c[3])) for m, c in minutes.items()}


def assert_rollup_matches(store: SqliteStore, sensor: str, stored: list[Reading]) -> None:
    """The roll-up equals its recomputation exactly, and a plain-loop computation closely."""
    rows = store.rollup_rows(sensor)
    assert rows == store.recompute_rollup_from_raw(sensor)
    expected = naive_rollup(stored)
    assert [row[1] for row in rows] == sorted(expected)
    for _, minute, energy, seconds, lafmax, _, hist in rows:
        e_energy, e_seconds, e_lafmax, e_hist = expected[minute]
        assert math.isclose(energy, e_energy, rel_tol=1e-12)
        assert seconds == e_seconds
        assert lafmax == e_lafmax
        bins, ms = decode_hist(hist)
        assert dict(zip(bins.tolist(), ms.tolist(), strict=True)) == e_hist


def write_interleaved(path: str, worker: int, batches: int) -> None:
    """One ingest process writing ``batches`` batches of 100 readings to the SQLite file ``path``:
    sensors ``s-0``..``s-9`` interleaved, 1-s readings from ``H`` on, levels
    ``50 + 10·worker + i % 3`` dB, so two workers write overlapping keys with different values."""
    with SqliteStore(path) as store:
        for b in range(batches):
            batch = [
                reading(H + b * 10 + i // 10, 50.0 + worker * 10 + i % 3, sensor=f"s-{i % 10}")
                for i in range(100)
            ]
            store.write(batch, RECEIVED + worker)
