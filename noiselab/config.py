"""Connection URLs and settings, validated up front without touching the network.

``--mqtt`` takes ``mqtt://[user:pass@]host[:port]`` (``mqtts://`` for TLS, default ports 1883 and
8883). ``--store`` takes ``sqlite:///PATH`` or ``influxdb://HOST:PORT?org=ORG&bucket=BUCKET``.
``--meta`` takes an SQLAlchemy URL (``sqlite:///PATH``, ``postgresql+psycopg://...``); by default
the metadata lives in ``metadata.db`` beside a SQLite store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from noiselab.errors import ConfigError

__all__ = [
    "MqttUrl",
    "StoreUrl",
    "default_meta_url",
    "parse_duration",
    "parse_hours",
    "parse_mqtt_url",
    "parse_store_url",
    "parse_utc_time",
    "parse_zone",
]


@dataclass(frozen=True, slots=True)
class MqttUrl:
    """A broker address."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A time-series store: ``kind`` is ``sqlite`` or ``influxdb``."""

    kind: str
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    org: str | None = None
    bucket: str | None = None


def parse_mqtt_url(url: str) -> MqttUrl:
    """Parse ``mqtt://[user:pass@]host[:port]``; raise ``ConfigError`` naming the bad value."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ConfigError(f"MQTT URL {url!r}: scheme must be mqtt:// or mqtts://")
    if not parts.hostname:
        raise ConfigError(f"MQTT URL {url!r}: no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"MQTT URL {url!r}: bad port") from exc
    tls = parts.scheme == "mqtts"
    return MqttUrl(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def parse_store_url(url: str) -> StoreUrl:
    """Parse a ``--store`` URL; raise ``ConfigError`` naming the bad value."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path or parts.path == "/":
            raise ConfigError(f"store URL {url!r}: expected sqlite:///PATH (three slashes)")
        return StoreUrl(kind="sqlite", path=Path(parts.path[1:] or parts.path))
    if parts.scheme == "influxdb":
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        missing = [k for k in ("org", "bucket") if not query.get(k)]
        if not parts.hostname or missing:
            raise ConfigError(
                f"store URL {url!r}: expected influxdb://HOST:PORT?org=ORG&bucket=BUCKET"
            )
        try:
            port = parts.port or 8086
        except ValueError as exc:
            raise ConfigError(f"store URL {url!r}: bad port") from exc
        return StoreUrl(
            kind="influxdb",
            host=parts.hostname,
            port=port,
            org=query["org"],
            bucket=query["bucket"],
        )
    raise ConfigError(f"store URL {url!r}: scheme must be sqlite:// or influxdb://")


def default_meta_url(store: StoreUrl) -> str:
    """The metadata database used when ``--meta`` is not given: ``metadata.db`` beside a
    SQLite store. An InfluxDB store has no local directory, so ``--meta`` is required."""
    if store.kind != "sqlite" or store.path is None:
        raise ConfigError("--meta (NOISELAB_META) is required with an InfluxDB store")
    return f"sqlite:///{store.path.parent / 'metadata.db'}"


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, name: str = "duration") -> float:
    """Seconds in ``90s``, ``15m``, ``24h``, ``7d``, ``2w`` or a bare number of seconds;
    ``ConfigError`` naming ``name`` (e.g. the option) otherwise."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _DURATION_UNITS else "s"
    number = value[:-1] if value[-1:] in _DURATION_UNITS else value
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError as exc:
        raise ConfigError(f"{name} {text!r}: expected e.g. 90s, 15m, 24h or 7d") from exc
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"{name} {text!r}: must be a finite, non-negative time")
    return seconds


def parse_zone(name: str, text: str) -> ZoneInfo:
    """The IANA time zone ``text``; ``ConfigError`` naming ``name`` when there is none."""
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{name} {text!r}: unknown IANA name") from exc


def parse_hours(name: str, text: str) -> tuple[int, int]:
    """Local hours ``FROM-TO`` (e.g. ``7-19``) of a day period, ``0 <= FROM < TO <= 24``."""
    parts = text.strip().split("-")
    try:
        first, last = (int(p) for p in parts)
    except ValueError as exc:
        raise ConfigError(f"{name} {text!r}: expected local hours FROM-TO, e.g. 7-19") from exc
    if not 0 <= first < last <= 24:
        raise ConfigError(f"{name} {text!r}: need 0 <= FROM < TO <= 24")
    return first, last


def parse_utc_time(name: str, text: str, expected: str) -> float:
    """Unix seconds of an ISO 8601 / RFC 3339 time or date (UTC when it has no offset);
    ``ConfigError`` naming ``name`` and saying what was ``expected`` otherwise."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{name} {text!r}: expected {expected}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
