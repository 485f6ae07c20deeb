"""The per-minute sums of a compacted hour, kept beside its chunk so that a read needing only
the minutes' energy, seconds and LAFmax (the hours an exclusion's edge cuts,
:mod:`noiselab.store.sqlite_spans`) takes them without decoding the chunk.

Layout of one hour's blob, before zstandard compression: the sixty minutes' energies, then
their seconds, then their LAFmax, each as sixty little-endian float64 (1,440 bytes); a minute
without data has 0 seconds (and 0 energy, NaN LAFmax), NaN is a NULL LAFmax. Floats are stored
as they are, so a sum read here is the sum the chunk holds, bit for bit. The fixed layout lets
many hours be parsed in one array operation (:func:`decode_many`). Some 700 bytes an hour
compressed: 0.2 bytes per reading at one reading a second (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import zstandard

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.store.chunk_rows import ChunkMinutes

__all__ = ["HOUR_BYTES", "decode_many", "decode_sums", "encode_sums"]

HOUR_BYTES = 3 * 60 * 8
"""Bytes of one hour's blob before compression."""
_LEVEL = 3
"""zstandard level: the floats barely compress; the empty minutes and repeated seconds do."""


def encode_sums(hour: int, minutes: ChunkMinutes) -> bytes:
    """The blob of ``minutes`` (all in the UTC hour ``hour``, numbered ``floor(t / 3600)``)."""
    offsets = minutes.minute - hour * 60
    if minutes.minute.size and not ((offsets >= 0) & (offsets < 60)).all():
        raise ValueError(f"minutes outside hour {hour}")
    table = np.zeros((3, 60), dtype="<f8")
    table[2] = np.nan
    table[0, offsets], table[1, offsets], table[2, offsets] = (
        minutes.energy,
        minutes.seconds,
        minutes.lafmax,
    )
    return zstandard.ZstdCompressor(level=_LEVEL).compress(table.tobytes())


def decode_many(
    hours: Sequence[int], blobs: Sequence[bytes]
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """``(minute, energy, seconds, lafmax)`` of the minutes with data in the blobs of
    ``hours``, hour by hour; ``ValueError`` for a blob that is not one."""
    decompressor = zstandard.ZstdDecompressor()
    raw = []
    for hour, blob in zip(hours, blobs, strict=True):
        try:
            data = decompressor.decompress(blob, max_output_size=HOUR_BYTES)
        except zstandard.ZstdError as exc:
            raise ValueError(f"corrupt minute sums of hour {hour}: {exc}") from exc
        if len(data) != HOUR_BYTES:
            raise ValueError(f"corrupt minute sums of hour {hour}: {len(data)} bytes")
        raw.append(data)
    table = np.frombuffer(b"".join(raw), dtype="<f8").reshape(len(raw), 3, 60)
    minute = np.asarray(hours, dtype=np.int64)[:, None] * 60 + np.arange(60)
    has = table[:, 1, :] > 0
    return minute[has], table[:, 0, :][has], table[:, 1, :][has], table[:, 2, :][has]


def decode_sums(hour: int, blob: bytes) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """:func:`decode_many` of one hour."""
    return decode_many([hour], [blob])
