"""The baseline of the ingest benchmarks: how fast a plain counting paho subscriber drains a
backlog queued in its persistent session on the same broker, in the same run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

from noiselab.mqtt import connect_properties

__all__ = ["raw_drain"]


def raw_drain(port: int, prefix: str, count: int, publish: Callable[[], None]) -> float:
    """Messages/s of a counting subscriber to ``prefix/+/levels`` on 127.0.0.1:``port``
    draining the ``count`` messages ``publish`` queues while it is disconnected."""
    got = threading.Event()
    received = 0

    def on_message(_c: object, _u: object, _m: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received >= count:
            got.set()

    def session() -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{prefix}-raw", protocol=mqtt.MQTTv5
        )
        client.on_message = on_message
        client.connect(
            "127.0.0.1",
            port,
            clean_start=False,
            properties=connect_properties(session_expiry_s=3600, receive_maximum=10_000),
        )
        return client

    client = session()
    client.subscribe(f"{prefix}/+/levels", options=SubscribeOptions(qos=1))
    client.loop(1.0)
    client.disconnect()
    publish()
    client = session()
    started = time.perf_counter()
    client.loop_start()
    if not got.wait(600):
        raise RuntimeError(f"the raw subscriber got {received} of {count}")
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return count / elapsed
