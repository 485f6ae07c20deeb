"""The FastAPI application factory. Nothing is built at import time: ``create_app(settings)``
builds an app, and its lifespan opens the stores on start-up and closes them on shut-down.

Usage::

    app = create_app(ApiSettings(store_url="sqlite:///data/noiselab.db",
                                 meta_url="sqlite:///data/metadata.db"))
    uvicorn.run(app)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from noiselab import __version__
from noiselab.api.auth import KeyVerifier
from noiselab.api.errors import install_error_handlers
from noiselab.api.metrics import ApiMetrics, MetricsMiddleware
from noiselab.api.ratelimit import RateLimiter
from noiselab.api.routes import (
    alerts,
    events,
    health,
    indicators,
    keys,
    public_map,
    push,
    sensors,
    staff,
    surface,
    trials,
)
from noiselab.api.sensor_cache import SensorCache
from noiselab.api.settings import ApiSettings
from noiselab.api.surface_bodies import SurfaceBodies
from noiselab.livemap.periods import PeriodRules
from noiselab.livemap.service import SurfaceService, default_cache_dir
from noiselab.store import open_store
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore

__all__ = ["create_app"]

DESCRIPTION = """\
Data of the Vallensbæk noise Living Lab.

Conventions: times are RFC 3339 in UTC with `Z`; levels are dB re 20 µPa, A-weighted, and every
mean is energetic, `10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)`. Errors answer `{"detail": "..."}`: 4xx
for the caller's mistakes.

Access: public endpoints need no key and show public sensors. An API key, sent as
`Authorization: Bearer nl_<id>_<secret>`, widens that: a vendor key also sees its own sensors,
staff and admin keys see all. A bad or revoked key answers 401, a key of the wrong role 403, and
a sensor the caller may not see 404, like an unknown one.

Public callers (no key) are rate-limited per client address (429 with `Retry-After`; failed key
checks count too), get only 15-minute buckets or coarser from `levels` (finer: 403), and get
`Cache-Control: public, max-age=…` (15 s for data that may still change, 300 s for ranges
fully in the past); responses to a key are `private, no-store`.
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the time-series store and the metadata database (closed on shut-down) and start
    loading the living map's basic maps in the background."""
    settings: ApiSettings = app.state.settings
    with open_store(settings.store_url) as store, MetadataStore(settings.meta_url) as meta:
        app.state.store, app.state.meta = store, meta
        app.state.keys = KeyVerifier(meta, settings.auth_cache_s, settings.clock)
        app.state.sensors = SensorCache(meta, settings.registry_cache_s, settings.clock)
        app.state.surface = _surface_service(settings, store, meta)
        app.state.surface.start()
        yield


def _surface_service(
    settings: ApiSettings, store: ReadingStore, meta: MetadataStore
) -> SurfaceService:
    """The living map over the app's stores (its basic maps load in the background)."""
    return SurfaceService(
        store=store,
        sensors=meta.sensors.all,
        rules=PeriodRules(settings.tz, settings.day, settings.evening),
        clock=settings.clock,
        cache_dir=Path(settings.noisemap_cache_dir)
        if settings.noisemap_cache_dir
        else default_cache_dir(),
        sources=settings.noisemap_sources,
    )


def create_app(settings: ApiSettings) -> FastAPI:
    """A new app serving ``/api/v1``, ``/healthz``, ``/metrics`` and OpenAPI at ``/docs``.

    Each app has its own metrics registry, so several can live in one process.
    """
    app = FastAPI(
        title="noiselab",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics = ApiMetrics()
    app.state.surface_bodies = SurfaceBodies()
    app.state.limiter = RateLimiter(
        settings.public_rate_per_s, settings.public_burst, settings.clock
    )
    install_error_handlers(app)  # the catch-all middleware goes inside the metrics one
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(sensors.router)
    app.include_router(indicators.router)
    app.include_router(events.router)
    app.include_router(trials.router)
    app.include_router(alerts.router)
    app.include_router(staff.router)
    app.include_router(public_map.router)
    app.include_router(surface.router)
    app.include_router(keys.router)
    app.include_router(push.router)
    app.include_router(health.router)
    return app
