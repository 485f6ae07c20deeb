"""The production docker-compose stack, checked without Docker: it cannot run containers here.

Debian's ``docker-compose config`` validates the file against the compose schema and resolves
the variables when it is installed (skipped with the reason otherwise); the rest checks what
decides whether the stack loses data or leaks secrets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml
from support.paths import ROOT

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.mark.process
def test_docker_compose_config_accepts_the_file_with_the_example_env():
    tool = shutil.which("docker-compose")
    if tool is None:
        # The test command installs it; under CI its absence is a failure, not a skip.
        assert not os.environ.get("CI"), "docker-compose is missing: bash scripts/test installs it"
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [tool, "-f", str(COMPOSE), "--env-file", str(ROOT / ".env.example"), "config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) >= {
        "secrets-guard",
        "mosquitto",
        "influxdb",
        "grafana",
        "ingest",
        "api",
        "proxy",
    }
    # What compose itself resolves: the same published ports as the structural test reads.
    published = {
        name: {int(port["published"]) for port in service.get("ports", [])}
        for name, service in resolved["services"].items()
        if service.get("ports")
    }
    assert published == {"mosquitto": {8883}, "proxy": {443, 80}}


@pytest.mark.process
def test_docker_compose_config_rejects_a_broken_file(tmp_path):
    """Negative control of the validation above: a port list that is not a list fails."""
    tool = shutil.which("docker-compose")
    if tool is None:
        assert not os.environ.get("CI"), "docker-compose is missing: bash scripts/test installs it"
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace('- "8883:8883"', '{"8883": 8883}', 1))
    assert broken.read_text() != COMPOSE.read_text()
    result = subprocess.run(
        [tool, "-f", str(broken), "--env-file", str(ROOT / ".env.example"), "config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_images_are_pinned(compose):
    for name, service in compose["services"].items():
        image = service.get("image")
        if image is None or image.startswith("noiselab:"):
            continue
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image}"
    assert compose["services"]["influxdb"]["image"] == "influxdb:2.9"


def test_ingest_scales_and_shares_the_subscription(compose):
    ingest = compose["services"]["ingest"]
    # A container_name, fixed host port or fixed client id would stop `--scale ingest=3`;
    # replicas take numbered slots for stable client ids instead.
    assert "container_name" not in ingest
    assert "ports" not in ingest
    command = ingest["command"]
    assert command[command.index("--client-id") + 1] == "slot"
    assert "--share-group" not in command  # the default shared subscription


def test_grafana_preinstalls_infinity_with_the_supported_variable(compose):
    env = compose["services"]["grafana"]["environment"]
    assert "GF_INSTALL_PLUGINS" not in env
    assert re.fullmatch(
        r"yesoreyeram-infinity-datasource@\d+\.\d+\.\d+", env["GF_PLUGINS_PREINSTALL_SYNC"]
    )


def test_no_secret_has_a_default(compose):
    text = COMPOSE.read_text()
    for variable in ("INFLUXDB_TOKEN", "POSTGRES_PASSWORD", "MQTT_INGEST_PASSWORD"):
        assert re.search(r"\$\{" + variable + r":\?", text), f"{variable} must be required"
    example = (ROOT / ".env.example").read_text()
    secrets = re.findall(r"^(\w*(?:PASSWORD|TOKEN))=(.*)$", example, re.MULTILINE)
    assert secrets
    assert all(value == "change-me" for _, value in secrets)


def test_the_doctor_checks_with_the_ingests_broker_user_and_waits_for_nothing(compose):
    doctor = compose["services"]["doctor"]
    assert doctor["profiles"] == ["doctor"]
    assert doctor["command"] == ["doctor"]
    assert doctor["depends_on"] == {}  # it must be able to report a service that is down
    ingest = compose["services"]["ingest"]["command"]
    assert doctor["environment"]["NOISELAB_MQTT"] == ingest[ingest.index("--mqtt") + 1]
    for name in ("NOISELAB_STORE", "NOISELAB_INFLUX_TOKEN", "NOISELAB_META"):
        assert doctor["environment"][name] == compose["services"]["api"]["environment"][name]


def test_the_broker_starts_after_its_config_and_keeps_sessions(compose):
    broker = compose["services"]["mosquitto"]
    condition = broker["depends_on"]["mosquitto-config"]["condition"]
    assert condition == "service_completed_successfully"
    assert "mosquitto-data:/mosquitto/data" in broker["volumes"]
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert re.search(r"^per_listener_settings false$", conf, re.MULTILINE)
    assert re.search(r"^max_queued_messages 0$", conf, re.MULTILINE)
    assert int(re.search(r"^autosave_interval (\d+)$", conf, re.MULTILINE)[1]) <= 60


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER noiselab$", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert re.search(r"^FROM python:3\.11\.\d+-slim", dockerfile, re.MULTILINE)


# --- What the stack exposes (issue 17, finding 7) -------------------------------------------

GUARD = "secrets-guard"
# Services that wait for nothing: the guard itself, and the doctor (it must be able to report a
# service that is down; it checks its own secrets as every noiselab command does).
UNGUARDED = {GUARD, "doctor"}


def _published(service: dict) -> set[int]:
    """Host ports a service publishes (short syntax "HOST:CONTAINER" or long syntax)."""
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(int(entry["published"]))
        else:
            parts = str(entry).split(":")
            assert len(parts) >= 2, f"{entry}: a port without a host side is published at random"
            ports.add(int(parts[-2]))
    return ports


def _networks(service: dict) -> set[str]:
    return set(service.get("networks", ["default"]))  # a list, or a mapping by network name


def test_only_mqtt_over_tls_and_the_proxy_are_published(compose):
    published = {
        name: _published(service)
        for name, service in compose["services"].items()
        if _published(service)
    }
    assert published == {"mosquitto": {8883}, "proxy": {443, 80}}


def test_the_databases_live_on_the_internal_network_only(compose):
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("influxdb", "postgres"):
        service = compose["services"][name]
        assert "ports" not in service, name
        assert "expose" not in service, name
        assert _networks(service) == {"backend"}, name
    # The proxy cannot reach them: it is on the frontend network only.
    assert _networks(compose["services"]["proxy"]) == {"frontend"}
    # Nothing uses the implicit default network (which is not internal).
    for name, service in compose["services"].items():
        if service.get("network_mode") == "none":
            continue
        assert "default" not in _networks(service), name


def test_every_service_waits_for_the_secrets_guard(compose):
    for name, service in compose["services"].items():
        if name in UNGUARDED:
            continue
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), name
        assert depends.get(GUARD) == {"condition": "service_completed_successfully"}, name


def test_the_guard_sees_every_secret_the_stack_hands_out(compose):
    """Every ${...PASSWORD|TOKEN|KEY} the compose file uses reaches the guard's environment
    under the same name, so none can slip past it."""
    used = set(re.findall(r"\$\{(\w*(?:PASSWORD|TOKEN|KEY))\b", COMPOSE.read_text()))
    guard = compose["services"][GUARD]
    env = guard["environment"]
    assert used
    for variable in used:
        assert env.get(variable, "").startswith("${" + variable), variable
    assert guard["command"][0] == "check-secrets"
    assert "./secrets:/secrets:ro" in guard["volumes"]
    assert guard["network_mode"] == "none"


def test_noiselab_services_check_their_own_secrets(compose):
    for name, service in compose["services"].items():
        if service.get("image", "").startswith("noiselab:") and name != GUARD:
            assert service["environment"]["NOISELAB_REQUIRE_STRONG_SECRETS"] == "true", name


def test_the_broker_listens_with_tls_for_the_sensors_and_plain_for_the_services(compose):
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    listeners = re.findall(r"^listener (\d+)(.*)$", conf, re.MULTILINE)
    assert [port for port, _ in listeners] == ["1883", "8883"]
    tls = conf[conf.index("listener 8883") :]
    assert re.search(r"^certfile /mosquitto/config/certs/server\.crt$", tls, re.MULTILINE)
    assert re.search(r"^keyfile /mosquitto/config/certs/server\.key$", tls, re.MULTILINE)
    assert re.search(r"^tls_version tlsv1\.2$", tls, re.MULTILINE)
    assert re.search(r"^allow_anonymous false$", conf, re.MULTILINE)
    # The services use the internal listener by the service name, which never leaves the host.
    for name in ("ingest", "fiware", "sim"):
        command = compose["services"][name]["command"]
        assert command[command.index("--mqtt") + 1].endswith("@mosquitto:1883"), name
    assert "./secrets:/secrets:ro" in compose["services"]["mosquitto-config"]["volumes"]


def test_the_proxy_fronts_the_api_and_grafana_and_the_api_trusts_only_it(compose):
    proxy = compose["services"]["proxy"]
    assert "./deploy/nginx/noiselab.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    address = proxy["networks"]["frontend"]["ipv4_address"]
    api = compose["services"]["api"]["command"]
    assert api[api.index("--trusted-proxy") + 1] == address
    assert api.count("--trusted-proxy") == 1
    conf = (ROOT / "deploy" / "nginx" / "noiselab.conf").read_text()
    assert "http://api:8000" in conf
    assert "http://grafana:3000" in conf
    grafana = compose["services"]["grafana"]["environment"]
    assert grafana["GF_SERVER_ROOT_URL"].endswith("/grafana/")


def test_grafana_has_no_anonymous_access_only_shared_dashboards(compose):
    env = compose["services"]["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert not any(
        k.startswith("GF_AUTH_ANONYMOUS_") and k != "GF_AUTH_ANONYMOUS_ENABLED" for k in env
    )
    assert env["GF_PUBLIC_DASHBOARDS_ENABLED"] == "true"
    assert env["GF_SNAPSHOTS_EXTERNAL_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"


def test_api_replicas_share_the_rate_limit_file_on_a_volume(compose):
    api = compose["services"]["api"]
    path = api["environment"]["NOISELAB_RATE_LIMIT_FILE"]
    mounts = [volume.split(":") for volume in api["volumes"]]
    assert any(
        path.startswith(target + "/") and source in compose["volumes"] for source, target in mounts
    )
    # The image makes the directory for its user, so a fresh named volume is writable.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "install -d -o noiselab -g noiselab /var/lib/noiselab/state" in dockerfile
