"""A minimal writer of 8-bit palette PNG images (PNG specification, ISO/IEC 15948:2004).

The surface overlay needs at most a dozen colours and one transparency per colour, which an
indexed-colour PNG (colour type 3, one byte per pixel, ``PLTE`` + ``tRNS`` chunks) stores
exactly and compactly. No imaging library is a dependency of noiselab, and this is the whole
of what the map needs: about forty lines with the standard library's ``zlib`` (deflate and
CRC-32), rather than a new dependency of several megabytes. Rows are written top (north)
first with filter type 0 (none): the images are mostly runs of equal bytes, which deflate
already compresses well.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["SIGNATURE", "Rgba", "palette_png", "parse_hex"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
"""The eight bytes every PNG file starts with (specification §5.2)."""

Rgba = tuple[int, int, int, int]
"""A palette entry: red, green, blue and alpha, 0..255 each (alpha 0: transparent)."""


def parse_hex(colour: str, alpha: int = 255) -> Rgba:
    """``"#FD8D3C"`` -> ``(253, 141, 60, alpha)``."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"colour {colour!r}: need #RRGGBB")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), alpha


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One chunk: length, type, data, CRC-32 of type and data (specification §5.3)."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def palette_png(
    indices: npt.NDArray[np.uint8], palette: Sequence[Rgba], *, level: int = 6
) -> bytes:
    """A PNG of ``indices`` (shape ``(height, width)``, row 0 at the top, each value an index
    into ``palette``, at most 256 entries), compressed with deflate ``level``."""
    if indices.ndim != 2 or indices.dtype != np.uint8:
        raise ValueError("indices must be a 2-D uint8 array")
    if not 1 <= len(palette) <= 256:
        raise ValueError("a palette holds 1 to 256 colours")
    if indices.size and int(indices.max()) >= len(palette):
        raise ValueError(f"index {int(indices.max())} beyond a palette of {len(palette)}")
    height, width = indices.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    rows = np.empty((height, width + 1), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 before each row
    rows[:, 1:] = indices
    plte = bytes(v for rgba in palette for v in rgba[:3])
    trns = bytes(rgba[3] for rgba in palette)
    return b"".join(
        [
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", plte),
            _chunk(b"tRNS", trns),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)),
            _chunk(b"IEND", b""),
        ]
    )
