"""Refusing the example secrets: ``noiselab check-secrets`` (the compose stack's secrets-guard
service) and the check every noiselab command makes with NOISELAB_REQUIRE_STRONG_SECRETS.

Both run for real as ``python -m noiselab`` subprocesses: the repository's .env.example is
refused, a .env made the way docs/deployment.md says is accepted, and each kind of weak value
(example, empty, short, repetitive, a missing required variable) is refused on its own.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

from noiselab.secrets_check import (
    COMPOSE_OPTIONAL,
    COMPOSE_REQUIRED,
    check_compose_secrets,
    check_service_secrets,
    read_env_file,
    weakness,
)

EXAMPLE = ROOT / ".env.example"


def _noiselab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOISELAB_")}
    return subprocess.run(
        [sys.executable, "-m", "noiselab", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**base, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=60,
    )


def _generated_env(tmp_path: Path) -> Path:
    """.env.example with every change-me replaced as docs/deployment.md says."""
    text = EXAMPLE.read_text()
    text = re.sub(r"change-me", lambda _m: secrets.token_urlsafe(32), text)
    path = tmp_path / ".env"
    path.write_text(text)
    return path


@pytest.mark.process
def test_the_guard_refuses_the_example_env() -> None:
    result = _noiselab("check-secrets", "--env-file", str(EXAMPLE))
    assert result.returncode == 1
    for name in COMPOSE_REQUIRED:
        assert f"weak secret: {name}:" in result.stderr
    assert "change-me" not in result.stderr.replace('"changeme"', "")  # names, not values


@pytest.mark.process
def test_the_guard_accepts_generated_secrets_and_reads_the_environment(tmp_path: Path) -> None:
    env_file = _generated_env(tmp_path)
    result = _noiselab("check-secrets", "--env-file", str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("secrets ok: ")
    # As the compose service runs it: the variables in its environment, the sensors' file.
    sensors = tmp_path / "mqtt-sensors.txt"
    sensors.write_text(f"# id password\nkbm-25m {secrets.token_urlsafe(24)}\n")
    values = read_env_file(env_file)
    result = _noiselab("check-secrets", "--sensors", str(sensors), env=values)
    assert result.returncode == 0, result.stderr
    assert "1 sensor passwords" in result.stdout
    # Negative control: one weak sensor password in that file is enough to refuse.
    sensors.write_text(sensors.read_text() + "kbm-33m change-me\n")
    result = _noiselab("check-secrets", "--sensors", str(sensors), env=values)
    assert result.returncode == 1
    assert "sensor kbm-33m's MQTT password" in result.stderr


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("change-me", "example value"),
        ("Change_Me-please-0123456789", "example value"),
        ("", "empty"),
        ("MyPassword-for-2026", "example value"),
        ("k8Jq2mZ7xP", "too short"),
        ("abababababababababab", "too few different"),
    ],
)
def test_weak_values_are_refused(value: str, reason: str) -> None:
    found = weakness(value)
    assert found is not None
    assert reason in found


def test_generated_values_pass() -> None:
    for _ in range(200):
        assert weakness(secrets.token_urlsafe(32)) is None
        assert weakness(secrets.token_hex(16)) is None


def test_every_required_variable_must_be_present_and_optional_ones_only_when_set() -> None:
    good = {name: secrets.token_urlsafe(32) for name in COMPOSE_REQUIRED}
    assert check_compose_secrets(good) == []
    missing = dict(good)
    del missing["POSTGRES_PASSWORD"]
    assert [str(p) for p in check_compose_secrets(missing)] == ["POSTGRES_PASSWORD: not set"]
    unset_optional = {**good, **dict.fromkeys(COMPOSE_OPTIONAL, "")}
    assert check_compose_secrets(unset_optional) == []
    weak_optional = {**good, "MQTT_SIM_PASSWORD": "change-me"}
    assert [p.where for p in check_compose_secrets(weak_optional)] == ["MQTT_SIM_PASSWORD"]


def test_the_env_file_reader_reads_what_compose_reads(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\n\nA=1\nB='two words'\nC=\"x=y\"\nexport D=4\nE=\n")
    assert read_env_file(path) == {"A": "1", "B": "two words", "C": "x=y", "D": "4", "E": ""}


def test_service_secrets_are_found_in_variables_urls_and_arguments() -> None:
    strong = secrets.token_urlsafe(32)
    environ = {
        "NOISELAB_INFLUX_TOKEN": "change-me",
        "NOISELAB_META": "postgresql+psycopg://noiselab:short@postgres:5432/noiselab",
        "NOISELAB_MQTT": f"mqtt://noiselab-ingest:{strong}@mosquitto:1883",
        "NOISELAB_STORE": "influxdb://influxdb:8086?org=o&bucket=b",
        "NOISELAB_GRAFANA_KEY": "",
        "OTHER_PASSWORD": "change-me",  # not noiselab's: not checked here
    }
    argv = ["ingest", "--mqtt", "mqtt://noiselab-sim:change-me@mosquitto:1883"]
    found = [p.where for p in check_service_secrets(environ, argv)]
    assert found == [
        "NOISELAB_INFLUX_TOKEN",
        "the password in NOISELAB_META",
        "the password in command-line argument 2",
    ]


@pytest.mark.process
def test_a_noiselab_command_refuses_to_start_with_weak_secrets_when_required(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path}/store.db"
    weak = {
        "NOISELAB_REQUIRE_STRONG_SECRETS": "true",
        "NOISELAB_META": "postgresql+psycopg://noiselab:change-me@127.0.0.1:1/noiselab",
    }
    result = _noiselab("alerts", "--store", store, "--once", env=weak)
    assert result.returncode == 2
    assert "weak secret: the password in NOISELAB_META" in result.stderr
    assert "refusing to start" in result.stderr
    argv = _noiselab(
        "ingest",
        "--mqtt",
        "mqtt://noiselab-ingest:change-me@127.0.0.1:1",
        env={"NOISELAB_REQUIRE_STRONG_SECRETS": "1"},
    )
    assert argv.returncode == 2
    assert "the password in command-line argument 2" in argv.stderr
    # Negative control: without NOISELAB_REQUIRE_STRONG_SECRETS the same command gets past the
    # check (and fails later, connecting to nothing, without the refusal).
    lax = {k: v for k, v in weak.items() if k != "NOISELAB_REQUIRE_STRONG_SECRETS"}
    result = _noiselab("alerts", "--store", store, "--once", env=lax)
    assert "weak secret" not in result.stderr
    strong = _noiselab(
        "check-secrets",
        "--help",
        env={
            "NOISELAB_REQUIRE_STRONG_SECRETS": "true",
            "NOISELAB_INFLUX_TOKEN": secrets.token_urlsafe(32),
        },
    )
    assert strong.returncode == 0, strong.stderr
