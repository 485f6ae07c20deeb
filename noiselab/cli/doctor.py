"""``noiselab doctor``: check the broker, the reading store, the metadata database and Grafana
with the services' own settings; one line per check, exit code 1 when any fails."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from noiselab.cli.common import fail
from noiselab.cli.options import (
    DEFAULT_MQTT,
    DEFAULT_STORE,
    MetaOpt,
    MqttOpt,
    PrefixOpt,
    StoreOpt,
)
from noiselab.errors import NoiselabError

__all__ = ["doctor"]


def doctor(
    mqtt: MqttOpt = DEFAULT_MQTT,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    topic_prefix: PrefixOpt = "noiselab",
    grafana_url: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_GRAFANA_URL",
            help="Grafana's base URL, http(s)://\\[user:password@]host\\[:port]; unset: not"
            " checked.",
        ),
    ] = None,
    grafana_token: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_GRAFANA_TOKEN",
            help="A Grafana service-account token (Admin role); else the URL's user and"
            " password. Prefer the variable to the option.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            envvar="NOISELAB_DOCTOR_TIMEOUT",
            min=0.1,
            help="Time limit of each network call and of the MQTT round trip, s.",
        ),
    ] = 10.0,
) -> None:
    """Check a deployment: broker round trip, reading store, metadata schema, Grafana."""
    from noiselab.doctor import Status, doctor_settings, planned_steps, report_lines, run_steps

    try:
        settings = doctor_settings(
            mqtt=mqtt,
            topic_prefix=topic_prefix,
            store=store,
            meta=meta,
            timeout_s=timeout,
            grafana_url=grafana_url,
            grafana_token=grafana_token,
            environ=os.environ,
        )
        failures = 0
        with planned_steps(settings) as steps:
            for check in run_steps(steps):
                failures += check.status is Status.FAIL
                for line in report_lines(check):
                    typer.echo(line)
    except NoiselabError as exc:
        raise fail(exc) from exc
    typer.echo(f"{failures} of the checks failed" if failures else "every check passed")
    if failures:
        raise typer.Exit(1)
