"""Interim codec (replaced by the real one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
import zstandard

from noiselab.analysis.arrays import FloatArray, IntArray


def _f(values: Sequence[Any]) -> FloatArray:
    return np.array([np.nan if v is None else v for v in values], np.float64)


@dataclass(frozen=True, slots=True)
class ChunkReadings:
    ts_ms: IntArray
    duration: FloatArray
    laeq: FloatArray
    lafmax: FloatArray
    lafmin: FloatArray
    spectrum: list[str | None]
    seq: list[int | None]
    received_at: FloatArray

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> ChunkReadings:
        cols = list(zip(*rows, strict=True)) if rows else [()] * 8
        return cls(
            np.array(cols[0], np.int64),
            _f(cols[1]),
            _f(cols[2]),
            _f(cols[3]),
            _f(cols[4]),
            list(cols[5]),
            list(cols[6]),
            _f(cols[7]),
        )

    def rows(self) -> list[tuple[Any, ...]]:
        def n(v: float) -> float | None:
            return None if v != v else v

        return [
            (t, d, q, n(a), n(b), s, k, r)
            for t, d, q, a, b, s, k, r in zip(
                self.ts_ms.tolist(),
                self.duration.tolist(),
                self.laeq.tolist(),
                self.lafmax.tolist(),
                self.lafmin.tolist(),
                self.spectrum,
                self.seq,
                self.received_at.tolist(),
                strict=True,
            )
        ]

    def select(self, keep: Any) -> ChunkReadings:
        idx = np.flatnonzero(keep)
        return ChunkReadings(
            self.ts_ms[idx],
            self.duration[idx],
            self.laeq[idx],
            self.lafmax[idx],
            self.lafmin[idx],
            [self.spectrum[i] for i in idx],
            [self.seq[i] for i in idx],
            self.received_at[idx],
        )

    @classmethod
    def concat(cls, parts: Sequence[ChunkReadings]) -> ChunkReadings:
        return cls(
            np.concatenate([p.ts_ms for p in parts]),
            np.concatenate([p.duration for p in parts]),
            np.concatenate([p.laeq for p in parts]),
            np.concatenate([p.lafmax for p in parts]),
            np.concatenate([p.lafmin for p in parts]),
            [s for p in parts for s in p.spectrum],
            [s for p in parts for s in p.seq],
            np.concatenate([p.received_at for p in parts]),
        )

    def sorted(self) -> ChunkReadings:
        return (
            self.select(np.ones(self.ts_ms.size, bool))[np.argsort(self.ts_ms, kind="stable")]
            if False
            else self._take(np.argsort(self.ts_ms, kind="stable"))
        )

    def _take(self, idx: Any) -> ChunkReadings:
        return ChunkReadings(
            self.ts_ms[idx],
            self.duration[idx],
            self.laeq[idx],
            self.lafmax[idx],
            self.lafmin[idx],
            [self.spectrum[i] for i in idx],
            [self.seq[i] for i in idx],
            self.received_at[idx],
        )


@dataclass(frozen=True, slots=True)
class ChunkMinutes:
    rows_: list[tuple[Any, ...]]

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> ChunkMinutes:
        return cls([tuple(r) for r in rows])

    def rows(self) -> list[tuple[Any, ...]]:
        return list(self.rows_)


def encode_chunk(readings: ChunkReadings, minutes: ChunkMinutes) -> bytes:
    for col in (readings.laeq, readings.lafmax, readings.lafmin):
        if np.isinf(col).any():
            raise ValueError("infinite level")
    q = [np.rint(c * 100).tolist() for c in (readings.laeq, readings.lafmax, readings.lafmin)]
    body = msgspec.msgpack.encode(
        [
            readings.ts_ms.tolist(),
            readings.duration.tolist(),
            *q,
            readings.spectrum,
            readings.seq,
            readings.received_at.tolist(),
            minutes.rows_,
        ]
    )
    return zstandard.ZstdCompressor().compress(body)


def _decode(blob: bytes) -> tuple[ChunkReadings, ChunkMinutes]:
    parts = msgspec.msgpack.decode(zstandard.ZstdDecompressor().decompress(blob))
    ts, dur, q1, q2, q3, spec, seq, rec, mins = parts
    lv = [np.array(q, np.float64) / 100.0 for q in (q1, q2, q3)]
    r = ChunkReadings(
        np.array(ts, np.int64),
        np.array(dur, np.float64),
        lv[0],
        lv[1],
        lv[2],
        spec,
        seq,
        np.array(rec, np.float64),
    )
    return r, ChunkMinutes([tuple(m) for m in mins])


def decode_chunk(blob: bytes) -> tuple[ChunkReadings, ChunkMinutes]:
    return _decode(blob)


def decode_readings(blob: bytes) -> ChunkReadings:
    return _decode(blob)[0]
