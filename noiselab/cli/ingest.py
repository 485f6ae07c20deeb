"""``noiselab ingest``: consume readings from MQTT into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from noiselab.cli.common import fail, metadata_url, on_signals
from noiselab.cli.options import (
    DEFAULT_HOT_WINDOW,
    DEFAULT_MQTT,
    DEFAULT_STORE,
    LogJsonOpt,
    LogLevelOpt,
    MetaOpt,
    MqttOpt,
    PrefixOpt,
    RetentionDaysOpt,
    StoreOpt,
)
from noiselab.config import parse_duration, parse_mqtt_url
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging

__all__ = ["ingest"]


def ingest(
    mqtt: MqttOpt = DEFAULT_MQTT,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    auto_register: Annotated[
        bool,
        typer.Option(
            "--auto-register",
            envvar="NOISELAB_AUTO_REGISTER",
            help="Register unknown sensors instead of quarantining their readings.",
        ),
    ] = False,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            envvar="NOISELAB_CLIENT_ID",
            help="MQTT client id (the persistent session); default noiselab-ingest-HOSTNAME. "
            "'slot': hold the lowest free numbered slot in the metadata database and use "
            "SHARE_GROUP-N, stable for scaled-out replicas (docker compose --scale).",
        ),
    ] = None,
    topic_prefix: PrefixOpt = "noiselab",
    share_group: Annotated[
        str,
        typer.Option(
            "--share-group",
            envvar="NOISELAB_SHARE_GROUP",
            help="Shared-subscription group; empty for a plain subscription.",
        ),
    ] = "noiselab-ingest",
    batch_messages: Annotated[
        int, typer.Option(envvar="NOISELAB_BATCH_MESSAGES", min=1, help="Messages per batch.")
    ] = 5000,
    flush_interval: Annotated[
        float,
        typer.Option(envvar="NOISELAB_FLUSH_INTERVAL", min=0.001, help="Max batch wait, s."),
    ] = 0.1,
    receive_maximum: Annotated[
        int,
        typer.Option(
            envvar="NOISELAB_RECEIVE_MAXIMUM", min=1, max=65535, help="Unacked messages in flight."
        ),
    ] = 10000,
    max_future: Annotated[
        float,
        typer.Option(envvar="NOISELAB_MAX_FUTURE", min=0, help="Accepted clock skew, s."),
    ] = 300.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(envvar="NOISELAB_INGEST_METRICS_PORT", help="Serve /metrics on this port."),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_INGEST_METRICS_HOST",
            help="Address of /metrics (0.0.0.0 in a container for Prometheus).",
        ),
    ] = "127.0.0.1",
    sources: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            envvar="NOISELAB_INGEST_SOURCES",
            help="TOML file of foreign-format sources to read too (docs/devices.md).",
        ),
    ] = None,
    compact: Annotated[
        bool,
        typer.Option(
            "--compact/--no-compact",
            envvar="NOISELAB_COMPACT",
            help="Compact a SQLite store's readings older than --hot-window into compressed"
            " chunks in the background (InfluxDB compresses its own storage).",
        ),
    ] = True,
    hot_window: Annotated[
        str,
        typer.Option(
            "--hot-window",
            envvar="NOISELAB_HOT_WINDOW",
            help="Readings younger than this stay uncompacted, e.g. 48h or 2d (at least 1h).",
        ),
    ] = DEFAULT_HOT_WINDOW,
    compact_every: Annotated[
        str,
        typer.Option(
            "--compact-every",
            envvar="NOISELAB_COMPACT_EVERY",
            help="Time between compaction passes, e.g. 10m.",
        ),
    ] = "10m",
    retention_days: RetentionDaysOpt = None,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Consume readings from MQTT into the store (at least once, idempotent)."""
    from noiselab.calibration import CalibrationLog, ToneCheckRecorder
    from noiselab.ingest.compaction import CompactionSettings
    from noiselab.ingest.lease import hold_client_id
    from noiselab.ingest.sources import load_sources
    from noiselab.ingest.worker import IngestSettings, IngestWorker
    from noiselab.store import open_store
    from noiselab.store.metadata import MetadataStore

    configure_logging(log_level, as_json=log_json)
    try:
        source_list = load_sources(sources) if sources is not None else ()
        compaction = CompactionSettings(
            enabled=compact,
            hot_window_s=parse_duration(hot_window, "--hot-window"),
            interval_s=parse_duration(compact_every, "--compact-every"),
            retention_days=retention_days,
        )
        meta_url = metadata_url(store, meta)
        with hold_client_id(client_id, meta_url, share_group) as held:
            settings = IngestSettings(
                mqtt=parse_mqtt_url(mqtt),
                client_id=held.client_id,
                topic_prefix=topic_prefix,
                share_group=share_group or None,
                auto_register=auto_register,
                batch_messages=batch_messages,
                flush_interval_s=flush_interval,
                receive_maximum=receive_maximum,
                max_future_s=max_future,
                sources=source_list,
                compaction=compaction,
            )
            registry = MetadataStore(meta_url)
            reading_store = open_store(store, source_of=registry.sensors.source_of)
            tones = ToneCheckRecorder(CalibrationLog(registry))
            worker = IngestWorker(settings, reading_store, registry, tone_checks=tones)
            try:
                if metrics_port:
                    from prometheus_client import start_http_server

                    start_http_server(
                        metrics_port, addr=metrics_host, registry=worker.metrics.registry
                    )
                on_signals(worker.request_stop)
                held.watch(worker.request_stop)
                worker.run()
            finally:
                reading_store.close()
                registry.close()
    except NoiselabError as exc:
        raise fail(exc) from exc
