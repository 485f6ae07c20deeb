"""The column coding of chunks (:mod:`noiselab.store.chunk_codec`): integer columns as
delta orders packed in the narrowest width that holds them, bit maps, float64 columns, and the
reader that takes them back from a stream, refusing anything truncated or malformed with
``ValueError``."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from noiselab.analysis.arrays import FloatArray, IntArray

__all__ = [
    "BoolArray",
    "ColumnReader",
    "bitmap",
    "costed_column",
    "entropy_bits",
    "float_column",
    "int_column",
    "packed",
]

BoolArray = npt.NDArray[np.bool_]
LEVEL_LIMIT = float(1 << 31)
"""Hundredths of a dB must stay below this in magnitude."""
_MAX_ORDER = 2
_WIDTHS = (1, 2, 4, 8)


def entropy_bits(values: IntArray) -> float:
    """Order-0 entropy of ``values`` in bits, in total: what an entropy coder needs at best."""
    if values.size == 0:
        return 0.0
    _, counts = np.unique(values, return_counts=True)
    return float(values.size * np.log2(values.size) - (counts * np.log2(counts)).sum())


def int_column(values: IntArray) -> bytes:
    """``ints(values)`` of the layout: the difference order (0-2) with the least entropy."""
    return costed_column(values)[1]


def costed_column(values: IntArray) -> tuple[float, bytes]:
    """``ints(values)`` and its estimated size in bits (the order-0 entropy of what it holds)."""
    x = np.ascontiguousarray(values, dtype=np.int64)
    candidates: list[tuple[float, bytes]] = []
    heads: list[int] = []
    for order in range(min(_MAX_ORDER, x.size) + 1):
        if order:
            heads.append(int(x[0]))
            x = np.diff(x)  # int64 wraps around, and so does the cumsum that undoes it
        candidates.append((entropy_bits(x), packed(order, heads, x)))
    return min(candidates, key=lambda c: (c[0], len(c[1])))  # the lowest order on ties


def packed(order: int, heads: list[int], diffs: IntArray) -> bytes:
    scale = max(int(np.gcd.reduce(diffs)) if diffs.size else 0, 1)
    if (diffs % scale).any():  # gcd of values near -2**63 may be off; keep them whole
        scale = 1
    q = diffs // scale
    zigzag = (q.view(np.uint64) << np.uint64(1)) ^ (q >> np.int64(63)).view(np.uint64)
    top = int(zigzag.max()) if zigzag.size else 0
    width = 0 if top == 0 else next(w for w in _WIDTHS if top < 1 << (8 * w))
    header = struct.pack(f"<BBq{order}q", order, width, scale, *heads)
    if width == 0:
        return header
    shuffled = zigzag.astype(f"<u{width}").view(np.uint8).reshape(-1, width).T
    return header + shuffled.tobytes()


def bitmap(flags: BoolArray) -> bytes:
    """Flags packed eight to a byte, least significant bit first."""
    return np.packbits(flags, bitorder="little").tobytes()


def float_column(values: FloatArray) -> bytes:
    """``floats(values)``: exact hundredths when every value is one, else float64 bits."""
    x = np.ascontiguousarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.rint(x * 100.0)
    if (np.abs(q) < LEVEL_LIMIT).all():
        hundredths = q.astype(np.int64)
        if np.array_equal((hundredths / 100.0).view(np.int64), x.view(np.int64)):
            return b"\x01" + int_column(hundredths)
    return b"\x00" + int_column(x.view(np.int64))


class ColumnReader:
    """Parses one decompressed stream; every overrun or leftover is a ``ValueError``."""

    def __init__(self, data: bytes, index: int) -> None:
        self.data = data
        self.index = index
        self.at = 0

    def fail(self, what: str) -> ValueError:
        return ValueError(f"corrupt chunk: stream {self.index}: {what}")

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise self.fail(f"{size} bytes wanted at offset {self.at} of {len(self.data)}")
        self.at += size
        return self.data[self.at - size : self.at]

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        layout = struct.Struct("<" + fmt)
        return layout.unpack(self.take(layout.size))

    def check_count(self, count: int, bitmaps: int) -> None:
        """Refuse a count the stream is too short to hold ``bitmaps`` bitmaps of (before
        allocating anything for it)."""
        if bitmaps * ((count + 7) // 8) > len(self.data):
            raise self.fail(f"too short for {count} rows")

    def done(self) -> None:
        if self.at != len(self.data):
            raise self.fail(f"{len(self.data) - self.at} bytes left over")

    def ints(self, count: int) -> IntArray:
        """An ``ints`` column of ``count`` values."""
        order, width, scale = self.unpack("BBq")
        if order > min(_MAX_ORDER, count) or width not in (0, *_WIDTHS) or scale < 1:
            raise self.fail(f"bad column header {(order, width, scale)} for {count} values")
        heads = self.unpack(f"{order}q")
        size = count - order
        raw = np.frombuffer(self.take(size * width), dtype=np.uint8)
        if width:
            values = raw.reshape(width, size).T.copy().view(f"<u{width}")[:, 0]
            zigzag = values.astype(np.uint64)
        else:
            zigzag = np.zeros(size, dtype=np.uint64)
        half = (zigzag >> np.uint64(1)).view(np.int64)
        x = (half ^ -(zigzag & np.uint64(1)).view(np.int64)) * np.int64(scale)
        for head in reversed(heads):
            x = np.cumsum(np.concatenate((np.array([head], dtype=np.int64), x)))
        return x

    def bitmap(self, count: int) -> BoolArray:
        packed = np.frombuffer(self.take((count + 7) // 8), dtype=np.uint8)
        return np.unpackbits(packed, count=count, bitorder="little").astype(bool)

    def floats(self, count: int) -> FloatArray:
        """A ``floats`` column of ``count`` values."""
        (mode,) = self.unpack("B")
        if mode not in (0, 1):
            raise self.fail(f"bad float column mode {mode}")
        values = self.ints(count)
        return values / 100.0 if mode else values.view(np.float64)
