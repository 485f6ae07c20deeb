"""``noiselab compact``: compact a SQLite store's old readings once, optionally removing the raw
readings beyond a retention (the ingest does the same in the background)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from noiselab.cli.common import fail, signals_during
from noiselab.cli.options import (
    DEFAULT_HOT_WINDOW,
    DEFAULT_STORE,
    LogJsonOpt,
    LogLevelOpt,
    RetentionDaysOpt,
    StoreOpt,
)
from noiselab.config import parse_duration, parse_store_url
from noiselab.errors import ConfigError, NoiselabError
from noiselab.logs import configure_logging

if TYPE_CHECKING:
    from noiselab.ingest.compaction import PassResult
    from noiselab.store.sqlite import CompactionReport

__all__ = ["compact"]

HOURS_PER_CALL = 1000
"""Sensor-hours per call of the store (one summary line each): about 7 s of 1-s readings."""
HOURS_PER_TRANSACTION = 24
"""An ingest sharing the file waits at most one such transaction (about 0.2 s of 1-s readings)."""
INFLUX_MESSAGE = (
    "InfluxDB compresses its own storage (and its bucket's retention period removes old"
    " data): nothing to do"
)


def compact(
    store: StoreOpt = DEFAULT_STORE,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            envvar="NOISELAB_HOT_WINDOW",
            help="Compact the sensor-hours that ended longer ago than this (the hot window),"
            " e.g. 48h or 2d; at least 1h.",
        ),
    ] = DEFAULT_HOT_WINDOW,
    retention_days: RetentionDaysOpt = None,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Compact old readings of a SQLite store into compressed chunks (safe to interrupt)."""
    from noiselab.ingest.compaction import CompactionSettings, Compactor
    from noiselab.store.sqlite import SqliteStore

    configure_logging(log_level, as_json=log_json)
    try:
        settings = CompactionSettings(
            hot_window_s=parse_duration(older_than, "--older-than"),
            retention_days=retention_days,
            hours_per_call=HOURS_PER_CALL,
            hours_per_transaction=HOURS_PER_TRANSACTION,
        )
        url = parse_store_url(store)
        if url.kind == "influxdb":
            typer.echo(INFLUX_MESSAGE)
            return
        if url.path is None or not url.path.is_file():
            raise ConfigError(f"store {store!r}: no SQLite file at {url.path}")
        with SqliteStore(url.path) as sqlite_store:
            compactor = Compactor(sqlite_store, settings)
            with signals_during(compactor.request_stop):
                result = compactor.run_pass(on_step=_print_step)
    except NoiselabError as exc:
        raise fail(exc) from exc
    _print_result(result, older_than.strip(), retention_days)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _print_step(report: CompactionReport) -> None:
    if report.chunks:
        typer.echo(
            f"compacted {report.chunks:,} sensor-hours, {report.readings:,} readings:"
            f" {_mb(report.hot_bytes)} → {_mb(report.chunk_bytes)} in {report.seconds:.1f} s"
        )


def _print_result(result: PassResult, window: str, retention_days: float | None) -> None:
    if result.chunks:
        typer.echo(
            f"done: {result.chunks:,} sensor-hours, {result.readings:,} readings older than"
            f" {window}: {_mb(result.hot_bytes)} → {_mb(result.chunk_bytes)}"
            f" (saved {_mb(result.bytes_saved)}) in {result.seconds:.1f} s"
        )
    else:
        typer.echo(f"nothing to compact: every sensor-hour older than {window} is compacted")
    if result.left_hot:
        typer.echo(f"{result.left_hot:,} sensor-hours left uncompacted (see the log)")
    if result.stopped:
        typer.echo(
            f"interrupted: about {result.pending:,} sensor-hours (and any retention) left for"
            " the next run"
        )
    elif retention_days is not None:
        typer.echo(
            f"retention {retention_days:g} days: removed {result.dropped:,} raw readings"
            " (roll-ups kept)"
        )
