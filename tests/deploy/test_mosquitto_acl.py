"""The production Mosquitto configuration, run for real: passwords and per-sensor ACLs.

deploy/mosquitto/mosquitto.conf is loaded with only its paths and port rewritten for a temp
directory, and the password file is made by the compose stack's own script
(deploy/mosquitto/make-config.sh) with the real mosquitto_passwd. A sensor may publish to its own
topic and not to another sensor's; the simulator's user may publish for any sensor but read
nothing; the FIWARE re-publisher writes its entities only; anonymous clients and wrong
passwords are refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions
from support.production_broker import production_broker as start_production_broker

pytestmark = pytest.mark.process


@pytest.fixture
def production_broker(tmp_path: Path) -> Iterator[int]:
    # The compose stack's own config step, run for real (support.production_broker): it copies
    # the config and hashes the passwords with mosquitto_passwd.
    with start_production_broker(tmp_path) as port:
        passwd = tmp_path / "passwd"
        assert passwd.stat().st_mode & 0o077 == 0  # not readable by others
        assert "pw-a" not in passwd.read_text()  # hashed
        yield port


def _client(port: int, user: str | None, password: str | None) -> tuple[mqtt.Client, object]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if user:
        client.username_pw_set(user, password)
    result: dict[str, object] = {}
    connected = threading.Event()

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        result["reason"] = reason
        connected.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(10)
    return client, result["reason"]


def test_sensor_may_publish_only_its_own_topic(production_broker: int) -> None:
    port = production_broker
    received: list[str] = []
    ingest, reason = _client(port, "noiselab-ingest", "pw-i")
    assert not reason.is_failure  # type: ignore[attr-defined]
    ingest.on_message = lambda _c, _u, msg: received.append(msg.topic)
    ingest.subscribe("$share/noiselab-ingest/noiselab/+/levels", options=SubscribeOptions(qos=1))
    time.sleep(0.3)

    sensor, reason = _client(port, "kbm-a", "pw-a")
    assert not reason.is_failure  # type: ignore[attr-defined]
    sensor.publish("noiselab/kbm-a/levels", b'{"ts": 1795600800, "laeq": 50}', qos=1)
    forged = sensor.publish("noiselab/kbm-b/levels", b'{"ts": 1795600800, "laeq": 99}', qos=1)
    forged.wait_for_publish(10)
    time.sleep(0.5)
    assert received == ["noiselab/kbm-a/levels"]
    sensor.disconnect()
    ingest.disconnect()


def test_a_station_publishes_its_own_weather_and_the_ingest_reads_it(
    production_broker: int,
) -> None:
    """A weather station logs in with its id like a sensor (here the sensor user ``kbm-a``)
    and may publish only its own weather topic; the ingest's shared subscription to the
    weather topics is granted at QoS 1 and receives it."""
    port = production_broker
    received: list[str] = []
    granted: list[object] = []
    subscribed = threading.Event()
    ingest, _ = _client(port, "noiselab-ingest", "pw-i")
    ingest.on_message = lambda _c, _u, msg: received.append(msg.topic)

    def on_subscribe(_c: object, _u: object, _m: object, reasons: list[object], _p: object):
        granted.extend(reasons)
        subscribed.set()

    ingest.on_subscribe = on_subscribe
    ingest.subscribe("$share/noiselab-ingest/noiselab/+/weather", options=SubscribeOptions(qos=1))
    assert subscribed.wait(10)
    assert [getattr(r, "value", None) for r in granted] == [1]
    station, _ = _client(port, "kbm-a", "pw-a")
    station.publish("noiselab/kbm-a/weather", b'{"ts": 1795600800, "wind_speed": 3}', qos=1)
    forged = station.publish("noiselab/kbm-b/weather", b'{"ts": 1795600800}', qos=1)
    forged.wait_for_publish(10)
    time.sleep(0.5)
    assert received == ["noiselab/kbm-a/weather"]
    station.disconnect()
    ingest.disconnect()


def test_anonymous_and_wrong_password_are_refused(production_broker: int) -> None:
    anonymous, reason = _client(production_broker, None, None)
    assert reason.is_failure  # type: ignore[attr-defined]
    anonymous.loop_stop()
    wrong, reason = _client(production_broker, "kbm-a", "nope")
    assert reason.is_failure  # type: ignore[attr-defined]
    wrong.loop_stop()


def test_simulator_may_publish_for_any_sensor_but_not_read(production_broker: int) -> None:
    port = production_broker
    received: list[str] = []
    ingest, _ = _client(port, "noiselab-ingest", "pw-i")
    ingest.on_message = lambda _c, _u, msg: received.append(msg.topic)
    ingest.subscribe("noiselab/+/levels", options=SubscribeOptions(qos=1))
    sim, reason = _client(port, "noiselab-sim", "pw-s")
    assert not reason.is_failure  # type: ignore[attr-defined]
    sniffed: list[str] = []
    sim.on_message = lambda _c, _u, msg: sniffed.append(msg.topic)
    sim.subscribe("noiselab/#", options=SubscribeOptions(qos=1))
    time.sleep(0.3)
    for sensor in ("kbm-a", "hbm-z"):
        sim.publish(f"noiselab/{sensor}/levels", b'{"ts": 1795600800, "laeq": 50}', qos=1)
    sim.publish("other/topic", b"x", qos=1).wait_for_publish(10)
    time.sleep(0.5)
    assert sorted(received) == ["noiselab/hbm-z/levels", "noiselab/kbm-a/levels"]
    assert sniffed == []
    sim.disconnect()
    ingest.disconnect()


def test_fiware_publisher_may_write_its_entities_only(production_broker: int) -> None:
    port = production_broker
    received: list[str] = []
    ingest, _ = _client(port, "noiselab-ingest", "pw-i")
    ingest.on_message = lambda _c, _u, msg: received.append(msg.topic)
    ingest.subscribe("noiselab/+/levels", options=SubscribeOptions(qos=1))
    fiware, reason = _client(port, "noiselab-fiware", "pw-f")
    assert not reason.is_failure  # type: ignore[attr-defined]
    sniffed: list[str] = []
    fiware.on_message = lambda _c, _u, msg: sniffed.append(msg.topic)
    fiware.subscribe("fiware/noiselab/#", options=SubscribeOptions(qos=1))
    time.sleep(0.3)
    fiware.publish("fiware/noiselab/kbm-a/NoiseLevelObserved", b"{}", qos=1).wait_for_publish(10)
    fiware.publish("noiselab/kbm-a/levels", b'{"ts": 1795600800, "laeq": 50}', qos=1)
    time.sleep(0.5)
    assert received == []  # it cannot forge readings
    assert sniffed == []  # and reads nothing, not even its own entities
    fiware.disconnect()
    ingest.disconnect()


def test_only_the_ingest_may_use_the_doctors_probe_topic(production_broker: int) -> None:
    """The ingest's user publishes to noiselab/_doctor/... and reads it back; a sensor and the
    simulator can neither read nor write it, and the ingest's probe rights reach no further."""
    port = production_broker
    topic = "noiselab/_doctor/abc123"
    ingest, _ = _client(port, "noiselab-ingest", "pw-i")
    received: list[str] = []
    ingest.on_message = lambda _c, _u, msg: received.append(msg.topic)
    ingest.subscribe(topic, options=SubscribeOptions(qos=1))
    ingest.subscribe("noiselab/_other/abc123", options=SubscribeOptions(qos=1))
    others = []
    for user, password in (("kbm-a", "pw-a"), ("noiselab-sim", "pw-s")):
        other, _ = _client(port, user, password)
        sniffed: list[str] = []
        other.on_message = lambda _c, _u, msg, sniffed=sniffed: sniffed.append(msg.topic)
        other.subscribe("noiselab/_doctor/#", options=SubscribeOptions(qos=1))
        others.append((other, sniffed))
    time.sleep(0.3)
    for other, _ in others:
        other.publish(topic, b"forged", qos=1).wait_for_publish(10)
    ingest.publish(topic, b"probe", qos=1).wait_for_publish(10)
    ingest.publish("noiselab/_other/abc123", b"probe", qos=1).wait_for_publish(10)
    time.sleep(0.5)
    assert received == [topic]  # its own probe only: the others' and the wider topic refused
    for other, sniffed in others:
        assert sniffed == []
        other.disconnect()
    ingest.disconnect()
