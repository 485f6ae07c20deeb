"""Rows of the SQLite store shaped into its answers: series, roll-up cells as series, band
levels per hour, readings (numpy and msgspec, no SQL)."""

from __future__ import annotations

import msgspec
import numpy as np

from noiselab.model import Spectrum
from noiselab.store.base import BandLevels, Series
from noiselab.store.chunk_codec import ChunkReadings, MinuteRow
from noiselab.store.sqlite_rollup import Rows, duration_ms
from noiselab.store.sqlite_write import reading_of

__all__ = ["cell_series", "hourly_bands_of", "reading_of", "roll_up_rows", "series_of"]


def series_of(rows: list[tuple[float, float, float, float | None]]) -> Series:
    if not rows:
        empty = np.empty(0, np.float64)
        return Series(empty, empty, empty, empty)
    arr = np.array(rows, dtype=np.float64)  # NULL lafmax becomes NaN
    return Series(
        np.ascontiguousarray(arr[:, 0]),
        np.ascontiguousarray(arr[:, 1]),
        np.ascontiguousarray(arr[:, 2]),
        np.ascontiguousarray(arr[:, 3]),
    )


def roll_up_rows(raw: ChunkReadings) -> Rows:
    """One sensor's readings as the roll-up arithmetic takes them."""
    return Rows(
        np.zeros(raw.ts_ms.size, np.int64),
        raw.ts_ms,
        raw.ts_ms + duration_ms(raw.duration),
        raw.laeq,
        raw.lafmax,
        raw.lafmin,
    )


def cell_series(rows: list[MinuteRow], width_s: float) -> Series:
    """Roll-up rows ``(key, energy, seconds, lafmax, ...)`` as a ``Series`` of cells of
    ``width_s`` seconds (start, LAeq, measured seconds, LAFmax)."""
    if not rows:
        return series_of([])
    arr = np.array([row[:4] for row in rows], dtype=np.float64)
    return Series(
        arr[:, 0] * width_s,
        10.0 * np.log10(arr[:, 1] / arr[:, 2]),
        np.ascontiguousarray(arr[:, 2]),
        np.ascontiguousarray(arr[:, 3]),
    )


def hourly_bands_of(rows: list[tuple[int, float, str]]) -> BandLevels:
    """Sum ``(ts_ms, duration, spectrum JSON)`` rows into energetic band levels per UTC hour."""
    if not rows:
        empty = np.zeros(0)
        return BandLevels(empty, empty, np.zeros((0, 0)), empty)
    ts_ms, durations, texts = zip(*rows, strict=True)
    spectra = msgspec.json.decode(f"[{','.join(texts)}]", type=list[Spectrum])
    bands = spectra[0].bands_hz
    keep = np.fromiter((s.bands_hz == bands for s in spectra), bool, len(spectra))
    lzeq = np.array([s.lzeq for s, k in zip(spectra, keep, strict=True) if k], np.float64)
    seconds = np.asarray(durations, np.float64)[keep]
    hours = np.asarray(ts_ms, np.int64)[keep] // 3_600_000  # ascending: rows are by ts
    starts = np.flatnonzero(np.r_[True, hours[1:] != hours[:-1]])
    energy = np.add.reduceat(seconds[:, None] * np.power(10.0, lzeq / 10.0), starts, axis=0)
    per_hour = np.add.reduceat(seconds, starts)
    return BandLevels(
        t=hours[starts].astype(np.float64) * 3600.0,
        bands_hz=np.asarray(bands, np.float64),
        lzeq=10.0 * np.log10(energy / per_hour[:, None]),
        seconds=per_hour,
    )
