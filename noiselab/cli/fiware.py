"""``noiselab fiware``: re-publish completed intervals as FIWARE entities over MQTT."""

from __future__ import annotations

from typing import Annotated

import typer

from noiselab.cli.common import fail, on_signals, open_stores
from noiselab.cli.options import (
    DEFAULT_MQTT,
    DEFAULT_STORE,
    LogJsonOpt,
    LogLevelOpt,
    MetaOpt,
    MqttOpt,
    StoreOpt,
)
from noiselab.config import parse_mqtt_url
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging

__all__ = ["fiware"]


def fiware(
    mqtt_url: MqttOpt = DEFAULT_MQTT,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    every: Annotated[
        str,
        typer.Option(envvar="NOISELAB_FIWARE_EVERY", help="Interval of each entity: 1m 5m 15m 1h."),
    ] = "15m",
    topic_prefix: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_FIWARE_TOPIC_PREFIX",
            help="Entities go to PREFIX/{sensor_id}/NoiseLevelObserved (retained, QoS 1).",
        ),
    ] = "fiware/noiselab",
    min_coverage: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_FIWARE_MIN_COVERAGE",
            min=0.0,
            max=1.0,
            help="Publish an interval only when this share of it was measured.",
        ),
    ] = 0.75,
    settle: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_FIWARE_SETTLE", min=0, help="Seconds to wait for late readings."
        ),
    ] = 60.0,
    include_private: Annotated[
        bool,
        typer.Option(
            "--include-private",
            envvar="NOISELAB_FIWARE_INCLUDE_PRIVATE",
            help="Also publish sensors that are not public (vendors' sensors).",
        ),
    ] = False,
    once: Annotated[
        bool,
        typer.Option("--once", envvar="NOISELAB_FIWARE_ONCE", help="Publish the latest, exit."),
    ] = False,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Re-publish each completed interval of every public sensor as a FIWARE
    NoiseLevelObserved entity (NGSI-LD key-values) over MQTT."""
    from noiselab.errors import ConfigError
    from noiselab.export.fiware_service import PUBLISHABLE, FiwarePublisher, FiwareSettings

    configure_logging(log_level, as_json=log_json)
    widths = {e.value: e for e in PUBLISHABLE}
    try:
        if every not in widths:
            raise ConfigError(f"--every {every!r}: must be one of {', '.join(widths)}")
        settings = FiwareSettings(
            mqtt=parse_mqtt_url(mqtt_url),
            every=widths[every],
            topic_prefix=topic_prefix.strip("/"),
            min_coverage=min_coverage,
            settle_s=settle,
            include_private=include_private,
        )
        reading_store, registry = open_stores(store, meta)
    except NoiselabError as exc:
        raise fail(exc) from exc
    publisher = FiwarePublisher(settings, reading_store, registry)
    try:
        publisher.start()
        if once:
            typer.echo(f"published {publisher.publish_due()} entities")
        else:
            on_signals(publisher.request_stop)
            publisher.run()
    except NoiselabError as exc:
        raise fail(exc) from exc
    finally:
        publisher.close()
        reading_store.close()
        registry.close()
