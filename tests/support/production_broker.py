"""The production Mosquitto configuration run for real on a free port: deploy/mosquitto's
mosquitto.conf (only its paths and port rewritten for a temp directory), its ACL, and the
password file the compose stack's own script (make-config.sh) makes with mosquitto_passwd.

Users and passwords: ``noiselab-ingest``/``pw-i``, ``noiselab-sim``/``pw-s``,
``noiselab-fiware``/``pw-f`` and the sensors ``kbm-a``/``pw-a``, ``kbm-b``/``pw-b``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def production_broker(tmp_path: Path) -> Iterator[int]:
    """Start the production broker in ``tmp_path``; yields its port, stops it afterwards."""
    port = free_port()
    conf = (DEPLOY / "mosquitto.conf").read_text()
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    conf = conf.replace("/mosquitto/config/", f"{tmp_path}/").replace(
        "/mosquitto/data/", f"{tmp_path}/data/"
    )
    (tmp_path / "data").mkdir()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "mqtt-sensors.txt").write_text("# id password\nkbm-a pw-a\n\nkbm-b pw-b\n")
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
        yield port
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
