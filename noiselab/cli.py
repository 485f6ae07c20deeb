"""The ``noiselab`` command. Every option also reads a ``NOISELAB_*`` environment variable.

Settings are validated here, before anything connects, and the error names the bad value.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from noiselab.cli_support import fail, on_signals
from noiselab.config import (
    default_meta_url,
    parse_duration,
    parse_hours,
    parse_mqtt_url,
    parse_store_url,
    parse_utc_time,
    parse_zone,
)
from noiselab.errors import NoiselabError
from noiselab.logs import configure_logging
from noiselab.sensor.cli import sensor_app

if TYPE_CHECKING:
    from noiselab.store.base import ReadingStore
    from noiselab.store.metadata import MetadataStore

__all__ = ["app", "main"]

app = typer.Typer(
    name="noiselab",
    help="Data platform of the Vallensbæk noise Living Lab.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sensors_app = typer.Typer(help="The sensor registry.", no_args_is_help=True)
app.add_typer(sensors_app, name="sensors")
keys_app = typer.Typer(help="API keys (sent as Authorization: Bearer KEY).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
dashboards_app = typer.Typer(help="The Grafana dashboards of dashboards/.", no_args_is_help=True)
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(sensor_app, name="sensor")

DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
DEFAULT_STORE = "sqlite:///noiselab-data/readings.db"

MqttOpt = Annotated[
    str, typer.Option("--mqtt", envvar="NOISELAB_MQTT", help="mqtt://[user:pass@]host[:port]")
]
StoreOpt = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="NOISELAB_STORE",
        help="sqlite:///PATH or influxdb://HOST:PORT?org=&bucket=",
    ),
]
MetaOpt = Annotated[
    str | None,
    typer.Option(
        "--meta",
        envvar="NOISELAB_META",
        help="Metadata database (SQLAlchemy URL); default metadata.db beside a SQLite store.",
    ),
]
PrefixOpt = Annotated[
    str, typer.Option("--topic-prefix", envvar="NOISELAB_TOPIC_PREFIX", help="MQTT topic prefix.")
]
LogLevelOpt = Annotated[
    str, typer.Option("--log-level", envvar="NOISELAB_LOG_LEVEL", help="debug|info|warning|error")
]
LogJsonOpt = Annotated[
    bool, typer.Option("--log-json", envvar="NOISELAB_LOG_JSON", help="Log JSON lines.")
]


def _meta_url(store: str, meta: str | None) -> str:
    return meta or default_meta_url(parse_store_url(store))


def _open_stores(store: str, meta: str | None) -> tuple[ReadingStore, MetadataStore]:
    """The time-series store and the metadata database; neither is left open on failure."""
    from noiselab.store import open_store
    from noiselab.store.metadata import MetadataStore

    meta_url = _meta_url(store, meta)
    reading_store = open_store(store)
    try:
        return reading_store, MetadataStore(meta_url)
    except BaseException:
        reading_store.close()
        raise


@app.command()
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
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Consume readings from MQTT into the store (at least once, idempotent)."""
    import threading

    from noiselab.ingest.slots import SlotLease, claim_slot, slot_client_id, watch_slot
    from noiselab.ingest.sources import load_sources
    from noiselab.ingest.worker import IngestSettings, IngestWorker, default_client_id
    from noiselab.store import open_store
    from noiselab.store.metadata import MetadataStore

    configure_logging(log_level, as_json=log_json)
    lease: SlotLease | None = None
    try:
        source_list = load_sources(sources) if sources is not None else ()
        meta_url = _meta_url(store, meta)
        if client_id == "slot":
            lease = claim_slot(meta_url, share_group or "noiselab-ingest")
            client_id = slot_client_id(share_group or "noiselab-ingest", lease.slot)
        settings = IngestSettings(
            mqtt=parse_mqtt_url(mqtt),
            client_id=client_id or default_client_id(),
            topic_prefix=topic_prefix,
            share_group=share_group or None,
            auto_register=auto_register,
            batch_messages=batch_messages,
            flush_interval_s=flush_interval,
            receive_maximum=receive_maximum,
            max_future_s=max_future,
            sources=source_list,
        )
        registry = MetadataStore(meta_url)
        reading_store = open_store(store, source_of=registry.sensors.source_of)
    except NoiselabError as exc:
        if lease is not None:
            lease.release()
        raise fail(exc) from exc
    worker = IngestWorker(settings, reading_store, registry)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=metrics_host, registry=worker.metrics.registry)
    on_signals(worker.request_stop)
    slot_lost = threading.Event()
    if lease is not None:

        def lost() -> None:
            slot_lost.set()
            worker.request_stop()

        watch_slot(lease, lost)
    try:
        worker.run()
    except NoiselabError as exc:
        raise fail(exc) from exc
    finally:
        reading_store.close()
        registry.close()
        if lease is not None:
            lease.release()
    if lease is not None and slot_lost.is_set():
        raise fail(NoiselabError(f"lost ingest slot {lease.slot}; stopped to avoid a duplicate"))


