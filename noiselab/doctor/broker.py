"""The broker check: connect with the configured credentials (and TLS), subscribe to a probe
topic of its own, publish a probe to it at QoS 1 and receive it back, all within a time limit.

The probe topic is ``{prefix}/_doctor/{random}``. ``_doctor`` can never be a sensor id (ids start
with a letter or digit), so no sensor's ACL pattern matches it, and the ingest, which subscribes
to ``{prefix}/+/levels`` and ``{prefix}/+/status``, never receives it. The production ACL
(``deploy/mosquitto/acl``) lets the ingest's user read and write ``noiselab/_doctor/#`` and
nothing more. The probe is not retained and the session ends with the connection, so nothing
stays on the broker.
"""

from __future__ import annotations

import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from noiselab.config import MqttUrl
from noiselab.doctor.check import CheckFailed, Step
from noiselab.mqtt import new_client, stop_client

__all__ = ["PROBE_SEGMENT", "broker_steps", "probe_topic", "round_trip"]

PROBE_SEGMENT = "_doctor"
"""The topic level under the prefix that holds the doctor's probes."""

REACH_FIX = (
    "is the broker running and reachable there? check the host and port in --mqtt"
    " (NOISELAB_MQTT); in the compose stack: docker compose ps mosquitto"
)
CREDENTIALS_FIX = (
    "check the user and password in --mqtt (NOISELAB_MQTT); in the compose stack the user is"
    " noiselab-ingest with MQTT_INGEST_PASSWORD from .env, and after changing it: docker compose"
    " up --force-recreate mosquitto-config && docker compose restart mosquitto"
)
ACL_FIX = (
    "check the ACL in deploy/mosquitto/acl: the user of --mqtt needs 'topic readwrite"
    " noiselab/_doctor/#' (the ingest's user noiselab-ingest has it); then docker compose up"
    " --force-recreate mosquitto-config && docker compose restart mosquitto"
)
TLS_FIX = (
    "check the scheme of --mqtt (mqtts:// for TLS, mqtt:// without) and that the broker's"
    " certificate is trusted by this host"
)


def probe_topic(prefix: str, token: str) -> str:
    """The topic of one probe."""
    return f"{prefix}/{PROBE_SEGMENT}/{token}"


def broker_steps(url: MqttUrl, prefix: str, timeout_s: float) -> list[Step]:
    """The broker's check, named ``mqtt broker``."""
    return [Step("mqtt broker", lambda: round_trip(url, prefix, timeout_s))]


@dataclass
class _Events:
    """What the network thread reported, each with the event that signals it."""

    connack: Any = None
    suback: list[Any] = field(default_factory=list)
    puback: Any = None
    disconnect: Any = None
    connected: threading.Event = field(default_factory=threading.Event)
    subscribed: threading.Event = field(default_factory=threading.Event)
    published: threading.Event = field(default_factory=threading.Event)
    received: threading.Event = field(default_factory=threading.Event)
    gone: threading.Event = field(default_factory=threading.Event)
    limit_s: float = 0.0


def round_trip(url: MqttUrl, prefix: str, timeout_s: float) -> str:
    """Publish a probe at QoS 1 and receive it back; the detail names the topic and the time
    the round trip took (ms). Raises ``CheckFailed`` naming the step that failed."""
    token = secrets.token_hex(6)
    topic = probe_topic(prefix, token)
    payload = f"noiselab doctor {token}".encode()
    events = _Events(limit_s=timeout_s)
    client = new_client(url, f"noiselab-doctor-{token}")
    client.connect_timeout = timeout_s
    _wire(client, events, topic, payload)
    where = str(url)
    try:
        _connect(client, url, where, timeout_s)
    except BaseException:
        client.loop_stop()
        raise
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout_s
        _await(events, events.connected, deadline, f"no CONNACK from {where}", REACH_FIX)
        if events.connack.is_failure:
            raise CheckFailed(f"{where} refused the connection: {events.connack}", CREDENTIALS_FIX)
        started = time.monotonic()
        client.subscribe(topic, options=SubscribeOptions(qos=1))
        _await(events, events.subscribed, deadline, f"no SUBACK for {topic}", REACH_FIX)
        if not events.suback or events.suback[0].is_failure:
            reason = events.suback[0] if events.suback else "no reason code"
            raise CheckFailed(f"the broker refused the subscription to {topic}: {reason}", ACL_FIX)
        client.publish(topic, payload, qos=1)
        _await(events, events.published, deadline, f"no PUBACK for the probe on {topic}", ACL_FIX)
        if events.puback is not None and events.puback.is_failure:
            raise CheckFailed(f"the broker refused the probe on {topic}: {events.puback}", ACL_FIX)
        _await(events, events.received, deadline, f"the probe on {topic} never came back", ACL_FIX)
        elapsed_ms = (time.monotonic() - started) * 1000.0
    finally:
        stop_client(client)
    return f"{url}: QoS 1 probe on {topic} came back in {elapsed_ms:.0f} ms"


def _wire(client: mqtt.Client, events: _Events, topic: str, payload: bytes) -> None:
    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        events.connack = reason
        events.connected.set()

    def on_subscribe(_c: mqtt.Client, _u: object, _m: int, reasons: Any, _p: object) -> None:
        events.suback = list(reasons)
        events.subscribed.set()

    def on_publish(_c: mqtt.Client, _u: object, _m: int, reason: Any, _p: object) -> None:
        events.puback = reason
        events.published.set()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic == topic and message.payload == payload:
            events.received.set()

    def on_disconnect(_c: mqtt.Client, _u: object, _f: object, reason: Any, _p: object) -> None:
        events.disconnect = reason
        events.gone.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_publish = on_publish
    client.on_message = on_message
    client.on_disconnect = on_disconnect


def _connect(client: mqtt.Client, url: MqttUrl, where: str, timeout_s: float) -> None:
    """Open the connection (TCP, TLS, CONNECT sent); the CONNACK is awaited afterwards."""
    try:
        client.connect(url.host, url.port, keepalive=max(10, round(timeout_s * 2)))
    except TimeoutError as exc:
        raise CheckFailed(
            f"{where} did not accept a connection within {timeout_s:g} s", REACH_FIX
        ) from exc
    except OSError as exc:
        fix = TLS_FIX if isinstance(exc, ssl.SSLError) else REACH_FIX
        raise CheckFailed(f"cannot connect to {where}: {exc}", fix) from exc


def _await(events: _Events, event: threading.Event, deadline: float, what: str, fix: str) -> None:
    """Wait for ``event`` until ``deadline`` (monotonic s); fail with ``what`` when it does not
    come or when the broker closes the connection first."""
    while not event.is_set():
        left = deadline - time.monotonic()
        if events.gone.is_set() and not event.is_set():
            raise CheckFailed(
                f"{what}: the broker closed the connection ({events.disconnect})", fix
            )
        if left <= 0:
            raise CheckFailed(f"{what} within {events.limit_s:g} s", fix)
        event.wait(min(left, 0.05))
