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
from noiselab.api.body_guard import BodyGuard
from noiselab.api.errors import install_error_handlers
from noiselab.api.metrics import ApiMetrics, MetricsMiddleware
from noiselab.api.ratelimit import RateLimiter
from noiselab.api.ratelimit_shared import SharedRateLimiter
from noiselab.api.read_gate import ReadGate
from noiselab.api.routes import (
    alerts,
    calibrations,
    citizen_reports,
    corrections,
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
    weather,
)
from noiselab.api.routes import annotations as annotation_routes
from noiselab.api.routes import reports as report_routes
from noiselab.api.sensor_cache import SensorCache
from noiselab.api.settings import ApiSettings
from noiselab.api.surface_bodies import SurfaceBodies
from noiselab.api.validity_cache import ValidityCache
from noiselab.livemap.periods import PeriodRules
from noiselab.livemap.service import SurfaceService, default_cache_dir
from noiselab.store import open_store
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore
from noiselab.validity.deployment import deployment_validity

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

Limits: a request with a body needs a valid key before the body is read (401; the one
exception is a citizen's report, `POST /api/v1/citizen-reports`, filed without a key and
limited to 5 per address per 10 minutes), and a body over its route's limit answers 413.
Reads (`levels`, `events`, `indicators`) are charged by
their cost, the rows they read and the points they answer, against a budget per key or, without
a key, per address: 429 with `Retry-After` when it is spent, 422 for one read costing more than
the whole budget. Costly reads share a few workers: 503 with `Retry-After` when all are busy.
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
        validity = deployment_validity(meta, settings.tz)
        app.state.validity = ValidityCache(
            meta, validity, settings.registry_cache_s, settings.clock
        )
        app.state.surface = _surface_service(settings, store, meta)
        app.state.surface.start()
        try:
            yield
        finally:
            app.state.read_gate.pool.close()


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


def _limiter(settings: ApiSettings) -> RateLimiter | SharedRateLimiter:
    """The public rate limit: in this process, or shared through ``rate_limit_file``."""
    rate, burst = settings.public_rate_per_s, settings.public_burst
    if settings.rate_limit_file:
        return SharedRateLimiter(Path(settings.rate_limit_file), rate, burst, settings.clock)
    return RateLimiter(rate, burst, settings.clock)


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
    app.state.limiter = _limiter(settings)
    app.state.read_gate = ReadGate(settings.limits, settings.clock, settings.store_url)
    install_error_handlers(app)  # the catch-all middleware goes inside the metrics one
    bodies = {
        push.router.prefix: settings.limits.push_body_bytes,
        citizen_reports.router.prefix: settings.limits.citizen_body_bytes,
        push.router.prefix + "/weather": settings.limits.weather_body_bytes,
    }
    public_writes = {("POST", citizen_reports.router.prefix)}  # a citizen files without a key
    app.add_middleware(
        BodyGuard, limits=settings.limits, route_limits=bodies, public_writes=public_writes
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(sensors.router)
    app.include_router(indicators.router)
    app.include_router(events.router)
    app.include_router(trials.router)
    app.include_router(alerts.router)
    app.include_router(corrections.router)
    app.include_router(citizen_reports.router)
    app.include_router(calibrations.router)
    app.include_router(annotation_routes.router)
    app.include_router(report_routes.router)
    app.include_router(staff.router)
    app.include_router(public_map.router)
    app.include_router(surface.router)
    app.include_router(keys.router)
    app.include_router(push.router)
    app.include_router(weather.router)
    app.include_router(health.router)
    return app
