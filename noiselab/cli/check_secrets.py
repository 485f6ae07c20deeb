"""``noiselab check-secrets``: refuse the example secrets before the compose stack starts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from noiselab.secrets_check import (
    COMPOSE_OPTIONAL,
    COMPOSE_REQUIRED,
    check_compose_secrets,
    check_service_secrets,
    read_env_file,
    read_sensor_passwords,
    strict_mode,
)

__all__ = ["check_secrets", "refuse_weak_service_secrets"]


def check_secrets(
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            exists=True,
            dir_okay=False,
            help="Read the variables from this .env file instead of the environment.",
        ),
    ] = None,
    sensors: Annotated[
        Path | None,
        typer.Option(
            "--sensors",
            dir_okay=False,
            help="Also check the passwords of this mqtt-sensors.txt (skipped when absent).",
        ),
    ] = None,
) -> None:
    """Exit 1 when a secret of the compose stack is empty, short or an example value.

    Checks INFLUXDB_ADMIN_PASSWORD, INFLUXDB_TOKEN, POSTGRES_PASSWORD, MQTT_INGEST_PASSWORD and
    GRAFANA_ADMIN_PASSWORD, and INFLUXDB_READ_TOKEN, MQTT_SIM_PASSWORD, MQTT_FIWARE_PASSWORD and
    NOISELAB_GRAFANA_KEY when set. Prints the names of the weak ones, never their values.
    """
    values = read_env_file(env_file) if env_file is not None else dict(os.environ)
    passwords = read_sensor_passwords(sensors) if sensors is not None and sensors.exists() else {}
    problems = check_compose_secrets(values, passwords)
    if problems:
        for problem in problems:
            typer.echo(f"weak secret: {problem}", err=True)
        typer.echo(
            "refusing to start: replace these in .env (or secrets/mqtt-sensors.txt) with e.g. "
            'python3 -c "import secrets; print(secrets.token_urlsafe(32))"',
            err=True,
        )
        raise typer.Exit(1)
    checked = [*COMPOSE_REQUIRED, *(name for name in COMPOSE_OPTIONAL if values.get(name))]
    typer.echo(f"secrets ok: {', '.join(checked)}; {len(passwords)} sensor passwords")


def refuse_weak_service_secrets() -> None:
    """With ``NOISELAB_REQUIRE_STRONG_SECRETS`` set, exit 2 before any command runs when its
    environment or command line carries a weak secret (docs/deployment.md)."""
    if not strict_mode(os.environ):
        return
    problems = check_service_secrets(os.environ, sys.argv[1:])
    if problems:
        for problem in problems:
            typer.echo(f"noiselab: weak secret: {problem}", err=True)
        typer.echo(
            "noiselab: refusing to start with weak secrets (NOISELAB_REQUIRE_STRONG_SECRETS "
            "is set); replace them in .env",
            err=True,
        )
        raise typer.Exit(2)
