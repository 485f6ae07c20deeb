"""Domain records shared by ingest, store and API.

Conventions: levels in dB re 20 µPa (A-weighted unless the name says Z); ``ts`` is the start of
the measurement interval in Unix seconds (UTC); ``duration`` is the interval length in seconds.
The store keys readings by ``(sensor_id, ts)`` at millisecond resolution.
"""

from __future__ import annotations

import msgspec

__all__ = ["Reading", "Rejection", "Spectrum", "ts_key"]


class Spectrum(msgspec.Struct, frozen=True, gc=False):
    """Third-octave LZeq spectrum: nominal IEC 61260 band centres (Hz) and levels (dB)."""

    bands_hz: tuple[float, ...]
    lzeq: tuple[float, ...]


class Reading(msgspec.Struct, frozen=True, gc=False):
    """One validated sound-level reading of one sensor over ``[ts, ts + duration)``."""

    sensor_id: str
    ts: float
    laeq: float
    duration: float = 1.0
    lafmax: float | None = None
    lafmin: float | None = None
    spectrum: Spectrum | None = None
    seq: int | None = None


class Rejection(msgspec.Struct, frozen=True, gc=False):
    """A reading (or a whole message) that was not stored, with a reason a person can read.

    ``raw`` is the offending JSON value (or the payload bytes when the message itself is bad),
    capped in size by the parser; ``sensor_id`` is the topic's sensor when it could be read.
    ``index`` is the position in a batch array, ``None`` for a single reading or a bad message.
    """

    topic: str
    sensor_id: str | None
    raw: bytes
    reason: str
    received_at: float
    index: int | None = None


def ts_key(ts: float) -> int:
    """The store key of a timestamp: integer milliseconds since the Unix epoch (UTC)."""
    return round(ts * 1000.0)
