"""Prometheus metrics of one API app, in the app's own registry (several apps may share a
process, e.g. in tests): requests and latency by route template and status, plus gauges of the
metadata database refreshed at each scrape."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from noiselab.errors import NoiselabError
from noiselab.store.metadata import MetadataStore

__all__ = ["UNMATCHED_ROUTE", "ApiMetrics", "MetricsMiddleware"]

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"
"""The ``route`` label of requests no route matched (keeps random paths out of the labels)."""


class ApiMetrics:
    """The instruments, and ``render`` for ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "noiselab_http_requests",
            "HTTP requests by method, route template and status code",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "noiselab_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=r,
        )
        self.sensors = Gauge(
            "noiselab_sensors_registered", "Sensors in the registry (public or not)", registry=r
        )
        self.quarantined = Gauge(
            "noiselab_quarantine_rejections", "Rejections held in quarantine", registry=r
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self, meta: MetadataStore) -> bytes:
        """The Prometheus text exposition, with the gauges read from ``meta`` now (left at
        their last values when the metadata database does not answer)."""
        try:
            self.sensors.set(len(meta.sensors.ids()))
            self.quarantined.set(meta.quarantine.count())
        except NoiselabError as exc:
            log.warning("metrics: metadata gauges not refreshed", extra={"fields": {"error": exc}})
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times and counts every HTTP request by the template of the route that matched."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        begin = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - begin)
