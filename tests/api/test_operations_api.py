"""Running the API on real SQLite files: the health check, a broken database as 503, the
Prometheus metrics, unknown routes and unexpected errors, the OpenAPI document, and settings
checked before anything is opened.
"""

from __future__ import annotations

import sqlite3
import warnings

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.levels_api import T0
from support.readings import sensor

from noiselab.api.app import create_app
from noiselab.api.settings import ApiSettings
from noiselab.errors import ConfigError
from noiselab.model import Rejection
from noiselab.store.metadata import MetadataStore

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its TestClient and warns about httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


# --------------------------------------------------------------------------- operations


def test_healthz_ok(levels_lab):
    assert levels_lab.get("/healthz").json() == {"status": "ok"}


def test_healthz_503_when_the_metadata_database_is_broken(lab):
    with lab.client() as client:
        with sqlite3.connect(lab.meta_url.removeprefix("sqlite:///")) as conn:
            conn.execute("DROP TABLE quarantine")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"detail": "metadata database does not answer"}


def test_a_broken_database_is_503_not_500(lab):
    lab.sensors(sensor("vb-road-1"))
    with lab.client() as client:
        with sqlite3.connect(lab.meta_url.removeprefix("sqlite:///")) as conn:
            conn.execute("DROP TABLE sensors")
        response = client.get("/api/v1/sensors")
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"]
    assert "Retry-After" not in response.headers  # a missing table is not worth retrying


def test_metrics_count_requests_by_route_template_and_show_gauges(levels_lab, lab):
    meta = MetadataStore(lab.meta_url)
    meta.quarantine.add(
        [
            Rejection(
                topic="noiselab/x/levels",
                sensor_id="x",
                raw=b"{}",
                reason="ts is required",
                received_at=T0,
            )
        ]
    )
    meta.close()
    levels_lab.get("/api/v1/sensors/vb-road-1/levels")
    levels_lab.get("/api/v1/sensors/vb-road-1/levels?every=2m")
    levels_lab.get("/api/v1/sensors/nope")
    levels_lab.get("/no/such/path")
    response = levels_lab.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = "/api/v1/sensors/{sensor_id}/levels"
    for line in (
        f'noiselab_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0',
        f'noiselab_http_requests_total{{method="GET",route="{route}",status="422"}} 1.0',
        'noiselab_http_requests_total{method="GET",route="/api/v1/sensors/{sensor_id}",'
        'status="404"} 1.0',
        'noiselab_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0',
        f'noiselab_http_request_duration_seconds_count{{method="GET",route="{route}"}} 2.0',
        "noiselab_sensors_registered 2.0",
        "noiselab_quarantine_rejections 1.0",
    ):
        assert line in text, line


def test_two_apps_in_one_process_have_separate_metrics(lab):
    with lab.client() as first, lab.client() as second:
        first.get("/healthz")
        assert 'route="/healthz"' in first.get("/metrics").text
        assert 'route="/healthz"' not in second.get("/metrics").text


def test_openapi_documents_the_routes(levels_lab):
    assert levels_lab.get("/docs").status_code == 200
    spec = levels_lab.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/sensors/{sensor_id}/levels"]["get"]
    assert operation["description"].startswith("Energetic LAeq")
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/LevelsOut"}
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert "/healthz" in spec["paths"]


# ------------------------------------------------- unknown routes, unexpected errors


def test_unknown_paths_and_methods_are_4xx(levels_lab):
    assert levels_lab.get("/api/v1/nothing").status_code == 404
    assert levels_lab.post("/api/v1/sensors").status_code == 405
    assert levels_lab.get("/api/v1/sensors/vb-road-1/levels/x").status_code == 404


def test_an_unexpected_error_is_a_logged_json_500(lab, caplog):
    app = create_app(lab.settings)

    def boom() -> None:
        raise RuntimeError("kaput")

    app.add_api_route("/boom", boom)
    with TestClient(app) as client:
        response = client.get("/boom")
        text = client.get("/metrics").text
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "kaput" in caplog.text
    assert 'noiselab_http_requests_total{method="GET",route="/boom",status="500"} 1.0' in text


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zone": "Mars/Olympus"}, "time zone 'Mars/Olympus'"),
        ({"stale_after_s": 0.0}, "need 0 < stale <= offline"),
        ({"stale_after_s": 600.0, "offline_after_s": 60.0}, "need 0 < stale <= offline"),
        ({"store_url": "postgres://x"}, "store URL"),
        ({"meta_url": "not a url"}, "metadata URL"),
    ],
)
def test_settings_are_validated_up_front(changes, message):
    fields = {"store_url": "sqlite:///x.db", "meta_url": "sqlite:///m.db"} | changes
    with pytest.raises(ConfigError, match=message):
        ApiSettings(**fields)


def test_creating_an_app_opens_nothing(tmp_path):
    create_app(ApiSettings(store_url=f"sqlite:///{tmp_path}/a/s.db", meta_url="sqlite:///m.db"))
    assert not (tmp_path / "a").exists()
