"""What a staff annotation is, and the limits its values keep to.

An annotation marks a half-open period ``[start, end)`` of aware UTC instants on whole minutes
(the per-minute roll-up is the finest data an indicator reads, so a period on whole minutes
applies exactly), at most :data:`MAX_ANNOTATION_DAYS` long, with a ``category`` and a ``text``
saying why (roadworks on Køge Bugt Motorvejen, a festival, a faulty microphone). It concerns
``sensor_ids`` (empty: every sensor), or a ``place`` (a position and a radius in metres) whose
registered sensors are found when it is saved and kept as its ``sensor_ids``, so what it
concerned stays the same when sensors are added or moved later. ``exclude`` asks for the
period to be left out of the indicators and trials.

Annotations are never edited or deleted: one is *withdrawn* once, with its own reason, by whom
and when; the row keeps both. Active means not withdrawn.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from noiselab.errors import NoiselabError
from noiselab.model import MAX_NAME_LENGTH, SENSOR_ID_PATTERN, utcnow

__all__ = [
    "ANNOTATION_CATEGORIES",
    "EARLIEST_ANNOTATION",
    "LATEST_ANNOTATION",
    "MAX_ANNOTATION_DAYS",
    "MAX_ANNOTATION_SENSORS",
    "MAX_ANNOTATION_TEXT",
    "MAX_PLACE_RADIUS_M",
    "MAX_WITHDRAW_REASON",
    "AlreadyWithdrawnAnnotation",
    "Annotation",
    "AnnotationCategory",
    "NoSensorsNearby",
    "Place",
    "check_name",
    "check_text",
]

AnnotationCategory = Literal["roadworks", "event", "equipment", "other"]
ANNOTATION_CATEGORIES: tuple[AnnotationCategory, ...] = (
    "roadworks",
    "event",
    "equipment",
    "other",
)
MAX_ANNOTATION_TEXT = 500
"""Longest reason of an annotation, characters."""
MAX_WITHDRAW_REASON = 2000
"""Longest reason of a withdrawal, characters (as for corrections)."""
MAX_ANNOTATION_DAYS = 366
"""Longest period of one annotation, days (a year of roadworks is several annotations)."""
MAX_ANNOTATION_SENSORS = 500
"""Most sensors one annotation names."""
MAX_PLACE_RADIUS_M = 20_000.0
"""Largest radius of a place, m: Vallensbæk measures about 10 km across."""
EARLIEST_ANNOTATION = datetime(1970, 1, 1, tzinfo=UTC)
"""An annotation starts at or after the Unix epoch (no reading is older)."""
LATEST_ANNOTATION = datetime(2100, 1, 1, tzinfo=UTC)
"""An annotation ends at or before this instant (the latest a query may name)."""


class AlreadyWithdrawnAnnotation(NoiselabError):  # noqa: N818 - reads as its state
    """An annotation was withdrawn before; it stays as it was."""


class NoSensorsNearby(ValueError):  # noqa: N818 - reads as what was found
    """A place has no registered sensor with a position within its radius (an annotation
    without sensors would concern every sensor, which the place did not mean)."""


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """A position (WGS84 decimal degrees) and a radius (m) around it."""

    lat: float
    lon: float
    radius_m: float

    def __post_init__(self) -> None:
        for name, value, bound in (("lat", self.lat, 90.0), ("lon", self.lon, 180.0)):
            if isinstance(value, bool) or not math.isfinite(value) or abs(value) > bound:
                raise ValueError(f"place.{name}: {value!r} must be within ±{bound:g} degrees")
        radius = self.radius_m
        if isinstance(radius, bool) or not math.isfinite(radius):
            raise ValueError(f"place.radius_m: {radius!r} must be a number of metres")
        if not 0 < radius <= MAX_PLACE_RADIUS_M:
            raise ValueError(
                f"place.radius_m: {radius!r} must be 0 < r <= {MAX_PLACE_RADIUS_M:g} m"
            )


class Annotation(msgspec.Struct, frozen=True, kw_only=True):
    """One annotation (module docstring). ``id`` is ``None`` until stored. ``sensor_ids`` are
    sorted and distinct; empty means every sensor. ``created_by`` and ``withdrawn_by`` name who
    acted (an API key's name, or the name given to the command); ``*_key`` the API key's id
    when one was used. Invalid values raise ``ValueError`` with a message a person can read."""

    start: datetime
    end: datetime
    category: AnnotationCategory
    text: str
    created_by: str
    sensor_ids: tuple[str, ...] = ()
    place: Place | None = None
    exclude: bool = False
    created_by_key: str | None = None
    created_at: datetime = msgspec.field(default_factory=utcnow)
    id: int | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_by_key: str | None = None
    withdraw_reason: str | None = None

    def __post_init__(self) -> None:
        _check_period(self.start, self.end)
        if self.category not in ANNOTATION_CATEGORIES:
            raise ValueError(
                f"category: {self.category!r} must be one of {', '.join(ANNOTATION_CATEGORIES)}"
            )
        check_text("text", self.text, MAX_ANNOTATION_TEXT)
        check_name("created_by", self.created_by)
        if len(self.sensor_ids) > MAX_ANNOTATION_SENSORS:
            raise ValueError(f"sensor_ids: at most {MAX_ANNOTATION_SENSORS} sensors")
        for sensor_id in self.sensor_ids:
            if not SENSOR_ID_PATTERN.fullmatch(sensor_id):
                raise ValueError(f"sensor_ids: {sensor_id[:70]!r} is not a sensor id")
        if list(self.sensor_ids) != sorted(set(self.sensor_ids)):
            raise ValueError("sensor_ids: must be sorted and distinct")
        withdrawal = (self.withdrawn_at, self.withdrawn_by, self.withdraw_reason)
        if any(v is None for v in withdrawal) and any(v is not None for v in withdrawal):
            raise ValueError("a withdrawal needs its time, who and a reason together")

    @property
    def active(self) -> bool:
        """Whether it applies: not withdrawn."""
        return self.withdrawn_at is None

    @property
    def all_sensors(self) -> bool:
        """Whether it concerns every sensor (it names none)."""
        return not self.sensor_ids

    def concerns(self, sensor_id: str) -> bool:
        """Whether it concerns ``sensor_id``."""
        return self.all_sensors or sensor_id in self.sensor_ids

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether its period shares an instant with ``[start, end)``."""
        return self.start < end and start < self.end

    @property
    def reason(self) -> str:
        """``"category: text"``, as spans and feeds show it."""
        return f"{self.category}: {self.text}"


def _check_period(start: datetime, end: datetime) -> None:
    for name, instant in (("start", start), ("end", end)):
        if instant.tzinfo is None:
            raise ValueError(f"{name}: must be timezone-aware")
        if instant.timestamp() % 60 != 0:
            raise ValueError(
                f"{name}: {instant.isoformat()} must be on a whole minute (indicators are "
                "computed from per-minute data)"
            )
    if not start < end:
        raise ValueError("start: must be before end")
    if start < EARLIEST_ANNOTATION or end > LATEST_ANNOTATION:
        raise ValueError("start and end: must lie within 1970-01-01..2100-01-01")
    if end - start > timedelta(days=MAX_ANNOTATION_DAYS):
        raise ValueError(f"end: an annotation lasts at most {MAX_ANNOTATION_DAYS} days")


def check_text(name: str, value: str, longest: int) -> None:
    """``ValueError`` unless ``value`` is 1-``longest`` characters and not blank."""
    if not value.strip() or len(value) > longest:
        raise ValueError(f"{name}: must be 1-{longest} characters, not blank")


def check_name(name: str, value: str) -> None:
    """``ValueError`` unless ``value`` is a name of 1-``MAX_NAME_LENGTH`` characters."""
    if not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"{name}: must be 1-{MAX_NAME_LENGTH} characters, not blank")
