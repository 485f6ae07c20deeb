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
    assert set(resolved["services"]) >= {"mosquitto", "influxdb", "grafana", "ingest", "api"}


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
