"""``noiselab api``: serve the HTTP API and the public noise map."""

from __future__ import annotations

from typing import Annotated

import typer

from noiselab.cli.common import fail, metadata_url
from noiselab.cli.options import (
    DEFAULT_DAY,
    DEFAULT_EVENING,
    DEFAULT_STORE,
    DayOpt,
    EveningOpt,
    LogJsonOpt,
    LogLevelOpt,
    MetaOpt,
    StoreOpt,
    WebhookAllowOpt,
)
from noiselab.config import parse_hours, parse_store_url
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging

__all__ = ["api"]


def api(
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    host: Annotated[str, typer.Option(envvar="NOISELAB_API_HOST", help="Bind address.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="NOISELAB_API_PORT", help="Port.")] = 8000,
    zone: Annotated[
        str, typer.Option(envvar="NOISELAB_ZONE", help="Local time zone (IANA) for days.")
    ] = "Europe/Copenhagen",
    day: DayOpt = DEFAULT_DAY,
    evening: EveningOpt = DEFAULT_EVENING,
    public_rate: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_PUBLIC_RATE",
            min=0,
            help="Requests/s per client address without a key (0: no limit).",
        ),
    ] = 20.0,
    public_burst: Annotated[
        int,
        typer.Option(
            envvar="NOISELAB_PUBLIC_BURST",
            min=0,
            help="Burst of requests per client address without a key (0: no limit).",
        ),
    ] = 100,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            envvar="NOISELAB_TRUSTED_PROXIES",
            help="Peer address whose X-Forwarded-For is believed (repeatable; default none).",
        ),
    ] = None,
    rate_limit_file: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_RATE_LIMIT_FILE",
            help="SQLite file for the public rate limit, shared by API processes naming it.",
        ),
    ] = None,
    tile_url: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_TILE_URL",
            help="Map tile URL template with {z}/{x}/{y}; empty: no tiles.",
        ),
    ] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    tile_attribution: Annotated[
        str, typer.Option(envvar="NOISELAB_TILE_ATTRIBUTION", help="Who the tiles credit.")
    ] = "© OpenStreetMap contributors",
    tile_attribution_url: Annotated[
        str,
        typer.Option(envvar="NOISELAB_TILE_ATTRIBUTION_URL", help="Link of the attribution."),
    ] = "https://www.openstreetmap.org/copyright",
    map_refresh: Annotated[
        float,
        typer.Option(envvar="NOISELAB_MAP_REFRESH", min=5, max=86400, help="Map page refresh, s."),
    ] = 60.0,
    map_cache: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_MAP_CACHE", min=0, max=3600, help="/api/v1/map cache, s (0: off)."
        ),
    ] = 15.0,
    noisemap_cache: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_NOISEMAP_CACHE",
            help="Folder for the living map's basic maps (empty: the system's temp folder).",
        ),
    ] = "",
    noisemap_sources: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_NOISEMAP_SOURCES",
            help="GeoJSON of the map's line sources (empty: the bundled Vallensbæk lines).",
        ),
    ] = "",
    webhook_allow: WebhookAllowOpt = None,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the public noise map (at /)."""
    import uvicorn

    from noiselab.api.app import create_app
    from noiselab.api.settings import ApiSettings

    configure_logging(log_level, as_json=log_json)
    try:
        settings = ApiSettings(
            store_url=store,
            meta_url=metadata_url(store, meta),
            zone=zone,
            day=parse_hours("--day", day),
            evening=parse_hours("--evening", evening),
            public_rate_per_s=public_rate,
            public_burst=public_burst,
            trusted_proxies=tuple(trusted_proxy or ()),
            rate_limit_file=rate_limit_file or None,
            tile_url=tile_url,
            tile_attribution=tile_attribution,
            tile_attribution_url=tile_attribution_url,
            map_refresh_s=map_refresh,
            map_cache_s=map_cache,
            noisemap_cache_dir=noisemap_cache,
            noisemap_sources=noisemap_sources,
            webhook_allow=tuple(webhook_allow or ()),
        )
        parse_store_url(store)
    except NoiselabError as exc:
        raise fail(exc) from exc
    # uvicorn would rewrite the client address from X-Forwarded-For for any loopback peer by
    # default (forwarded_allow_ips 127.0.0.1): only the --trusted-proxy addresses may do that.
    trusted = list(settings.trusted_proxies)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        log_level=log_level.lower(),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )
