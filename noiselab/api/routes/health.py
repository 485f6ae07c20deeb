"""Operations: ``/healthz`` for probes, ``/api/v1/health`` for staff (the stores' detail: disk
usage per sensor) and ``/metrics`` for Prometheus.

``/healthz`` answers anyone with no more than "ok" or 503. ``/api/v1/health`` runs the same
checks for a staff or admin key and adds what the time-series store holds on disk per sensor
(``SqliteStore.disk_usage``). Measuring reads every page of the file, so the figures are kept
for :data:`DISK_USAGE_TTL_S` (one caller measures while the others get the previous figures),
and the route, like every plain ``def`` route, runs in a worker thread, never on the event loop.
An InfluxDB store manages its own storage: its figures are ``null``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from noiselab.api.access import GUARDED, Staff, no_store
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.metrics import ApiMetrics
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.health import HealthDetailOut, HealthOut, SensorDiskOut
from noiselab.api.settings import ApiSettings
from noiselab.api.ttl_cache import TtlCache
from noiselab.config import parse_store_url
from noiselab.store.base import ReadingStore, SensorActivity
from noiselab.store.metadata import MetadataStore

__all__ = ["DISK_USAGE_TTL_S", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

DISK_USAGE_TTL_S = 300.0
"""Seconds the disk usage of a SQLite store is kept before it is measured again."""
_UNHEALTHY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorOut, "description": "A database does not answer."}
}
_cache_lock = threading.Lock()
StoreKind = Literal["sqlite", "influxdb"]


@runtime_checkable
class _MeasuresDisk(Protocol):
    """A store that can say what each sensor takes on disk (``SqliteStore``)."""

    def disk_usage(self) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class _DiskUsage:
    """Bytes per sensor, and when they were measured (Unix s of the app's clock)."""

    by_sensor: dict[str, int]
    measured_at: float


def _checked(store: ReadingStore, meta: MetadataStore) -> list[SensorActivity]:
    """The store's activity when both databases answer a query, else a 503 naming the one
    that does not (any failure of a dependency is "unhealthy", not a 500)."""
    try:
        activity = store.activity()
    except Exception as exc:
        raise _unhealthy("store", exc) from exc
    try:
        meta.quarantine.count()
    except Exception as exc:
        raise _unhealthy("metadata database", exc) from exc
    return activity


def _unhealthy(name: str, exc: Exception) -> HTTPException:
    log.warning("health check failed", extra={"fields": {"check": name, "error": exc}})
    return HTTPException(status_code=503, detail=f"{name} does not answer")


@router.get("/healthz", summary="Health", responses=_UNHEALTHY)
def healthz(response: Response, store: StoreDep, meta: MetaDep) -> HealthOut:
    """Ok when the time-series store and the metadata database both answer a query."""
    response.headers["Cache-Control"] = "no-store"
    _checked(store, meta)
    return HealthOut(status="ok")


@router.get(
    "/api/v1/health",
    summary="Health with the store's disk usage",
    responses={**GUARDED, **_UNHEALTHY},
)
def health_detail(
    request: Request,
    response: Response,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    _staff: Staff,
) -> HealthDetailOut:
    """The checks of `/healthz`, and the bytes each sensor's data takes in a SQLite store
    (measured at most every 5 minutes; null for InfluxDB)."""
    no_store(response)
    activity = _checked(store, meta)
    kind: StoreKind = (
        "sqlite" if parse_store_url(settings.store_url).kind == "sqlite" else "influxdb"
    )
    if not isinstance(store, _MeasuresDisk):
        return HealthDetailOut(
            status="ok",
            store=kind,
            disk_bytes=None,
            disk_measured_at=None,
            sensors=[SensorDiskOut(sensor_id=a.sensor_id, disk_bytes=None) for a in activity],
        )
    measure = store.disk_usage
    usage = _disk_cache(request).get("disk", lambda: _DiskUsage(measure(), settings.clock()))
    return HealthDetailOut(
        status="ok",
        store=kind,
        disk_bytes=sum(usage.by_sensor.values()),
        disk_measured_at=datetime.fromtimestamp(usage.measured_at, UTC),
        sensors=[
            SensorDiskOut(sensor_id=sensor_id, disk_bytes=size)
            for sensor_id, size in sorted(usage.by_sensor.items())
        ],
    )


def _disk_cache(request: Request) -> TtlCache[_DiskUsage]:
    """The app's disk usage cache (made on first use, on the app's clock)."""
    state = request.app.state
    found: TtlCache[_DiskUsage] | None = getattr(state, "disk_usage_cache", None)
    if found is None:
        with _cache_lock:
            found = getattr(state, "disk_usage_cache", None)
            if found is None:
                settings: ApiSettings = state.settings
                found = state.disk_usage_cache = TtlCache(DISK_USAGE_TTL_S, settings.clock)
    return found


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request, meta: MetaDep) -> Response:
    """Prometheus text: requests by route and status, latency, sensors and quarantine size."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(
        registry.render(meta),
        media_type=CONTENT_TYPE_PLAIN_0_0_4,
        headers={"Cache-Control": "no-store"},
    )
