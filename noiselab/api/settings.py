"""Settings of the HTTP API, validated when built (without touching the network)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from noiselab.alerts.url_policy import AllowList
from noiselab.api.limits import Limits
from noiselab.config import parse_store_url, parse_zone
from noiselab.errors import ConfigError

__all__ = ["ApiSettings"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """What ``create_app`` needs.

    ``store_url`` is a ``--store`` URL, ``meta_url`` an SQLAlchemy URL of the metadata
    database. A sensor is ``online`` when its data arrived within ``stale_after_s`` seconds,
    ``stale`` within ``offline_after_s``, else ``offline``. ``zone`` (IANA name) gives local
    midnight for bare dates and ``1d`` buckets. ``day`` and ``evening`` are the local hours
    ``[from, to)`` of those periods (the night is the rest); Denmark's are 07-19 and 19-22, so
    Lden weighs them 12/3/9 h. A verified API key is trusted for ``auth_cache_s`` seconds
    without hashing it again, so revoking a key takes effect within that time (0: at once);
    a registered sensor's row is kept ``registry_cache_s`` seconds, so a change to it (its
    visibility, its source) reaches the API within that time (0: at once; a newly registered
    sensor is always seen at once).
    Public requests (no key) and failed key checks are limited per client address to
    ``public_rate_per_s`` a second with bursts of ``public_burst`` (either 0: no limit);
    ``X-Forwarded-For`` names the client only when the peer is in ``trusted_proxies``
    (see :mod:`noiselab.api.ratelimit`); with ``rate_limit_file`` the buckets live in that
    SQLite file, shared by every API process that names it (:mod:`noiselab.api.ratelimit_shared`).
    The public map page draws background tiles from
    ``tile_url`` (a Leaflet URL template with ``{z}``, ``{x}``, ``{y}``; empty: no tiles, the
    bundled roads and railway only) credited with ``tile_attribution`` (plain text) linking to
    ``tile_attribution_url``; it reloads its data every ``map_refresh_s`` seconds, and
    ``/api/v1/map`` is computed at most once per ``map_cache_s`` seconds per visibility (0: on
    every request). The living map's basic maps are cached in ``noisemap_cache_dir`` (empty:
    ``noiselab-noisemap`` in the system's temporary folder) and computed from the line sources
    of ``noisemap_sources`` (a GeoJSON file; empty: the bundled Vallensbæk lines, see
    :mod:`noiselab.noisemap.sources`). ``webhook_allow`` names the internal webhook receivers an
    alert rule may point at (CIDRs and/or host names, see
    :class:`~noiselab.alerts.url_policy.AllowList`; the ``noiselab alerts`` sender needs the
    same list). Citizens' reports are limited to ``citizen_report_burst`` per client address
    per ``citizen_report_window_s`` seconds (burst 0: no limit; see
    :mod:`noiselab.api.report_limit`). ``clock`` returns "now" in Unix seconds (injectable
    for tests; the rate limiter and the map caches use it too). ``limits`` bound what one
    request may cost: its body, its reads, the room of heavy reads
    (:class:`~noiselab.api.limits.Limits`). Raises ``ConfigError`` naming a bad value.
    """

    store_url: str
    meta_url: str
    stale_after_s: float = 120.0
    offline_after_s: float = 3600.0
    zone: str = "Europe/Copenhagen"
    day: tuple[int, int] = (7, 19)
    evening: tuple[int, int] = (19, 22)
    auth_cache_s: float = 60.0
    registry_cache_s: float = 5.0
    public_rate_per_s: float = 20.0
    public_burst: int = 100
    trusted_proxies: tuple[str, ...] = ()
    rate_limit_file: str | None = None
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "© OpenStreetMap contributors"
    tile_attribution_url: str = "https://www.openstreetmap.org/copyright"
    map_refresh_s: float = 60.0
    map_cache_s: float = 15.0
    noisemap_cache_dir: str = ""
    noisemap_sources: str = ""
    webhook_allow: tuple[str, ...] = ()
    citizen_report_burst: int = 5
    citizen_report_window_s: float = 600.0
    limits: Limits = field(default_factory=Limits)
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
        if not 0 <= self.auth_cache_s <= 3600:
            raise ConfigError(f"auth cache {self.auth_cache_s} s: need 0..3600 s")
        if not 0 <= self.registry_cache_s <= 300:
            raise ConfigError(f"registry cache {self.registry_cache_s} s: need 0..300 s")
        if not 0 <= self.public_rate_per_s <= 1e6:
            raise ConfigError(f"public rate {self.public_rate_per_s}/s: need 0..1000000 (0: off)")
        if not 0 <= self.public_burst <= 1_000_000:
            raise ConfigError(f"public burst {self.public_burst}: need 0..1000000 (0: off)")
        parse_zone("time zone", self.zone)
        if not 0 <= self.citizen_report_burst <= 10_000:
            raise ConfigError(
                f"citizen report burst {self.citizen_report_burst}: need 0..10000 (0: off)"
            )
        if not 1 <= self.citizen_report_window_s <= 86_400:
            raise ConfigError(
                f"citizen report window {self.citizen_report_window_s} s: need 1..86400 s"
            )
        self._check_map()
        AllowList.parse(self.webhook_allow)
        (d0, d1), (e0, e1) = self.day, self.evening
        if not (0 <= d0 < d1 == e0 < e1 <= 24 and e1 - d0 < 24):
            raise ConfigError(
                f"periods day {d0}-{d1}, evening {e0}-{e1}: need 0 <= day start < day end = "
                "evening start < evening end <= 24, leaving a night"
            )

    def _check_map(self) -> None:
        if self.tile_url and not (
            self.tile_url.startswith(("https://", "http://", "/"))
            and all(part in self.tile_url for part in ("{z}", "{x}", "{y}"))
        ):
            raise ConfigError(
                f"tile URL {self.tile_url!r}: need an http(s) or /path template with {{z}}, "
                "{x} and {y}, or empty for no tiles"
            )
        if len(self.tile_attribution) > 300:
            raise ConfigError("tile attribution: at most 300 characters")
        if self.tile_attribution_url and not self.tile_attribution_url.startswith(
            ("https://", "http://")
        ):
            raise ConfigError(
                f"tile attribution URL {self.tile_attribution_url!r}: need http(s) or empty"
            )
        if not 5 <= self.map_refresh_s <= 86_400:
            raise ConfigError(f"map refresh {self.map_refresh_s} s: need 5..86400 s")
        if not 0 <= self.map_cache_s <= 3600:
            raise ConfigError(f"map cache {self.map_cache_s} s: need 0..3600 s (0: off)")
        if self.noisemap_sources and not Path(self.noisemap_sources).is_file():
            raise ConfigError(f"noise map sources {self.noisemap_sources!r}: no such file")

    @property
    def night(self) -> tuple[int, int]:
        """The night's local hours: from the end of the evening to the start of the day."""
        return self.evening[1] % 24, self.day[0]

    @property
    def webhook_allow_list(self) -> AllowList:
        """``webhook_allow`` parsed."""
        return AllowList.parse(self.webhook_allow)

    @property
    def tz(self) -> ZoneInfo:
        """The local time zone."""
        return parse_zone("time zone", self.zone)
