"""Immutable history: when an offered reading repeats a stored one, and when it conflicts.

Stored readings are a vendor's evidence, so no write replaces one. A reading offered for a
``(sensor_id, ts)`` already stored is compared with it field by field at the precision the
store keeps (pure, no I/O; used by both adapters):

- ``duration`` in whole milliseconds (the key resolution the roll-ups use);
- levels (``laeq``, ``lafmax``, ``lafmin``, the spectrum's ``lzeq``) within half of
  :data:`LEVEL_RESOLUTION_DB`, the resolution of compacted SQLite hours, so that a reading
  re-delivered into a compacted hour is still recognised;
- band centres, ``seq`` and the presence of every optional field exactly.

Equal in all of them: a re-delivery, stored once and acknowledged. Different in any: a
:class:`Conflict`, not written; the ingest quarantines the offered reading with both values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from noiselab.model import Reading, Spectrum, rfc3339, ts_key

__all__ = ["LEVEL_RESOLUTION_DB", "Conflict", "differences", "same_reading", "split_repeats"]

LEVEL_RESOLUTION_DB: Final = 0.01
"""The finest level step every store keeps (compacted SQLite hours round to it), dB."""
_LEVEL_TOLERANCE_DB: Final = LEVEL_RESOLUTION_DB / 2 + 1e-9  # float error of q / 100


@dataclass(frozen=True, slots=True)
class Conflict:
    """A reading refused because another one is stored for its ``(sensor_id, ts)``: what was
    ``offered`` and what is ``stored`` (levels of compacted hours at 0.01 dB)."""

    offered: Reading
    stored: Reading

    def detail(self) -> str:
        """The time and every differing field with both values, for the quarantine reason:
        ``at 2026-03-02T12:00:00Z: laeq stored 71.5, offered 120.0``."""
        at = rfc3339(datetime.fromtimestamp(self.stored.ts, UTC))
        changes = "; ".join(
            f"{name} stored {stored}, offered {offered}"
            for name, stored, offered in differences(self.stored, self.offered)
        )
        return f"at {at}: {changes}"


def _level_equal(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= _LEVEL_TOLERANCE_DB


def _spectrum_equal(a: Spectrum | None, b: Spectrum | None) -> bool:
    if a is None or b is None:
        return a is b
    return (
        a.bands_hz == b.bands_hz
        and len(a.lzeq) == len(b.lzeq)
        and all(_level_equal(x, y) for x, y in zip(a.lzeq, b.lzeq, strict=True))
    )


def _duration_equal(a: float, b: float) -> bool:
    """Equal in whole milliseconds as the store keeps them (as ``duration_ms``: rounded half
    to even, at least 1 ms), compared without building arrays: this runs per re-delivery."""
    return max(1, round(a * 1000.0)) == max(1, round(b * 1000.0))


def differences(stored: Reading, offered: Reading) -> list[tuple[str, str, str]]:
    """``(field, stored value, offered value)`` of every field that differs at the store's
    precision (values as text, ``none`` for an absent field); empty for a re-delivery."""
    found: list[tuple[str, str, str]] = []
    if not _duration_equal(stored.duration, offered.duration):
        found.append(("duration", _text(stored.duration), _text(offered.duration)))
    for name in ("laeq", "lafmax", "lafmin"):
        a, b = getattr(stored, name), getattr(offered, name)
        if not _level_equal(a, b):
            found.append((name, _text(a), _text(b)))
    if not _spectrum_equal(stored.spectrum, offered.spectrum):
        found.append(
            ("spectrum", _spectrum_text(stored.spectrum), _spectrum_text(offered.spectrum))
        )
    if stored.seq != offered.seq:
        found.append(("seq", _text(stored.seq), _text(offered.seq)))
    return found


def same_reading(stored: Reading, offered: Reading) -> bool:
    """True when ``offered`` repeats ``stored`` at the store's precision (a re-delivery)."""
    return not differences(stored, offered)


def _text(value: float | int | None) -> str:
    return "none" if value is None else repr(value)


def _spectrum_text(spectrum: Spectrum | None) -> str:
    if spectrum is None:
        return "none"
    return f"{len(spectrum.bands_hz)} bands, LZeq {list(spectrum.lzeq)!r}"[:200]


def split_repeats(readings: Sequence[Reading]) -> tuple[list[Reading], list[tuple[int, int]]]:
    """The first reading of each ``(sensor_id, ts)`` key (ms) in arrival order, and
    ``(arrival index of a later reading of a key, index of its first in that list)``."""
    first_of: dict[tuple[str, int], int] = {}
    firsts: list[Reading] = []
    repeats: list[tuple[int, int]] = []
    for j, reading in enumerate(readings):
        key = (reading.sensor_id, ts_key(reading.ts))
        i = first_of.setdefault(key, len(firsts))
        if i == len(firsts):
            firsts.append(reading)
        else:
            repeats.append((j, i))
    return firsts, repeats
