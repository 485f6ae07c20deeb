"""``noiselab sensor``: run the edge client, or calibrate it.

Every option also reads a ``NOISELAB_*`` environment variable. scipy (the meters) and
sounddevice (``--device``) are imported inside the commands, so ``noiselab --help`` works
without them.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from noiselab.cli.common import fail, on_signals
from noiselab.cli.options import DEFAULT_MQTT, LogJsonOpt, LogLevelOpt, MqttOpt, PrefixOpt
from noiselab.config import parse_mqtt_url, parse_utc_time
from noiselab.errors import ConfigError, NoiselabError
from noiselab.logs import configure_logging

__all__ = ["parse_start", "sensor_app"]

sensor_app = typer.Typer(
    help="The edge sensor client: a microphone or a WAV file in, levels out over MQTT.",
    invoke_without_command=True,
)


def parse_start(text: str) -> float:
    """``--start``: Unix seconds, or an RFC 3339 time (``2026-11-25T10:00:00Z``; a time without
    an offset is taken as UTC). Returns Unix seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    return parse_utc_time(
        "--start", text, "Unix seconds or an RFC 3339 time like 2026-11-25T10:00:00Z"
    )


@sensor_app.callback()
def run(
    ctx: typer.Context,
    mqtt: MqttOpt = DEFAULT_MQTT,
    sensor_id: Annotated[
        str | None,
        typer.Option("--id", envvar="NOISELAB_SENSOR_ID", help="Sensor id: a-z, 0-9, -."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_SENSOR_DEVICE",
            help="Record from this sound card (name or number; needs noiselab\\[audio]).",
        ),
    ] = None,
    wav: Annotated[
        Path | None,
        typer.Option(envvar="NOISELAB_SENSOR_WAV", help="Replay this 16/24/32-bit PCM WAV."),
    ] = None,
    sample_rate: Annotated[
        int,
        typer.Option(envvar="NOISELAB_SENSOR_SAMPLE_RATE", min=8000, help="Device rate, Hz."),
    ] = 48_000,
    calibration_offset: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_CALIBRATION_OFFSET",
            help="dB added to every level; sample value 1.0 counts as 1 Pa before it "
            "(see 'noiselab sensor calibrate').",
        ),
    ] = 0.0,
    spectra: Annotated[
        bool,
        typer.Option(
            "--spectra/--no-spectra",
            envvar="NOISELAB_SENSOR_SPECTRA",
            help="Send third-octave LZeq spectra (25 Hz-10 kHz) with every reading.",
        ),
    ] = False,
    topic_prefix: PrefixOpt = "noiselab",
    buffer: Annotated[
        Path | None,
        typer.Option(
            envvar="NOISELAB_SENSOR_BUFFER",
            help="SQLite outbox; default noiselab-sensor-ID.db in the working directory.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            envvar="NOISELAB_SENSOR_START",
            help="WAV: time of its first sample (RFC 3339 or Unix s); default the file's "
            "modification time minus its length.",
        ),
    ] = None,
    realtime: Annotated[
        bool,
        typer.Option(
            "--realtime", envvar="NOISELAB_SENSOR_REALTIME", help="WAV: replay at real time."
        ),
    ] = False,
    keepalive: Annotated[
        int,
        typer.Option(envvar="NOISELAB_SENSOR_KEEPALIVE", min=1, help="MQTT keepalive, s."),
    ] = 30,
    max_inflight: Annotated[
        int,
        typer.Option(envvar="NOISELAB_SENSOR_MAX_INFLIGHT", min=1, help="Unacknowledged messages."),
    ] = 20,
    flush_timeout: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_SENSOR_FLUSH_TIMEOUT", min=0, help="Publishing after a stop, s."
        ),
    ] = 5.0,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Measure a microphone (--device) or a WAV file (--wav) and publish a reading per second.

    Readings are kept in a local SQLite buffer until the broker acknowledges them, so nothing
    is lost while the broker is away; Ctrl-C stops after a short flush.
    """
    if ctx.invoked_subcommand is not None:
        return
    from noiselab import __version__
    from noiselab.edge.buffer import ReadingBuffer
    from noiselab.edge.runner import run_sensor
    from noiselab.edge.sources import AudioSource, DeviceSource, WavSource
    from noiselab.edge.uplink import UplinkSettings
    from noiselab.ingest.message import is_sensor_id

    configure_logging(log_level, as_json=log_json)
    try:
        if sensor_id is None:
            raise ConfigError("--id SENSOR_ID is required (or NOISELAB_SENSOR_ID)")
        if not is_sensor_id(sensor_id):
            raise ConfigError(f"--id {sensor_id!r}: expected [a-z0-9][a-z0-9-]{{1,63}}")
        if (device is None) == (wav is None):
            raise ConfigError("give exactly one of --device NAME and --wav FILE")
        url = parse_mqtt_url(mqtt)
        first = None if start is None else parse_start(start)
        source: AudioSource
        if wav is not None:
            source = WavSource(wav, start=first)
        else:
            source = DeviceSource(device or "", fs=sample_rate)
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        outbox = ReadingBuffer(buffer or Path(f"noiselab-sensor-{sensor_id}.db"), sensor_id)
    except NoiselabError as exc:
        source.close()
        raise fail(exc) from exc
    settings = UplinkSettings(
        mqtt=url,
        sensor_id=sensor_id,
        topic_prefix=topic_prefix,
        keepalive_s=keepalive,
        max_inflight=max_inflight,
        status={
            "client": f"noiselab-sensor {__version__}",
            "source": "device" if device is not None else "wav",
            "fs": source.fs,
            "calibration_offset_db": calibration_offset,
            "spectra": spectra,
        },
    )
    stop = threading.Event()
    on_signals(stop.set)
    try:
        run_sensor(
            source,
            outbox,
            settings,
            calibration_db=calibration_offset,
            spectra=spectra,
            realtime=realtime or device is not None,
            stop=stop,
            flush_timeout_s=flush_timeout,
        )
    except NoiselabError as exc:
        raise fail(exc) from exc
    finally:
        source.close()
        outbox.close()


@sensor_app.command()
def calibrate(
    wav: Annotated[
        Path,
        typer.Option(envvar="NOISELAB_CALIBRATE_WAV", help="Recording of the calibrator tone."),
    ],
    reference_db: Annotated[
        float,
        typer.Option(envvar="NOISELAB_CALIBRATE_REFERENCE_DB", help="The calibrator's level, dB."),
    ] = 94.0,
    frequency: Annotated[
        float,
        typer.Option(envvar="NOISELAB_CALIBRATE_FREQUENCY", min=10, help="Its frequency, Hz."),
    ] = 1000.0,
) -> None:
    """Compute --calibration-offset from a recording of an acoustic calibrator (e.g. 94 dB at
    1 kHz); the first and last second are skipped."""
    import numpy as np

    from noiselab.edge.calibrate import calibrate as compute
    from noiselab.edge.sources import WavSource

    try:
        source = WavSource(wav, start=time.time())
        try:
            samples = np.concatenate([np.zeros(0), *source.blocks(threading.Event())])
        finally:
            source.close()
        result = compute(samples, source.fs, reference_db=reference_db, frequency_hz=frequency)
    except NoiselabError as exc:
        raise fail(exc) from exc
    typer.echo(
        f"tone {result.frequency_hz:.1f} Hz ({result.tone_share:.1%} of the power), "
        f"{result.measured_db:.2f} dB uncalibrated (sample 1.0 = 1 Pa), "
        f"1-s levels spread {result.spread_db:.2f} dB over {result.seconds} s"
    )
    typer.echo(f"calibration offset: {result.offset_db:+.2f} dB")
    typer.echo(f"use: noiselab sensor --calibration-offset {result.offset_db:.2f} ...")
