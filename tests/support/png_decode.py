"""A strict decoder of the 8-bit palette PNGs the living map writes (filter type 0 only), for
checking their pixels: every chunk's CRC is verified, so a damaged file fails."""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_palette_png(data: bytes) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """``(indices (height, width) uint8, palette as RGBA)`` of a palette PNG."""
    assert data[:8] == SIGNATURE, "not a PNG"
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind!r}"
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
        pos += 12 + length
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 3), "not an 8-bit palette PNG"
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 0).all(), "only filter type 0 is expected"
    plte, trns = chunks[b"PLTE"], chunks.get(b"tRNS", b"")
    palette = [
        (plte[3 * i], plte[3 * i + 1], plte[3 * i + 2], trns[i] if i < len(trns) else 255)
        for i in range(len(plte) // 3)
    ]
    return rows[:, 1:].copy(), palette
