"""``noiselab demo``: the whole Living Lab on this machine (see :mod:`noiselab.demo`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from noiselab.cli.common import fail, on_signals
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging

__all__ = ["demo"]


def demo(
    data_dir: Annotated[
        Path, typer.Option(envvar="NOISELAB_DATA_DIR", help="Where all demo data lives.")
    ] = Path("noiselab-data"),
    port: Annotated[int, typer.Option(envvar="NOISELAB_API_PORT", help="API port.")] = 8000,
    backfill: Annotated[
        str, typer.Option(envvar="NOISELAB_SIM_BACKFILL", help="History to simulate first.")
    ] = "7d",
    rate: Annotated[
        float, typer.Option(envvar="NOISELAB_SIM_RATE", min=0.001, max=100, help="Readings/s.")
    ] = 1.0,
    sensors: Annotated[
        str, typer.Option(envvar="NOISELAB_SIM_SENSORS", help="'default' or a number.")
    ] = "default",
) -> None:
    """Run the whole Living Lab here: broker, simulator, ingest, alerts and API. Ctrl-C stops
    it."""
    from noiselab.demo import Demo

    configure_logging("info")
    try:
        runner = Demo(
            data_dir=data_dir, api_port=port, backfill=backfill, rate=rate, sensors=sensors
        )
        runner.start()
    except NoiselabError as exc:
        raise fail(exc) from exc
    on_signals(runner.request_stop)
    sys.exit(runner.wait())
