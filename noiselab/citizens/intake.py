"""What a citizen's report must be to be accepted, and the cleaning of its text.

A report says when it was loud (``ts``, default: when it arrived), where (a point picked on
the public map, WGS 84 degrees), what (``road``, ``rail`` or ``other``) and, optionally, a few
words. It is accepted when

- ``ts`` is no more than :data:`MAX_CLOCK_SKEW_S` after its arrival (a phone's clock may be a
  little ahead) and no more than :data:`MAX_AGE_S` (7 days) before it: a report is about
  something heard recently, and the levels it is reviewed against are kept;
- the point lies within :data:`VALLENSBAEK`, the area the public noise map covers;
- the text, once cleaned, is at most 500 characters. Cleaning removes control and format
  characters (Unicode categories C*, such as NUL, escapes and bidirectional overrides) other
  than line breaks and tabs, turns CR LF and CR into LF, normalises to NFC and strips the
  ends; an empty result means no text.

No personal data is asked for: the fields above are all a report holds. Text is kept as the
citizen wrote it otherwise (markup is not removed but stored as text, and every reader shows
it as text).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from noiselab.store.metadata import (
    CATEGORIES,
    MAX_TEXT_LENGTH,
    CitizenReport,
    ReportCategory,
)

__all__ = [
    "MAX_AGE_S",
    "MAX_CLOCK_SKEW_S",
    "VALLENSBAEK",
    "Area",
    "IntakeError",
    "accept",
    "clean_text",
]

MAX_CLOCK_SKEW_S = 120.0
"""How far after its arrival a report's time may lie, s (a sender's clock running ahead)."""
MAX_AGE_S = 7 * 86_400.0
"""How far before its arrival a report's time may lie, s: 7 days."""


class IntakeError(ValueError):
    """A report that is not accepted; the message names the field: ``"lat: ..."``."""


@dataclass(frozen=True, slots=True)
class Area:
    """A latitude/longitude box, degrees (WGS 84), edges included."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        """Whether ``(lat, lon)`` lies in the box."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def describe(self) -> str:
        """The box as a person reads it."""
        return (
            f"latitudes {self.south:.5f}..{self.north:.5f} and longitudes "
            f"{self.west:.5f}..{self.east:.5f}"
        )


VALLENSBAEK = Area(south=55.61055, west=12.32234, north=55.65545, east=12.41766)
"""The area of the public noise map: the outer edges of its 6 x 5 km grid centred on
(55.633 N, 12.370 E) (``noiselab.noisemap.model.DEFAULT_GRID``), to 5 decimals (about 1 m).
The map page gets it from ``/api/v1/map/config`` (``report_area``)."""


def clean_text(text: str | None) -> str | None:
    """``text`` cleaned as the module docstring says; ``None`` when nothing is left. Raises
    :class:`IntakeError` when the cleaned text is longer than 500 characters."""
    if text is None:
        return None
    unified = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(
        ch for ch in unified if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    )
    cleaned = unicodedata.normalize("NFC", kept).strip()
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise IntakeError(f"text: at most {MAX_TEXT_LENGTH} characters, got {len(cleaned)}")
    return cleaned or None


def accept(
    *,
    lat: float,
    lon: float,
    category: str,
    received_at: datetime,
    ts: datetime | None = None,
    text: str | None = None,
    area: Area = VALLENSBAEK,
) -> CitizenReport:
    """The report to store, from a request's fields (``ts`` defaults to ``received_at``;
    both aware), or :class:`IntakeError` naming the first field that is not accepted."""
    if received_at.tzinfo is None:
        raise IntakeError("received_at: must be timezone-aware")
    when = received_at if ts is None else ts
    if when.tzinfo is None:
        raise IntakeError("ts: must have a UTC offset (e.g. Z or +01:00)")
    if when > received_at + timedelta(seconds=MAX_CLOCK_SKEW_S):
        raise IntakeError(
            f"ts: {when.isoformat()} is in the future (at most {MAX_CLOCK_SKEW_S:g} s ahead)"
        )
    if when < received_at - timedelta(seconds=MAX_AGE_S):
        raise IntakeError(f"ts: {when.isoformat()} is more than 7 days ago")
    if category not in CATEGORIES:
        raise IntakeError(f"category: {category!r} must be one of {', '.join(CATEGORIES)}")
    if not area.contains(lat, lon):
        raise IntakeError(f"lat, lon: ({lat}, {lon}) is outside the map's area: {area.describe()}")
    kind: ReportCategory = category  # type: ignore[assignment]  # checked above
    try:
        return CitizenReport(
            ts=when, received_at=received_at, lat=lat, lon=lon, category=kind,
            text=clean_text(text),
        )  # fmt: skip
    except IntakeError:
        raise
    except ValueError as exc:
        raise IntakeError(str(exc)) from exc
