"""The Grafana checks, over Grafana's HTTP API: Grafana answers, the two provisioned data
sources exist with their types and pass Grafana's own health check of them (Grafana then
queries InfluxDB with its read token, and the noiselab API through the Infinity plugin with its
staff key), and the provisioned dashboards exist.

Authentication is a service-account token (``Authorization: Bearer``) or a user and password in
the URL (``http://admin:PASSWORD@grafana:3000``, basic auth). Reading data sources needs the
Admin role.

Reference: Grafana HTTP API (``GET /api/health``, ``GET /api/datasources/uid/:uid``,
``GET /api/datasources/uid/:uid/health``, ``GET /api/dashboards/uid/:uid``,
``GET /api/plugins/:id/settings``), https://grafana.com/docs/grafana/latest/developers/http_api/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from noiselab.doctor.check import CheckFailed, Step
from noiselab.doctor.http import HttpService, json_object
from noiselab.errors import ConfigError

__all__ = [
    "DASHBOARD_UIDS",
    "DATASOURCES",
    "DataSource",
    "check_grafana_url",
    "grafana_service",
    "grafana_steps",
]


@dataclass(frozen=True, slots=True)
class DataSource:
    """A data source the provisioning creates, and what to fix when Grafana says it fails."""

    uid: str
    type: str
    fix: str


INFINITY = "yesoreyeram-infinity-datasource"
DATASOURCES = (
    DataSource(
        "noiselab-influxdb",
        "influxdb",
        "check INFLUXDB_READ_TOKEN (default INFLUXDB_TOKEN), INFLUXDB_ORG and INFLUXDB_BUCKET in"
        " .env, then docker compose up -d --force-recreate grafana",
    ),
    DataSource(
        "noiselab-api",
        INFINITY,
        "check NOISELAB_GRAFANA_KEY in .env (a staff key: docker compose run --rm api keys create"
        " --role staff --name grafana) and that the api runs, then docker compose up -d"
        " --force-recreate grafana",
    ),
)
"""The data sources of deploy/grafana/provisioning/datasources/noiselab.yaml (a test keeps
them equal)."""
DASHBOARD_UIDS = ("nl-alerts", "nl-overview", "nl-sensor", "nl-trial")
"""The uids of dashboards/*.json (a test keeps them equal): the image does not hold that
folder, so the doctor carries the list."""

REACH_FIX = (
    "is Grafana running and reachable there? check --grafana-url (NOISELAB_GRAFANA_URL);"
    " in the compose stack: docker compose ps grafana"
)
AUTH_FIX = (
    "check NOISELAB_GRAFANA_TOKEN (a service-account token with the Admin role) or the"
    " user:password in --grafana-url (GRAFANA_ADMIN_PASSWORD in .env for admin)"
)
PROVISIONING_FIX = (
    "check deploy/grafana/provisioning/datasources/noiselab.yaml and that it is mounted at"
    " /etc/grafana/provisioning, then docker compose up -d --force-recreate grafana"
)
PLUGIN_FIX = (
    f"the {INFINITY} plugin is not installed: check GF_PLUGINS_PREINSTALL_SYNC of the grafana"
    " service and its log (docker compose logs grafana)"
)
DASHBOARDS_FIX = (
    "check the ./dashboards volume (/var/lib/grafana/dashboards/noiselab) and"
    " deploy/grafana/provisioning/dashboards/noiselab.yaml, or upload them: noiselab dashboards"
    " push"
)


def check_grafana_url(url: str) -> SplitResult:
    """``url`` split: ``http(s)://[user:password@]host[:port]``, else ``ConfigError``."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ConfigError(f"Grafana URL {url!r}: bad port") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"Grafana URL {url!r}: expected http(s)://[user:password@]host[:port]")
    return parts


def grafana_service(url: str, token: str | None, timeout_s: float) -> HttpService:
    """Grafana at ``url``, authenticated by ``token`` or by the URL's user and password;
    ``ConfigError`` for a URL that is not ``http(s)://host[:port]``."""
    parts = check_grafana_url(url)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    base = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    auth = None
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif parts.username:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return HttpService(
        base, what="Grafana", reach_fix=REACH_FIX, timeout_s=timeout_s, headers=headers, auth=auth
    )


def grafana_steps(service: HttpService) -> list[Step]:
    """``grafana health``, one ``grafana datasource UID`` per data source and
    ``grafana dashboards``; each after a healthy Grafana."""
    after = ("grafana health",)
    return [
        Step("grafana health", lambda: _health(service)),
        *(
            Step(f"grafana datasource {source.uid}", _datasource_check(service, source), after)
            for source in DATASOURCES
        ),
        Step("grafana dashboards", lambda: _dashboards(service), after),
    ]


def _health(service: HttpService) -> str:
    response = service.request("GET", "/api/health")
    body = json_object(response, "GET /api/health", REACH_FIX)
    if response.status_code != 200 or body.get("database") != "ok":
        raise CheckFailed(
            f"Grafana at {service.base_url} is unhealthy: HTTP {response.status_code}"
            f" database {body.get('database')!r}",
            "read Grafana's log (docker compose logs grafana); its database may be unreachable",
        )
    return f"{service.base_url}: Grafana {body.get('version', '?')}, database ok"


def _datasource_check(service: HttpService, source: DataSource) -> Callable[[], str]:
    def check() -> str:
        return _datasource(service, source)

    return check


def _authorised(status: int, what: str) -> None:
    if status in (401, 403):
        raise CheckFailed(f"Grafana refused {what}: HTTP {status}", AUTH_FIX)


def _datasource(service: HttpService, source: DataSource) -> str:
    path = f"/api/datasources/uid/{source.uid}"
    response = service.request("GET", path)
    _authorised(response.status_code, f"GET {path}")
    if response.status_code == 404:
        raise CheckFailed(f"no data source with uid {source.uid}", PROVISIONING_FIX)
    body = json_object(response, f"GET {path}", REACH_FIX)
    if response.status_code != 200:
        raise CheckFailed(f"GET {path}: HTTP {response.status_code}", REACH_FIX)
    if body.get("type") != source.type:
        raise CheckFailed(
            f"data source {source.uid} has type {body.get('type')!r}, expected {source.type!r}",
            PROVISIONING_FIX,
        )
    response = service.request("GET", f"{path}/health")
    _authorised(response.status_code, f"GET {path}/health")
    health = json_object(response, f"GET {path}/health", REACH_FIX)
    message = str(health.get("message", "")).strip()
    if response.status_code != 200 or health.get("status") != "OK":
        if source.type == INFINITY and not _plugin_installed(service, source.type):
            raise CheckFailed(f"data source {source.uid}: plugin missing ({message})", PLUGIN_FIX)
        raise CheckFailed(
            f"data source {source.uid} ({body.get('name', '')}) fails Grafana's health check:"
            f" HTTP {response.status_code} {message}",
            source.fix,
        )
    return f"{body.get('name', source.uid)} ({source.type}): {message or 'OK'}"


def _plugin_installed(service: HttpService, plugin_id: str) -> bool:
    return service.request("GET", f"/api/plugins/{plugin_id}/settings").status_code == 200


def _dashboards(service: HttpService) -> str:
    missing = []
    for uid in DASHBOARD_UIDS:
        response = service.request("GET", f"/api/dashboards/uid/{uid}")
        _authorised(response.status_code, f"GET /api/dashboards/uid/{uid}")
        if response.status_code != 200:
            missing.append(f"{uid} (HTTP {response.status_code})")
    if missing:
        raise CheckFailed(f"dashboards missing: {', '.join(missing)}", DASHBOARDS_FIX)
    return f"{len(DASHBOARD_UIDS)} dashboards present: {', '.join(DASHBOARD_UIDS)}"
