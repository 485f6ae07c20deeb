"""The doctor's settings, validated up front without the network, and the steps they call for.

The settings are those of the services: ``--mqtt``, ``--topic-prefix``, ``--store`` (with
``NOISELAB_INFLUX_TOKEN`` for InfluxDB), ``--meta`` and, when Grafana is to be checked,
``--grafana-url`` with ``NOISELAB_GRAFANA_TOKEN``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from noiselab.config import MqttUrl, StoreUrl, default_meta_url, parse_mqtt_url, parse_store_url
from noiselab.doctor.broker import broker_steps
from noiselab.doctor.check import CheckSkipped, Step
from noiselab.errors import ConfigError

__all__ = ["INFLUX_TOKEN_ENV", "DoctorSettings", "doctor_settings", "planned_steps"]

INFLUX_TOKEN_ENV = "NOISELAB_INFLUX_TOKEN"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True, slots=True)
class DoctorSettings:
    """What to check. ``timeout_s`` bounds each network call (and the broker's round trip)."""

    mqtt: MqttUrl
    topic_prefix: str
    store: StoreUrl
    meta_url: str
    timeout_s: float
    influx_token: str | None = None
    grafana_url: str | None = None
    grafana_token: str | None = None


def doctor_settings(
    *,
    mqtt: str,
    topic_prefix: str,
    store: str,
    meta: str | None,
    timeout_s: float,
    grafana_url: str | None,
    grafana_token: str | None,
    environ: Mapping[str, str],
) -> DoctorSettings:
    """Validated settings; ``ConfigError`` naming the bad value."""
    if not topic_prefix or any(c in topic_prefix for c in "+#") or topic_prefix.endswith("/"):
        raise ConfigError(f"--topic-prefix {topic_prefix!r}: expected a plain topic level")
    if not timeout_s > 0:
        raise ConfigError(f"--timeout {timeout_s!r}: must be a positive number of seconds")
    from noiselab.store.metadata.engine import parse_url

    store_url = parse_store_url(store)
    token = environ.get(INFLUX_TOKEN_ENV) or None
    if store_url.kind == "influxdb" and token is None:
        raise ConfigError(f"an InfluxDB store needs its API token in {INFLUX_TOKEN_ENV}")
    meta_url = meta or default_meta_url(store_url)
    parse_url(meta_url)
    if grafana_url:
        from noiselab.doctor.grafana import check_grafana_url

        check_grafana_url(grafana_url)
    return DoctorSettings(
        mqtt=parse_mqtt_url(mqtt),
        topic_prefix=topic_prefix,
        store=store_url,
        meta_url=meta_url,
        timeout_s=timeout_s,
        influx_token=token,
        grafana_url=grafana_url or None,
        grafana_token=grafana_token or None,
    )


@contextmanager
def planned_steps(settings: DoctorSettings) -> Iterator[list[Step]]:
    """Every step, in report order: broker, reading store, metadata database, Grafana. The
    connections the steps share are closed when the block ends."""
    from noiselab.doctor.metadata import metadata_steps

    with ExitStack() as resources:
        steps = broker_steps(settings.mqtt, settings.topic_prefix, settings.timeout_s)
        steps += _store_steps(settings)
        steps += metadata_steps(settings.meta_url, settings.timeout_s)
        if settings.grafana_url is None:
            steps.append(Step("grafana", _not_configured))
        else:
            from noiselab.doctor.grafana import grafana_service, grafana_steps

            service = grafana_service(
                settings.grafana_url, settings.grafana_token, settings.timeout_s
            )
            resources.callback(service.close)
            steps += grafana_steps(service)
        yield steps


def _store_steps(settings: DoctorSettings) -> list[Step]:
    store = settings.store
    if store.kind == "sqlite" and store.path is not None:
        from noiselab.doctor.sqlite_store import sqlite_steps

        return sqlite_steps(store.path, settings.timeout_s)
    from noiselab.doctor.influx import InfluxTarget, influx_steps

    assert store.org is not None
    assert store.bucket is not None
    assert settings.influx_token is not None
    target = InfluxTarget(
        url=f"http://{store.host}:{store.port}",
        org=store.org,
        bucket=store.bucket,
        token=settings.influx_token,
    )
    return influx_steps(target, settings.timeout_s)


def _not_configured() -> str:
    raise CheckSkipped("no --grafana-url (NOISELAB_GRAFANA_URL) given")
