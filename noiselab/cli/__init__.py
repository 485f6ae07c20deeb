"""The ``noiselab`` command. Every option also reads a ``NOISELAB_*`` environment variable.

Each command validates its settings before anything connects, and the error names the bad
value. One module per command or group of subcommands; the options they share are in
:mod:`noiselab.cli.options`, the helpers in :mod:`noiselab.cli.common`.
"""

from __future__ import annotations

import typer

from noiselab.cli import alerts, api, compact, demo, doctor, fiware, ingest, simulate
from noiselab.cli.annotations import annotations_app
from noiselab.cli.calibrations import calibrations_app
from noiselab.cli.check_secrets import check_secrets, refuse_weak_service_secrets
from noiselab.cli.citizen_reports import citizen_reports_app
from noiselab.cli.corrections import corrections_app
from noiselab.cli.dashboards import dashboards_app
from noiselab.cli.edge import sensor_app
from noiselab.cli.keys import keys_app
from noiselab.cli.registry import sensors_app
from noiselab.cli.report import report
from noiselab.cli.weather import weather_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="noiselab",
    help="Data platform of the Vallensbæk noise Living Lab.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Runs before every command: refuses weak secrets when NOISELAB_REQUIRE_STRONG_SECRETS is set.
app.callback()(refuse_weak_service_secrets)

app.command()(ingest.ingest)
app.command()(compact.compact)
app.command()(simulate.simulate)
app.command()(api.api)
app.command()(alerts.alerts)
app.command()(fiware.fiware)
app.command()(demo.demo)
app.command()(doctor.doctor)
app.command("check-secrets")(check_secrets)
app.command()(report)
app.add_typer(sensors_app, name="sensors")
app.add_typer(keys_app, name="keys")
app.add_typer(corrections_app, name="corrections")
app.add_typer(citizen_reports_app, name="citizen-reports")
app.add_typer(calibrations_app, name="calibrations")
app.add_typer(annotations_app, name="annotations")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(sensor_app, name="sensor")
app.add_typer(weather_app, name="weather")


def main() -> None:
    """Entry point of the console script."""
    app()
