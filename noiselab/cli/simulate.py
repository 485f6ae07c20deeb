"""``noiselab simulate``: publish readings of simulated sensors from the physical model."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from noiselab.cli.common import fail, on_signals
from noiselab.cli.options import DEFAULT_MQTT, LogJsonOpt, LogLevelOpt, MqttOpt, PrefixOpt
from noiselab.config import parse_duration, parse_mqtt_url, parse_utc_time
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging

__all__ = ["simulate"]


def _parse_when(name: str, text: str) -> float:
    """``YYYY-MM-DD`` (UTC midnight) or an ISO 8601 / RFC 3339 time (UTC if no offset)."""
    return parse_utc_time(name, text, "YYYY-MM-DD or an ISO 8601 time like 2026-05-01T06:00Z")


def simulate(
    mqtt: MqttOpt = DEFAULT_MQTT,
    sensors: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_SIM_SENSORS",
            help="'default' (the 12 Vallensbæk sites), a .json site file, or a number N of "
            "numbered sensors cycling over the default sites.",
        ),
    ] = "default",
    rate: Annotated[
        float,
        typer.Option(envvar="NOISELAB_SIM_RATE", min=0.001, max=100, help="Readings/s/sensor."),
    ] = 1.0,
    backfill: Annotated[
        str,
        typer.Option(envvar="NOISELAB_SIM_BACKFILL", help="History to publish first, e.g. 24h."),
    ] = "0",
    start: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_SIM_START",
            help="Backfill from this UTC date/time instead of BACKFILL before now "
            "(with --backfill: that much history from START; without: up to now).",
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live/--no-live", envvar="NOISELAB_SIM_LIVE", help="Keep publishing.")
    ] = True,
    seed: Annotated[int, typer.Option(envvar="NOISELAB_SIM_SEED", help="Random seed.")] = 0,
    faults: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_SIM_FAULTS",
            help="Fault rates 0..1, e.g. dropout=0.01,offline=0.0001,stuck=0.0001,skew=0.0001,"
            "duplicate=0.01,malformed=0.001 (and offline_s, stuck_s, skew_s durations).",
        ),
    ] = "",
    barrier_date: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_SIM_BARRIER_DATE",
            help="When the trial barrier is installed at the treated site (UTC date/time); "
            "default the middle of the backfill.",
        ),
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            envvar="NOISELAB_SIM_PROGRESS",
            help="Backfill progress bar (default: on a terminal; else log lines).",
        ),
    ] = None,
    spectra: Annotated[
        bool,
        typer.Option(
            "--spectra/--no-spectra",
            envvar="NOISELAB_SIM_SPECTRA",
            help="Send third-octave LZeq spectra (100 Hz-5 kHz) with every reading.",
        ),
    ] = False,
    weather: Annotated[
        bool,
        typer.Option(
            "--weather/--no-weather",
            envvar="NOISELAB_SIM_WEATHER",
            help="Simulate the weather station vb-weather: its wind and rain noise in the "
            "readings, and its per-minute observations on PREFIX/vb-weather/weather.",
        ),
    ] = False,
    meta: Annotated[
        str | None,
        typer.Option(
            "--meta",
            envvar="NOISELAB_META",
            help="Register the simulated sensors (and with --weather the station, every "
            "sensor assigned to it) in this database.",
        ),
    ] = None,
    topic_prefix: PrefixOpt = "noiselab",
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Publish readings of simulated Vallensbæk sensors from the physical model."""
    import time

    from noiselab.errors import ConfigError
    from noiselab.sensors_sim.faults import parse_faults
    from noiselab.sensors_sim.publisher import Simulator, SimulatorSettings
    from noiselab.sensors_sim.register import register_sim_sensors, register_sim_weather
    from noiselab.sensors_sim.sites import sensors_from_spec

    configure_logging(log_level, as_json=log_json)
    try:
        sim_sensors = sensors_from_spec(sensors)
        start_at = None if start is None else _parse_when("--start", start)
        if start_at is not None and start_at > time.time():
            raise ConfigError(f"--start {start!r} is in the future")
        settings = SimulatorSettings(
            mqtt=parse_mqtt_url(mqtt),
            sensors=sim_sensors,
            rate_hz=rate,
            backfill_s=parse_duration(backfill),
            start=start_at,
            live=live,
            seed=seed,
            topic_prefix=topic_prefix,
            faults=parse_faults(faults),
            barrier_at=None
            if barrier_date is None
            else _parse_when("--barrier-date", barrier_date),
            progress=sys.stderr.isatty() if progress is None else progress,
            spectra=spectra,
            weather=weather,
        )
        if abs(86_400 * rate - round(86_400 * rate)) > 1e-9 or 1.0 / rate > 3600:
            raise ConfigError(f"--rate {rate:g}: 1/rate must divide a day and be at most 3600 s")
        if meta:
            register_sim_sensors(meta, sim_sensors)
            if weather:
                register_sim_weather(meta, sim_sensors)
    except NoiselabError as exc:
        raise fail(exc) from exc
    simulator = Simulator(settings)
    on_signals(simulator.request_stop)
    simulator.run()
