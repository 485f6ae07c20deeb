"""The per-minute sums of a compacted hour, kept beside its chunk so that a read needing only
the minutes' energy, seconds and LAFmax (the hours an exclusion's edge cuts,
:mod:`noiselab.store.sqlite_spans`) takes them without decoding the chunk.

Layout of one hour's blob (little-endian): the minute count ``m`` (uint8), then the minutes'
offsets in the hour (``m`` uint8), energies, seconds and LAFmax (``m`` float64 each, NaN for
NULL), the whole compressed with zstandard. Floats are stored as they are, so a sum read here
is the sum the chunk holds, bit for bit. About 900 bytes an hour of 60 minutes: 0.25 bytes per
reading at one reading a second (docs/benchmarks.md).
"""

from __future__ import annotations

import struct

import numpy as np
import zstandard

from noiselab.analysis.arrays import FloatArray, IntArray
from noiselab.store.chunk_rows import ChunkMinutes

__all__ = ["decode_sums", "encode_sums"]

_COUNT = struct.Struct("<B")
_LEVEL = 3
"""zstandard level: the floats barely compress; the offsets and repeated seconds do."""


def encode_sums(hour: int, minutes: ChunkMinutes) -> bytes:
    """The blob of ``minutes`` (all in the UTC hour ``hour``, numbered ``floor(t / 3600)``)."""
    offsets = minutes.minute - hour * 60
    if minutes.minute.size and not ((offsets >= 0) & (offsets < 60)).all():
        raise ValueError(f"minutes outside hour {hour}")
    raw = b"".join(
        (
            _COUNT.pack(offsets.size),
            offsets.astype(np.uint8).tobytes(),
            minutes.energy.astype("<f8").tobytes(),
            minutes.seconds.astype("<f8").tobytes(),
            minutes.lafmax.astype("<f8").tobytes(),
        )
    )
    return zstandard.ZstdCompressor(level=_LEVEL).compress(raw)


def decode_sums(hour: int, blob: bytes) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """``(minute, energy, seconds, lafmax)`` of the hour's blob; ``ValueError`` for a blob
    that is not one."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(blob, max_output_size=1 + 60 * 25)
    except zstandard.ZstdError as exc:
        raise ValueError(f"corrupt minute sums of hour {hour}: {exc}") from exc
    if not raw:
        raise ValueError(f"empty minute sums of hour {hour}")
    (m,) = _COUNT.unpack_from(raw)
    if m > 60 or len(raw) != 1 + 25 * m:
        raise ValueError(f"corrupt minute sums of hour {hour}: {len(raw)} bytes for {m}")
    offsets = np.frombuffer(raw, np.uint8, m, 1).astype(np.int64)
    floats = np.frombuffer(raw, "<f8", 3 * m, 1 + m).reshape(3, m)
    return hour * 60 + offsets, floats[0].copy(), floats[1].copy(), floats[2].copy()
