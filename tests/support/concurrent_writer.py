"""A store writer to run in a separate process (``multiprocessing`` spawn imports it by name, so it
lives here rather than in a test module)."""

from __future__ import annotations

from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore

__all__ = ["write_interleaved"]


def write_interleaved(path: str, worker: int, batches: int, hour: float, received: float) -> None:
    """One ingest process writing ``batches`` batches of 100 readings to the SQLite file ``path``:
    sensors ``s-0``..``s-9`` interleaved, 1-s readings from ``hour`` (Unix s) on, levels
    ``50 + 10·worker + i % 3`` dB, so two workers write overlapping keys with different values."""
    with SqliteStore(path) as store:
        for b in range(batches):
            batch = [
                Reading(
                    sensor_id=f"s-{i % 10}",
                    ts=hour + b * 10 + i // 10,
                    laeq=50.0 + worker * 10 + i % 3,
                )
                for i in range(100)
            ]
            store.write(batch, received + worker)
