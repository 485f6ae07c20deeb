"""Settings of the HTTP API, validated when built (without touching the network)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from noiselab.config import parse_store_url
from noiselab.errors import ConfigError

__all__ = ["ApiSettings"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What ``create_app`` needs.

    ``store_url`` is a ``--store`` URL, ``meta_url`` an SQLAlchemy URL of the metadata
    database. A sensor is ``online`` when its data arrived within ``stale_after_s`` seconds,
    ``stale`` within ``offline_after_s``, else ``offline``. ``zone`` (IANA name) gives local
    midnight for bare dates and ``1d`` buckets. ``clock`` returns "now" in Unix seconds
    (injectable for tests). Raises ``ConfigError`` naming a bad value.
    """

    store_url: str
    meta_url: str
    stale_after_s: float = 120.0
    offline_after_s: float = 3600.0
    zone: str = "Europe/Copenhagen"
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def __post_init__(self) -> None:
        parse_store_url(self.store_url)
        try:
            sa.make_url(self.meta_url)
        except sa_exc.ArgumentError as exc:
            raise ConfigError(f"metadata URL {self.meta_url!r}: not an SQLAlchemy URL") from exc
        if not 0 < self.stale_after_s <= self.offline_after_s:
            raise ConfigError(
                f"stale after {self.stale_after_s} s / offline after {self.offline_after_s} s:"
                " need 0 < stale <= offline"
            )
        _load_zone(self.zone)

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone."""
        return _load_zone(self.zone)


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"time zone {name!r}: unknown IANA name") from exc
