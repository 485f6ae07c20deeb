"""A stand-in Grafana on a real socket answering the HTTP API calls of ``noiselab doctor``
(``/api/health``, ``/api/datasources/uid/:uid`` and its ``/health``, ``/api/dashboards/uid/:uid``,
``/api/plugins/:id/settings``) with the status codes and JSON shapes Grafana 12 documents
(https://grafana.com/docs/grafana/latest/developers/http_api/). It holds the provisioned data
sources and dashboards; tests remove or break them. Requests need ``Authorization: Bearer
TOKEN`` or basic ``admin``/``ADMIN_PASSWORD`` (401 otherwise); ``/api/health`` needs none."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from support.http_fake import Answer, RecordingServer, Request

TOKEN = "glsa_doctor"  # a test token
ADMIN_PASSWORD = "pw-g"
DATASOURCES = {
    "noiselab-influxdb": ("InfluxDB (noiselab)", "influxdb"),
    "noiselab-api": ("noiselab API", "yesoreyeram-infinity-datasource"),
}
DASHBOARDS = ("nl-alerts", "nl-overview", "nl-sensor", "nl-trial")


@dataclass
class FakeGrafana:
    """What the fake holds: data sources (uid → name, type), their health messages (``None``:
    healthy), the dashboards' uids and the installed plugins."""

    datasources: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DATASOURCES))
    unhealthy: dict[str, str] = field(default_factory=dict)
    dashboards: set[str] = field(default_factory=lambda: set(DASHBOARDS))
    plugins: set[str] = field(default_factory=lambda: {"yesoreyeram-infinity-datasource"})

    def respond(self, request: Request) -> Answer:
        if request.path == "/api/health":
            return _json(200, {"commit": "fake", "database": "ok", "version": "12.2.0"})
        if not _authorised(request.headers.get("authorization", "")):
            return _json(401, {"message": "Unauthorized"})
        parts = request.path.strip("/").split("/")
        if parts[:3] == ["api", "datasources", "uid"] and len(parts) in (4, 5):
            return self._datasource(parts[3], health=len(parts) == 5)
        if parts[:3] == ["api", "dashboards", "uid"] and len(parts) == 4:
            if parts[3] not in self.dashboards:
                return _json(404, {"message": "Dashboard not found"})
            return _json(200, {"dashboard": {"uid": parts[3]}, "meta": {"provisioned": True}})
        if parts[:2] == ["api", "plugins"] and len(parts) == 4 and parts[3] == "settings":
            if parts[2] not in self.plugins:
                return _json(404, {"message": "Plugin not found, no installed plugin with that id"})
            return _json(200, {"id": parts[2], "enabled": True})
        return _json(404, {"message": "Not found"})

    def _datasource(self, uid: str, *, health: bool) -> Answer:
        if uid not in self.datasources:
            return _json(404, {"message": "Data source not found"})
        name, kind = self.datasources[uid]
        if not health:
            return _json(200, {"uid": uid, "name": name, "type": kind, "access": "proxy"})
        if uid in self.unhealthy:
            return _json(400, {"status": "ERROR", "message": self.unhealthy[uid]})
        return _json(200, {"status": "OK", "message": "datasource is working"})


def _authorised(header: str) -> bool:
    basic = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    return header in (f"Bearer {TOKEN}", f"Basic {basic}")


def _json(status: int, body: object) -> Answer:
    return Answer(status, json.dumps(body).encode())


@contextmanager
def grafana_fake() -> Iterator[tuple[FakeGrafana, str]]:
    """The fake and its base URL; closed afterwards."""
    fake = FakeGrafana()
    server = RecordingServer(fake.respond)
    try:
        yield fake, server.url
    finally:
        server.close()