def _parse_when(name: str, text: str) -> float:
    """``YYYY-MM-DD`` (UTC midnight) or an ISO 8601 / RFC 3339 time (UTC if no offset)."""
    return parse_utc_time(name, text, "YYYY-MM-DD or an ISO 8601 time like 2026-05-01T06:00Z")


@app.command()
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
    meta: Annotated[
        str | None,
        typer.Option(
            "--meta",
            envvar="NOISELAB_META",
            help="Register the simulated sensors in this database.",
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
    from noiselab.sensors_sim.register import register_sim_sensors
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
        )
        if abs(86_400 * rate - round(86_400 * rate)) > 1e-9 or 1.0 / rate > 3600:
            raise ConfigError(f"--rate {rate:g}: 1/rate must divide a day and be at most 3600 s")
        if meta:
            register_sim_sensors(meta, sim_sensors)
    except NoiselabError as exc:
        raise fail(exc) from exc
    simulator = Simulator(settings)
    on_signals(simulator.request_stop)
    simulator.run()


@app.command()
def api(
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    host: Annotated[str, typer.Option(envvar="NOISELAB_API_HOST", help="Bind address.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(envvar="NOISELAB_API_PORT", help="Port.")] = 8000,
    zone: Annotated[
        str, typer.Option(envvar="NOISELAB_ZONE", help="Local time zone (IANA) for days.")
    ] = "Europe/Copenhagen",
    day: Annotated[
        str, typer.Option(envvar="NOISELAB_DAY", help="Day period, local hours FROM-TO.")
    ] = "7-19",
    evening: Annotated[
        str, typer.Option(envvar="NOISELAB_EVENING", help="Evening period, local hours FROM-TO.")
    ] = "19-22",
    public_rate: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_PUBLIC_RATE",
            min=0,
            help="Requests/s per client address without a key (0: no limit).",
        ),
    ] = 20.0,
    public_burst: Annotated[
        int,
        typer.Option(
            envvar="NOISELAB_PUBLIC_BURST",
            min=0,
            help="Burst of requests per client address without a key (0: no limit).",
        ),
    ] = 100,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            envvar="NOISELAB_TRUSTED_PROXIES",
            help="Peer address whose X-Forwarded-For is believed (repeatable).",
        ),
    ] = None,
    tile_url: Annotated[
        str,
        typer.Option(
            envvar="NOISELAB_TILE_URL",
            help="Map tile URL template with {z}/{x}/{y}; empty: no tiles.",
        ),
    ] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    tile_attribution: Annotated[
        str, typer.Option(envvar="NOISELAB_TILE_ATTRIBUTION", help="Who the tiles credit.")
    ] = "© OpenStreetMap contributors",
    tile_attribution_url: Annotated[
        str,
        typer.Option(envvar="NOISELAB_TILE_ATTRIBUTION_URL", help="Link of the attribution."),
    ] = "https://www.openstreetmap.org/copyright",
    map_refresh: Annotated[
        float,
        typer.Option(envvar="NOISELAB_MAP_REFRESH", min=5, max=86400, help="Map page refresh, s."),
    ] = 60.0,
    map_cache: Annotated[
        float,
        typer.Option(
            envvar="NOISELAB_MAP_CACHE", min=0, max=3600, help="/api/v1/map cache, s (0: off)."
        ),
    ] = 15.0,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the public noise map (at /)."""
    import uvicorn

    from noiselab.api.app import create_app
    from noiselab.api.settings import ApiSettings

    configure_logging(log_level, as_json=log_json)
    try:
        settings = ApiSettings(
            store_url=store,
            meta_url=_meta_url(store, meta),
            zone=zone,
            day=parse_hours("--day", day),
            evening=parse_hours("--evening", evening),
            public_rate_per_s=public_rate,
            public_burst=public_burst,
            trusted_proxies=tuple(trusted_proxy or ()),
            tile_url=tile_url,
            tile_attribution=tile_attribution,
            tile_attribution_url=tile_attribution_url,
            map_refresh_s=map_refresh,
            map_cache_s=map_cache,
        )
        parse_store_url(store)
    except NoiselabError as exc:
        raise fail(exc) from exc
    uvicorn.run(
        create_app(settings), host=host, port=port, log_config=None, log_level=log_level.lower()
    )


@app.command()
def alerts(
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
    interval: Annotated[
        float,
        typer.Option(envvar="NOISELAB_ALERTS_INTERVAL", min=1, help="Seconds between evaluations."),
    ] = 60.0,
    once: Annotated[
        bool,
        typer.Option(
            "--once", envvar="NOISELAB_ALERTS_ONCE", help="Evaluate once (webhooks sent), exit."
        ),
    ] = False,
    zone: Annotated[
        str, typer.Option(envvar="NOISELAB_ZONE", help="Local time zone (IANA) for hours, days.")
    ] = "Europe/Copenhagen",
    day: Annotated[
        str, typer.Option(envvar="NOISELAB_DAY", help="Day period, local hours FROM-TO.")
    ] = "7-19",
    evening: Annotated[
        str, typer.Option(envvar="NOISELAB_EVENING", help="Evening period, local hours FROM-TO.")
    ] = "19-22",
    webhook_attempts: Annotated[
        int,
        typer.Option(envvar="NOISELAB_WEBHOOK_ATTEMPTS", min=1, max=20, help="Tries per webhook."),
    ] = 4,
    webhook_timeout: Annotated[
        float,
        typer.Option(envvar="NOISELAB_WEBHOOK_TIMEOUT", min=0.1, help="Seconds per webhook try."),
    ] = 5.0,
    log_level: LogLevelOpt = "info",
    log_json: LogJsonOpt = False,
) -> None:
    """Evaluate the alert rules every INTERVAL seconds: open, keep and resolve alerts."""
    from noiselab.alerts import AlertService, Evaluator, WebhookNotifier
    from noiselab.store.metadata import AlertRepository

    configure_logging(log_level, as_json=log_json)
    try:
        tz = parse_zone("--zone", zone)
        periods = parse_hours("--day", day), parse_hours("--evening", evening)
        reading_store, registry = _open_stores(store, meta)
    except NoiselabError as exc:
        raise fail(exc) from exc
    notifier = WebhookNotifier(
        AlertRepository(registry), attempts=webhook_attempts, timeout_s=webhook_timeout
    )
    evaluator = Evaluator(
        reading_store, registry, zone=tz, day=periods[0], evening=periods[1], notify=notifier
    )
    service = AlertService(evaluator, interval_s=interval, notifier=notifier)
    try:
        if once:
            outcome = service.run_once()
            notifier.close(wait=True)
            if outcome is None:
                raise typer.Exit(1)
            typer.echo(
                f"opened {len(outcome.opened)}, still open {outcome.held}, "
                f"resolved {len(outcome.resolved)}, failed checks {outcome.failed}"
            )
        else:
            on_signals(service.request_stop)
            service.run()
    finally:
        reading_store.close()
        registry.close()


@app.command()
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
        reading_store, registry = _open_stores(store, meta)
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


@app.command()
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


@sensors_app.command("list")
def sensors_list(store: StoreOpt = DEFAULT_STORE, meta: MetaOpt = None) -> None:
    """List registered sensors."""
    from noiselab.store.metadata import MetadataStore

    registry = MetadataStore(_meta_url(store, meta))
    try:
        for s in registry.sensors.all():
            where = f"{s.lat:.5f},{s.lon:.5f}" if s.lat is not None and s.lon is not None else "-"
            visibility = "public" if s.public else "private"
            typer.echo(f"{s.id}\t{s.source or '-'}\t{where}\t{visibility}\t{s.name}")
    finally:
        registry.close()


@sensors_app.command("add")
def sensors_add(
    sensor_id: Annotated[str, typer.Argument(help="Sensor id, [a-z0-9][a-z0-9-]{1,63}.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    lat: Annotated[float | None, typer.Option(help="Latitude, degrees north.")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude, degrees east.")] = None,
    source: Annotated[str | None, typer.Option(help="road, rail or background.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    public: Annotated[bool, typer.Option("--public/--private", help="On the map.")] = True,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Register (or update) one sensor."""
    from noiselab.store.metadata import MetadataStore, sensor_from_fields

    try:
        sensor = sensor_from_fields(
            {
                "id": sensor_id,
                "name": name or sensor_id,
                "lat": lat,
                "lon": lon,
                "source": source,
                "description": description,
                "public": public,
            }
        )
        registry = MetadataStore(_meta_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        registry.sensors.add([sensor], replace=True)
    finally:
        registry.close()
    typer.echo(f"registered {sensor.id}")


@sensors_app.command("import")
def sensors_import(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="JSON or CSV: id,name,lat,lon,source,...; or a simulator site file "
            '({"sites": [...]}, like vallensbaek.json).'
        ),
    ] = None,
    default_sites: Annotated[
        bool,
        typer.Option(
            "--default-sites", help="Import the simulator's 12 Vallensbæk sites (no PATH)."
        ),
    ] = False,
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Register (or update) the sensors listed in a JSON or CSV file."""
    from noiselab.errors import ConfigError
    from noiselab.sensors_sim.sites import (
        is_site_file,
        load_site_file,
        registry_sensors,
        sensors_from_spec,
    )
    from noiselab.store.metadata import MetadataStore, load_sensors_file

    try:
        if default_sites == (path is not None):
            raise ConfigError("give a PATH or --default-sites (one of them)")
        if path is None:
            sensors = registry_sensors(sensors_from_spec("default"))
            source = "the default Vallensbæk sites"
        else:
            site_file = is_site_file(path)
            sensors = (
                registry_sensors(load_site_file(path)) if site_file else load_sensors_file(path)
            )
            source = str(path)
        registry = MetadataStore(_meta_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        count = registry.sensors.add(sensors, replace=True)
    finally:
        registry.close()
    typer.echo(f"imported {count} sensors from {source}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="vendor, staff, admin or sensor.")],
    name: Annotated[str, typer.Option(help="Who holds the key, e.g. the vendor's name.")],
    sensors: Annotated[
        str,
        typer.Option(
            help="Vendor keys: the vendor's sensor ids; sensor keys: the sensors they may push "
            "readings for (comma-separated)."
        ),
    ] = "",
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from noiselab.api.auth import create_key
    from noiselab.errors import ConfigError
    from noiselab.model import ROLES, Role
    from noiselab.store.metadata import MetadataStore

    try:
        if role not in ROLES:
            raise ConfigError(f"--role {role!r}: must be one of admin, staff, vendor, sensor")
        ids = tuple(dict.fromkeys(part.strip() for part in sensors.split(",") if part.strip()))
        registry = MetadataStore(_meta_url(store, meta))
    except NoiselabError as exc:
        raise fail(exc) from exc
    try:
        key, text = create_key(registry, role=cast("Role", role), name=name, sensors=ids)
    except ValueError as exc:
        raise fail(ConfigError(str(exc))) from exc
    finally:
        registry.close()
    typer.echo(text)
    typer.echo(f"created {key.role} key {key.id} ({key.name}); it is shown only now", err=True)


@keys_app.command("list")
def keys_list(store: StoreOpt = DEFAULT_STORE, meta: MetaOpt = None) -> None:
    """List API keys (never their secrets): id, role, state, last use, sensors, name."""
    from noiselab.store.metadata import MetadataStore

    registry = MetadataStore(_meta_url(store, meta))
    try:
        for key in registry.keys.all():
            revoked, used = key.revoked_at, key.last_used
            state = "active" if revoked is None else f"revoked {revoked:%Y-%m-%dT%H:%MZ}"
            used_at = "-" if used is None else f"{used:%Y-%m-%dT%H:%MZ}"
            owned = ",".join(key.sensors) or "-"
            typer.echo(f"{key.id}\t{key.role}\t{state}\t{used_at}\t{owned}\t{key.name}")
    finally:
        registry.close()


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after nl_).")],
    store: StoreOpt = DEFAULT_STORE,
    meta: MetaOpt = None,
) -> None:
    """Revoke an API key; a running API stops accepting it within its auth cache window."""
    from noiselab.store.metadata import MetadataStore

    registry = MetadataStore(_meta_url(store, meta))
    try:
        found = registry.keys.revoke(key_id)
    finally:
        registry.close()
    if not found:
        typer.echo(f"noiselab: no API key {key_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"revoked {key_id}")


def main() -> None:
    """Entry point of the console script."""
    app()


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
