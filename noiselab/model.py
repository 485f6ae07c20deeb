"""Domain records shared by ingest, store and API.

Conventions: levels in dB re 20 µPa (A-weighted unless the name says Z); ``ts`` is the start of
the measurement interval in Unix seconds (UTC); ``duration`` is the interval length in seconds.
The store keys readings by ``(sensor_id, ts)`` at millisecond resolution. The registry records
(:class:`Sensor`, :class:`ApiKey`) carry timezone-aware UTC ``datetime`` objects.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Literal, get_args

import msgspec

__all__ = [
    "MAX_NAME_LENGTH",
    "ROLES",
    "SENSOR_ID_PATTERN",
    "SOURCES",
    "ApiKey",
    "Reading",
    "Rejection",
    "Role",
    "Sensor",
    "SensorSource",
    "Spectrum",
    "WeatherObservation",
    "check_sensor_id",
    "rfc3339",
    "ts_key",
    "utc",
    "utcnow",
]


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


class WeatherObservation(msgspec.Struct, frozen=True, gc=False):
    """One validated observation of one weather station over ``[ts, ts + duration)``.

    ``ts`` Unix s (UTC), ``duration`` s; ``wind_speed`` the mean and ``wind_gust`` the highest
    wind speed at the station's anemometer height (m/s), ``wind_direction`` where the wind
    comes from (degrees clockwise from north, [0, 360)), ``precipitation`` what fell in the
    interval (mm), ``temperature`` (°C). ``None``: not observed. Keyed by ``(station_id, ts)``
    at millisecond resolution like a :class:`Reading`."""

    station_id: str
    ts: float
    duration: float = 60.0
    wind_speed: float | None = None
    wind_gust: float | None = None
    wind_direction: float | None = None
    precipitation: float | None = None
    temperature: float | None = None


def ts_key(ts: float) -> int:
    """The store key of a timestamp: integer milliseconds since the Unix epoch (UTC)."""
    return round(ts * 1000.0)


# --------------------------------------------------------------------------- the registry


SENSOR_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
"""A sensor id, as in the MQTT topic ``noiselab/{sensor_id}/levels`` (matched in full)."""

SensorSource = Literal["road", "rail", "background"]
"""The noise source a sensor measures; ``None`` when unknown (auto-registered sensors)."""

SOURCES: frozenset[str] = frozenset(get_args(SensorSource))

Role = Literal["vendor", "staff", "admin", "sensor"]
"""The role of an API key; callers without a key are the public. A ``sensor`` key only pushes
readings over HTTP for the sensors it lists."""

ROLES: frozenset[str] = frozenset(get_args(Role))

MAX_NAME_LENGTH = 200
"""Longest name of a sensor, an API key or a trial, characters."""


def utc(t: float) -> datetime:
    """``t`` (Unix s) as an aware UTC datetime."""
    return datetime.fromtimestamp(t, UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def rfc3339(instant: datetime) -> str:
    """``instant`` as RFC 3339 in UTC with ``Z`` (microseconds only when there are some):
    ``2026-03-29T01:30:00Z``. A naive ``instant`` is taken as local time, so pass aware ones."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def check_sensor_id(sensor_id: str) -> None:
    """Raise ``ValueError`` unless ``sensor_id`` matches :data:`SENSOR_ID_PATTERN` in full."""
    if not SENSOR_ID_PATTERN.fullmatch(sensor_id):
        raise ValueError(
            f"sensor id {sensor_id!r} must be 2-64 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit"
        )


class Sensor(msgspec.Struct, frozen=True, kw_only=True):
    """A registered sensor. ``lat``/``lon`` in decimal degrees (WGS 84), both or neither.

    ``public`` sensors appear on the public map and API. ``created`` is the registration time
    (aware, UTC); replacing a sensor keeps it. Invalid values raise ``ValueError``.
    """

    id: str
    name: str
    lat: float | None = None
    lon: float | None = None
    source: SensorSource | None = None
    description: str = ""
    public: bool = True
    created: datetime = msgspec.field(default_factory=utcnow)

    def __post_init__(self) -> None:
        check_sensor_id(self.id)
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1-{MAX_NAME_LENGTH} characters")
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"source {self.source!r} must be one of road, rail, background")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        _check_range("lat", self.lat, 90.0)
        _check_range("lon", self.lon, 180.0)
        if self.created.tzinfo is None:
            raise ValueError("created must be timezone-aware")


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """An API key as stored, without its secret. ``sensors`` are the ids a vendor key may see
    besides the public sensors, or the ids a sensor key may push readings for (empty for
    staff and admin). ``revoked_at`` and ``last_used`` are
    aware UTC times or ``None``."""

    id: str
    name: str
    role: Role
    sensors: tuple[str, ...] = ()
    created: datetime = msgspec.field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1-{MAX_NAME_LENGTH} characters")
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} must be one of vendor, staff, admin, sensor")
        if self.sensors and self.role not in ("vendor", "sensor"):
            raise ValueError("only vendor and sensor keys list sensors; staff and admin see all")
        if self.role == "sensor" and not self.sensors:
            raise ValueError("a sensor key must list the sensors it may push readings for")
        for sensor_id in self.sensors:
            check_sensor_id(sensor_id)


def _check_range(name: str, value: float | None, bound: float) -> None:
    if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
        raise ValueError(f"{name} {value} is outside -{bound:g}..{bound:g}")
