"""``noiselab dashboards``: push the Grafana dashboards of dashboards/ into Grafana."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from noiselab.cli.common import fail
from noiselab.errors import NoiselabError

__all__ = ["dashboards_app"]

dashboards_app = typer.Typer(help="The Grafana dashboards of dashboards/.", no_args_is_help=True)


@dashboards_app.command("push")
def dashboards_push(
    grafana_url: Annotated[
        str, typer.Option(envvar="NOISELAB_GRAFANA_URL", help="Grafana's base URL.")
    ],
    token: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_GRAFANA_TOKEN",
            help="A Grafana service-account token (Editor). Prefer the variable to the option.",
        ),
    ],
    directory: Annotated[
        Path,
        typer.Option(
            "--dir", envvar="NOISELAB_DASHBOARDS_DIR", help="Folder of dashboard JSON files."
        ),
    ] = Path("dashboards"),
) -> None:
    """Upload the dashboards into Grafana's 'noiselab' folder (overwriting by uid)."""
    try:
        from noiselab.grafana_push import load_dashboards, push_dashboards
    except ImportError as exc:
        raise fail(
            NoiselabError("dashboards push needs grafana-client: pip install 'noiselab[grafana]'")
        ) from exc
    try:
        pushed = push_dashboards(load_dashboards(directory), grafana_url, token)
    except NoiselabError as exc:
        raise fail(exc) from exc
    for dashboard in pushed:
        typer.echo(f"{dashboard.uid}  v{dashboard.version}  {dashboard.title}  {dashboard.url}")
