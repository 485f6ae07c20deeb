"""Operations: ``/healthz`` for probes and ``/metrics`` for Prometheus."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from noiselab.api.deps import MetaDep, StoreDep
from noiselab.api.metrics import ApiMetrics
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.health import HealthOut

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Health",
    responses={503: {"model": ErrorOut, "description": "A database does not answer."}},
)
def healthz(response: Response, store: StoreDep, meta: MetaDep) -> HealthOut:
    """Ok when the time-series store and the metadata database both answer a query."""
    response.headers["Cache-Control"] = "no-store"
    checks: dict[str, Callable[[], object]] = {
        "store": store.activity,
        "metadata database": meta.quarantine.count,
    }
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency is "unhealthy", not a 500
            log.warning("health check failed", extra={"fields": {"check": name, "error": exc}})
            raise HTTPException(status_code=503, detail=f"{name} does not answer") from exc
    return HealthOut(status="ok")


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
