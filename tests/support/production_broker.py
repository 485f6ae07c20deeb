"""The production Mosquitto configuration run for real on free ports: deploy/mosquitto's
mosquitto.conf (only its paths and ports rewritten for a temp directory), its ACL, the password
file the compose stack's own script (make-config.sh) makes with mosquitto_passwd, and the TLS
listener's certificate made by deploy/mosquitto/make-certs.sh for ``localhost`` and 127.0.0.1.

Users and passwords: ``noiselab-ingest``/``pw-i``, ``noiselab-sim``/``pw-s``,
``noiselab-fiware``/``pw-f`` and the sensors ``kbm-a``/``pw-a``, ``kbm-b``/``pw-b``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from noiselab.broker import free_port
from support.paths import ROOT

DEPLOY = ROOT / "deploy" / "mosquitto"
PASSWORDS = {
    "noiselab-ingest": "pw-i",
    "noiselab-sim": "pw-s",
    "noiselab-fiware": "pw-f",
    "kbm-a": "pw-a",
    "kbm-b": "pw-b",
}


@dataclass(frozen=True)
class Broker:
    """A running production broker: its plain port (the services' internal listener), its TLS
    port (the sensors' listener, 8883 in production) and the test CA's certificate."""

    plain_port: int
    tls_port: int
    ca: Path


@contextmanager
def production_broker(tmp_path: Path) -> Iterator[int]:
    """Start the production broker in ``tmp_path``; yields its plain port, stops it afterwards."""
    with production_tls_broker(tmp_path) as broker:
        yield broker.plain_port


@contextmanager
def production_tls_broker(tmp_path: Path) -> Iterator[Broker]:
    """Start the production broker with both listeners in ``tmp_path``; stops it afterwards."""
    port, tls_port = free_port(), free_port()
    while tls_port == port:
        tls_port = free_port()
    conf = (DEPLOY / "mosquitto.conf").read_text()
    for listener in ("listener 1883", "listener 8883"):
        assert f"\n{listener}\n" in conf, f"{listener} is gone from mosquitto.conf"
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    conf = conf.replace("listener 8883", f"listener {tls_port} 127.0.0.1")
    conf = conf.replace("/mosquitto/config/", f"{tmp_path}/").replace(
        "/mosquitto/data/", f"{tmp_path}/data/"
    )
    (tmp_path / "data").mkdir()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "mqtt-sensors.txt").write_text("# id password\nkbm-a pw-a\n\nkbm-b pw-b\n")
    certs = tmp_path / "ca"
    subprocess.run(
        ["sh", str(DEPLOY / "make-certs.sh"), str(certs), "localhost", "127.0.0.1"],
        check=True,
        capture_output=True,
    )
    (secrets / "mqtt-tls").mkdir()
    for name in ("server.crt", "server.key"):
        (secrets / "mqtt-tls" / name).write_bytes((certs / name).read_bytes())
    subprocess.run(
        ["sh", str(DEPLOY / "make-config.sh")],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "MOSQUITTO_CONFIG_DIR": str(tmp_path),
            "DEPLOY_DIR": str(DEPLOY),
            "SECRETS_DIR": str(secrets),
            "MQTT_INGEST_PASSWORD": PASSWORDS["noiselab-ingest"],
            "MQTT_SIM_PASSWORD": PASSWORDS["noiselab-sim"],
            "MQTT_FIWARE_PASSWORD": PASSWORDS["noiselab-fiware"],
        },
    )
    if os.geteuid() == 0:
        conf += "user root\n"  # as root Mosquitto would switch to a user who can't read tmp
    (tmp_path / "mosquitto.conf").write_text(conf)
    with (tmp_path / "mosquitto.log").open("wb") as log:
        proc = subprocess.Popen(
            ["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], stdout=log, stderr=log
        )
    try:
        _wait_listening(port)
        yield Broker(plain_port=port, tls_port=tls_port, ca=certs / "ca.crt")
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        try:
            probe.connect("127.0.0.1", port)
            probe.disconnect()
            return
        except OSError:
            time.sleep(0.05)
