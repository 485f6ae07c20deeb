"""Upload the dashboards in ``dashboards/`` to a Grafana with ``grafana-client`` (extra
``grafana``): ``noiselab dashboards push --grafana-url URL --token TOKEN``.

Provisioning (``deploy/grafana/provisioning``) is how the compose stack loads them; pushing is for
a Grafana that is run elsewhere (Grafana Cloud, the municipality's own). Each dashboard goes into
one folder (created when missing) with ``overwrite`` on, keyed by its ``uid``, so pushing again
updates rather than duplicates. The token is a Grafana service-account token with the Editor
role on that folder.

Reference: Grafana HTTP API, folders (``GET/POST /api/folders``) and dashboards
(``POST /api/dashboards/db``), https://grafana.com/docs/grafana/latest/developers/http_api/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from noiselab.errors import ConfigError, NoiselabError

__all__ = ["PushedDashboard", "load_dashboards", "push_dashboards"]

FOLDER_UID = "noiselab"
FOLDER_TITLE = "noiselab — Vallensbæk Living Lab"


@dataclass(frozen=True, slots=True)
class PushedDashboard:
    """What Grafana answered for one dashboard: its uid, version and URL path."""

    uid: str
    title: str
    version: int
    url: str


def load_dashboards(directory: Path) -> list[dict[str, Any]]:
    """The dashboard models in ``directory/*.json`` (sorted by file name); each must be a JSON
    object with a ``uid`` and a ``title``."""
    files = sorted(directory.glob("*.json"))
    if not files:
        raise ConfigError(f"no dashboards (*.json) in {directory}")
    dashboards = []
    for path in files:
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable JSON dashboard ({exc})") from exc
        if not isinstance(model, dict) or not model.get("uid") or not model.get("title"):
            raise ConfigError(f"{path}: a dashboard needs a uid and a title")
        dashboards.append(model)
    return dashboards


def push_dashboards(
    dashboards: list[dict[str, Any]],
    grafana_url: str,
    token: str,
    *,
    folder_uid: str = FOLDER_UID,
    folder_title: str = FOLDER_TITLE,
    timeout_s: float = 10.0,
) -> list[PushedDashboard]:
    """Create the folder if needed and upload every dashboard into it, overwriting older
    versions with the same uid. Raises ``NoiselabError`` with Grafana's message on failure."""
    api = GrafanaApi.from_url(grafana_url, credential=token, timeout=timeout_s)
    try:
        _ensure_folder(api, folder_uid, folder_title)
        pushed = []
        for model in dashboards:
            body = {
                "dashboard": {key: value for key, value in model.items() if key != "id"},
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "noiselab dashboards push",
            }
            answer = api.dashboard.update_dashboard(body)
            pushed.append(
                PushedDashboard(
                    uid=str(answer.get("uid", model["uid"])),
                    title=str(model["title"]),
                    version=int(answer.get("version", 0)),
                    url=str(answer.get("url", "")),
                )
            )
    except GrafanaException as exc:
        raise NoiselabError(f"Grafana at {grafana_url}: {_describe(exc)}") from exc
    except OSError as exc:
        raise NoiselabError(f"Grafana at {grafana_url}: cannot connect ({exc})") from exc
    finally:
        api.client.s.close()  # the client's HTTP session and its pooled connections
    return pushed


def _ensure_folder(api: GrafanaApi, uid: str, title: str) -> None:
    try:
        api.folder.get_folder(uid)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.folder.create_folder(title, uid=uid)


def _describe(exc: GrafanaException) -> str:
    """Grafana's own ``message`` with the status, else the client's text."""
    detail = str(exc.message)
    # grafana-client hands over the decoded JSON body when there is one.
    body: Any = exc.response
    if isinstance(body, dict) and body.get("message"):
        detail = f"{detail}: {body['message']}"
    return f"HTTP {exc.status_code} {detail}" if exc.status_code else detail
