"""The Grafana checks against a stand-in Grafana on a real socket (``support.grafana_fake``):
a provisioned Grafana passes with a token or the admin password in the URL; a wrong token, a
missing or unhealthy data source, a missing plugin, a missing dashboard and a Grafana that never
answers fail with their fix. The doctor's lists of data sources and dashboards are those the
repository provisions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml
from support.grafana_fake import ADMIN_PASSWORD, TOKEN, FakeGrafana, grafana_fake
from support.paths import ROOT
from support.silent_server import silent_server

from noiselab.doctor import Check, Status, run_steps
from noiselab.doctor.grafana import DASHBOARD_UIDS, DATASOURCES, grafana_service, grafana_steps
from noiselab.errors import ConfigError

NAMES = [
    "grafana health",
    "grafana datasource noiselab-influxdb",
    "grafana datasource noiselab-api",
    "grafana dashboards",
]


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    with grafana_fake() as served:
        yield served


def run(url: str, token: str | None = TOKEN, timeout_s: float = 3.0) -> list[Check]:
    service = grafana_service(url, token, timeout_s)
    try:
        return list(run_steps(grafana_steps(service)))
    finally:
        service.close()


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_the_doctor_knows_the_dashboards_of_the_repository():
    uids = {json.loads(p.read_text())["uid"] for p in (ROOT / "dashboards").glob("*.json")}
    assert set(DASHBOARD_UIDS) == uids


def test_the_doctor_knows_the_provisioned_data_sources():
    path = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "noiselab.yaml"
    provisioned = {d["uid"]: d["type"] for d in yaml.safe_load(path.read_text())["datasources"]}
    assert {d.uid: d.type for d in DATASOURCES} == provisioned


def test_a_provisioned_grafana_passes_with_a_token(grafana):
    _, url = grafana
    checks = run(url)
    assert [c.name for c in checks] == NAMES
    assert [c.status for c in checks] == [Status.OK] * 4, checks
    assert "Grafana 12.2.0" in checks[0].detail


def test_the_admin_password_in_the_url_works_too(grafana):
    _, url = grafana
    checks = run(url.replace("http://", f"http://admin:{ADMIN_PASSWORD}@"), token=None)
    assert [c.status for c in checks] == [Status.OK] * 4, checks


def test_a_wrong_token_fails_with_the_credentials_fix(grafana):
    _, url = grafana
    checks = by_name(run(url, token="nope"))
    check = checks["grafana datasource noiselab-influxdb"]
    assert check.status is Status.FAIL
    assert "HTTP 401" in check.detail
    assert "NOISELAB_GRAFANA_TOKEN" in check.fix


def test_a_missing_data_source_fails_with_the_provisioning_fix(grafana):
    fake, url = grafana
    del fake.datasources["noiselab-influxdb"]
    checks = by_name(run(url))
    check = checks["grafana datasource noiselab-influxdb"]
    assert check.status is Status.FAIL
    assert "no data source with uid noiselab-influxdb" in check.detail
    assert "deploy/grafana/provisioning/datasources/noiselab.yaml" in check.fix
    assert checks["grafana datasource noiselab-api"].status is Status.OK
    assert checks["grafana dashboards"].status is Status.OK


def test_an_unhealthy_data_source_fails_with_its_own_fix(grafana):
    fake, url = grafana
    fake.unhealthy["noiselab-api"] = "401 Unauthorized: invalid API key"
    checks = by_name(run(url))
    check = checks["grafana datasource noiselab-api"]
    assert check.status is Status.FAIL
    assert "fails Grafana's health check: HTTP 400 401 Unauthorized" in check.detail
    assert "NOISELAB_GRAFANA_KEY" in check.fix
    assert checks["grafana datasource noiselab-influxdb"].status is Status.OK


def test_an_unhealthy_influxdb_data_source_points_at_the_read_token(grafana):
    fake, url = grafana
    fake.unhealthy["noiselab-influxdb"] = "error reading InfluxDB: unauthorized"
    check = by_name(run(url))["grafana datasource noiselab-influxdb"]
    assert check.status is Status.FAIL
    assert "INFLUXDB_READ_TOKEN" in check.fix


def test_a_missing_infinity_plugin_is_named(grafana):
    fake, url = grafana
    fake.plugins.clear()
    fake.unhealthy["noiselab-api"] = "plugin unavailable"
    check = by_name(run(url))["grafana datasource noiselab-api"]
    assert check.status is Status.FAIL
    assert "plugin missing" in check.detail
    assert "GF_PLUGINS_PREINSTALL_SYNC" in check.fix


def test_a_data_source_of_another_type_fails(grafana):
    fake, url = grafana
    fake.datasources["noiselab-api"] = ("noiselab API", "marcusolsson-json-datasource")
    check = by_name(run(url))["grafana datasource noiselab-api"]
    assert check.status is Status.FAIL
    assert "expected 'yesoreyeram-infinity-datasource'" in check.detail


def test_a_missing_dashboard_fails_naming_it(grafana):
    fake, url = grafana
    fake.dashboards.discard("nl-trial")
    check = by_name(run(url))["grafana dashboards"]
    assert check.status is Status.FAIL
    assert check.detail == "dashboards missing: nl-trial (HTTP 404)"
    assert "noiselab dashboards push" in check.fix


def test_a_silent_grafana_times_out_and_the_rest_is_skipped():
    with silent_server() as port:
        checks = run(f"http://127.0.0.1:{port}", timeout_s=0.3)
    assert checks[0].status is Status.FAIL
    assert "did not answer GET /api/health within 0.3 s" in checks[0].detail
    assert "docker compose ps grafana" in checks[0].fix
    assert [c.status for c in checks[1:]] == [Status.SKIP] * 3


def test_a_url_that_is_not_http_is_a_settings_error():
    with pytest.raises(ConfigError, match="expected http"):
        grafana_service("grafana:3000", TOKEN, 1.0)
