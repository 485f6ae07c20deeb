"""The production broker's TLS listener (8883 in production), run for real.

The certificates are made by deploy/mosquitto/make-certs.sh with the real openssl, copied into
the broker's config by make-config.sh, and the broker runs deploy/mosquitto/mosquitto.conf with
only its ports and paths rewritten (support.production_broker). A client that trusts the CA
connects over TLS and publishes within its ACL; a plain MQTT client on the TLS port, a client
without the CA, a client expecting another host name and a TLS 1.1 client are all refused.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions
from support.paths import ROOT
from support.production_broker import Broker, production_tls_broker

pytestmark = pytest.mark.process

DEPLOY = ROOT / "deploy" / "mosquitto"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with production_tls_broker(tmp_path) as running:
        yield running


def _tls_context(ca: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _handshake(port: int, context: ssl.SSLContext, server_hostname: str) -> str:
    """The TLS version the broker agreed to; raises the handshake's error."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        return str(tls.version())


def _connect(port: int, user: str, password: str, ca: Path | None) -> tuple[mqtt.Client, bool]:
    """An MQTT v5 client (over TLS when ``ca`` is given); whether it got a successful CONNACK
    within 5 s."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    if ca is not None:
        client.tls_set_context(_tls_context(ca))
    accepted = threading.Event()

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if not reason.is_failure:  # type: ignore[attr-defined]
            accepted.set()

    client.on_connect = on_connect
    client.connect("localhost" if ca else "127.0.0.1", port)
    client.loop_start()
    return client, accepted.wait(5)


def test_a_sensor_trusting_the_ca_publishes_its_own_topic_over_tls(broker: Broker) -> None:
    received: list[tuple[str, bytes]] = []
    ingest, ok = _connect(broker.plain_port, "noiselab-ingest", "pw-i", None)
    assert ok
    ingest.on_message = lambda _c, _u, msg: received.append((msg.topic, msg.payload))
    ingest.subscribe("noiselab/+/levels", options=SubscribeOptions(qos=1))
    time.sleep(0.3)
    sensor, ok = _connect(broker.tls_port, "kbm-a", "pw-a", broker.ca)
    assert ok
    sensor.publish("noiselab/kbm-a/levels", b'{"ts": 1795600800, "laeq": 50}', qos=1)
    # The ACL holds on the TLS listener too: another sensor's topic is refused.
    sensor.publish("noiselab/kbm-b/levels", b'{"ts": 1795600800, "laeq": 99}', qos=1)
    sensor.publish("noiselab/kbm-a/status", b"{}", qos=1).wait_for_publish(10)
    time.sleep(0.5)
    assert received == [("noiselab/kbm-a/levels", b'{"ts": 1795600800, "laeq": 50}')]
    sensor.disconnect()
    ingest.disconnect()


def test_passwords_are_checked_on_the_tls_listener(broker: Broker) -> None:
    client, ok = _connect(broker.tls_port, "kbm-a", "wrong", broker.ca)
    assert not ok
    client.loop_stop()


def test_the_handshake_agrees_on_tls_1_2_or_later(broker: Broker) -> None:
    version = _handshake(broker.tls_port, _tls_context(broker.ca), "localhost")
    assert version in {"TLSv1.2", "TLSv1.3"}
    only_12 = _tls_context(broker.ca)
    only_12.maximum_version = ssl.TLSVersion.TLSv1_2
    assert _handshake(broker.tls_port, only_12, "localhost") == "TLSv1.2"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused_by_the_broker(broker: Broker) -> None:
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(cafile=str(broker.ca))
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
    old.minimum_version = ssl.TLSVersion.TLSv1_1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    # The broker's alert, not this client's own refusal to offer the version.
    with pytest.raises(ssl.SSLError, match=r"(?i)protocol.version"):
        _handshake(broker.tls_port, old, "localhost")


def test_plain_mqtt_on_the_tls_port_gets_no_connack(broker: Broker) -> None:
    client, ok = _connect(broker.tls_port, "kbm-a", "pw-a", None)
    assert not ok
    client.loop_stop()
    # Negative control: the same plain client on the internal listener is accepted.
    client, ok = _connect(broker.plain_port, "kbm-a", "pw-a", None)
    assert ok
    client.disconnect()
    client.loop_stop()


def test_a_client_without_the_ca_rejects_the_broker(broker: Broker) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(broker.tls_port, _tls_context(None), "localhost")


def test_a_client_expecting_another_name_rejects_the_broker(broker: Broker) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)hostname mismatch"):
        _handshake(broker.tls_port, _tls_context(broker.ca), "broker.example.org")


def test_the_config_step_refuses_to_run_without_a_certificate(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    result = subprocess.run(
        ["sh", str(DEPLOY / "make-config.sh")],
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "MOSQUITTO_CONFIG_DIR": str(tmp_path),
            "DEPLOY_DIR": str(DEPLOY),
            "SECRETS_DIR": str(secrets),
            "MQTT_INGEST_PASSWORD": "pw-i",
        },
    )
    assert result.returncode != 0
    assert "mqtt-tls/server.crt is missing" in result.stderr
    assert not (tmp_path / "mosquitto.conf").exists()  # nothing half-written


def test_make_certs_names_the_hosts_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "certs"
    made = subprocess.run(
        ["sh", str(DEPLOY / "make-certs.sh"), str(out), "mqtt.example.org", "192.0.2.7", "::1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    text = subprocess.run(
        ["openssl", "x509", "-in", str(out / "server.crt"), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:mqtt.example.org" in text
    assert "IP Address:192.0.2.7" in text
    assert "IP Address:0:0:0:0:0:0:0:1" in text
    assert "CA:FALSE" in text
    for key in ("ca.key", "server.key"):
        assert (out / key).stat().st_mode & 0o077 == 0, key
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(out / "ca.crt"), str(out / "server.crt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    before = (out / "server.crt").read_bytes()
    again = subprocess.run(
        ["sh", str(DEPLOY / "make-certs.sh"), str(out), "other.example.org"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode != 0
    assert "not overwriting" in again.stderr
    assert (out / "server.crt").read_bytes() == before


def _doctor_mqtt_line(broker: Broker, tmp_path: Path, extra_env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOISELAB_", "SSL_CERT"))}
    result = subprocess.run(
        [sys.executable, "-m", "noiselab", "doctor", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **clean,
            "PYTHONPATH": str(ROOT),
            "NOISELAB_MQTT": f"mqtts://noiselab-ingest:pw-i@localhost:{broker.tls_port}",
            "NOISELAB_STORE": f"sqlite:///{tmp_path}/missing.db",
            **extra_env,
        },
    )
    return next(line for line in result.stdout.splitlines() if "mqtt broker" in line)


def test_noiselab_clients_trust_a_private_ca_through_ssl_cert_file(
    broker: Broker, tmp_path: Path
) -> None:
    """What docs/deployment.md tells sensors running ``noiselab sensor`` with the test CA:
    ``mqtts://`` plus SSL_CERT_FILE naming the CA. The doctor's QoS 1 round trip proves it."""
    line = _doctor_mqtt_line(broker, tmp_path, {"SSL_CERT_FILE": str(broker.ca)})
    assert line.startswith("ok"), line
    # Negative control: without the CA the same URL fails verification.
    line = _doctor_mqtt_line(broker, tmp_path, {})
    assert line.startswith("FAIL"), line
