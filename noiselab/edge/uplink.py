"""Publishes the buffered readings over MQTT and deletes them once the broker has them.

The contract (``SPEC.md``, "MQTT contract"): readings go to ``{prefix}/{sensor_id}/levels`` at
QoS 1, one reading object or a JSON array of up to 10,000 (a backlog, oldest first); the
retained status ``{prefix}/{sensor_id}/status`` says ``online`` on every connect and the MQTT
will (retained, QoS 1) says ``offline`` when the connection dies without a DISCONNECT.

A row of the buffer is deleted only when the PUBACK of the message that carried it arrives
(paho's ``on_publish`` with that message's ``mid``). ``on_publish`` runs on paho's network
thread while paho holds its outgoing-message lock, so it only queues the ``mid``; the thread
that publishes (:meth:`Uplink.pump`) matches it and touches the buffer. At most
``max_inflight`` level messages are unacknowledged at once; paho keeps them across a lost
connection and sends them again (DUP) after it reconnects, and the ingest stores a reading
once whatever the number of copies (it is keyed by sensor and ``ts``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from noiselab.config import MqttUrl
from noiselab.edge.buffer import Pending, ReadingBuffer
from noiselab.logs import event
from noiselab.mqtt import new_client, stop_client

__all__ = ["MAX_BATCH", "MAX_PAYLOAD_BYTES", "Uplink", "UplinkSettings"]

log = logging.getLogger("noiselab.sensor")

MAX_BATCH = 10_000
"""Readings per message at most (SPEC, MQTT contract)."""
MAX_PAYLOAD_BYTES = 1_000_000
"""Bytes per message at most: below the ingest's default limit of 1 MiB, which a batch of
10,000 readings with spectra would pass."""


@dataclass(frozen=True, slots=True)
class UplinkSettings:
    """Where and how to publish. ``status`` is extra content of the ``online`` status."""

    mqtt: MqttUrl
    sensor_id: str
    topic_prefix: str = "noiselab"
    keepalive_s: int = 30
    max_inflight: int = 20
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        """``noiselab-sensor-{sensor_id}``."""
        return f"noiselab-sensor-{self.sensor_id}"

    @property
    def levels_topic(self) -> str:
        """``{prefix}/{sensor_id}/levels``."""
        return f"{self.topic_prefix}/{self.sensor_id}/levels"

    @property
    def status_topic(self) -> str:
        """``{prefix}/{sensor_id}/status``."""
        return f"{self.topic_prefix}/{self.sensor_id}/status"


@dataclass(frozen=True, slots=True)
class _InFlight:
    first: int
    last: int
    readings: int


class Uplink:
    """The MQTT side of the edge client; call :meth:`pump` from one thread only."""

    def __init__(self, settings: UplinkSettings, buffer: ReadingBuffer) -> None:
        self.settings = settings
        self.buffer = buffer
        self.published = 0
        self.acknowledged = 0
        self._acks: queue.SimpleQueue[tuple[int, bool]] = queue.SimpleQueue()
        self._connected = threading.Event()
        self._inflight: dict[int, _InFlight] = {}
        self.refused = 0
        self._sent_upto = 0
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = new_client(s.mqtt, s.client_id)
        # The status message rides along with the level messages.
        client.max_inflight_messages_set(s.max_inflight + 1)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.will_set(s.status_topic, self._status("offline"), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _status(self, state: str) -> bytes:
        extra = self.settings.status if state == "online" else {}
        return msgspec.json.encode({"state": state, "ts": round(time.time(), 3), **extra})

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho retries until the broker answers."""
        s = self.settings
        self._client.connect_async(s.mqtt.host, s.mqtt.port, keepalive=s.keepalive_s)
        self._client.loop_start()
        event(log, "sensor uplink started", mqtt=str(s.mqtt), topic=s.levels_topic)

    def connected(self) -> bool:
        """Whether the broker accepted the current connection."""
        return self._connected.is_set()

    def flush(self, stop: threading.Event | None = None, timeout_s: float | None = None) -> bool:
        """Publish until every buffered reading is acknowledged or refused (True), or until
        ``timeout_s`` passes or ``stop`` is set (False); what is left stays in the buffer."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            self.pump()
            if not self._inflight and self._unsent() is None:
                return True
            if stop is not None and stop.is_set():
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def close(self) -> None:
        """Say ``offline`` (retained) if connected, then disconnect cleanly (no will)."""
        if self._connected.is_set():
            info = self._client.publish(
                self.settings.status_topic, self._status("offline"), qos=1, retain=True
            )
            info.wait_for_publish(3)
        stop_client(self._client)
        event(
            log,
            "sensor uplink stopped",
            published=self.published,
            acknowledged=self.acknowledged,
            refused=self.refused,
            buffered=self.buffer.count(),
        )

    # -- publishing (the pumping thread) ---------------------------------------------------

    def pump(self) -> None:
        """Settle the acknowledgements received so far, then publish buffered readings while
        connected and fewer than ``max_inflight`` messages wait for their PUBACK."""
        self._settle()
        if not self._connected.is_set():
            return
        while len(self._inflight) < self.settings.max_inflight:
            batch = self._unsent()
            if batch is None:
                return
            info = self._client.publish(self.settings.levels_topic, batch.payload(), qos=1)
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:  # cannot happen with an unbounded queue
                return
            self._inflight[info.mid] = _InFlight(batch.first, batch.last, len(batch.bodies))
            self._sent_upto = batch.last
            self.published += 1

    def _unsent(self) -> Pending | None:
        return self.buffer.pending(
            self._sent_upto, max_readings=MAX_BATCH, max_bytes=MAX_PAYLOAD_BYTES
        )

    def _settle(self) -> None:
        while True:
            try:
                mid, ok = self._acks.get_nowait()
            except queue.Empty:
                return
            sent = self._inflight.pop(mid, None)
            if sent is None:  # the status message
                continue
            if ok:
                self.buffer.delete(sent.first, sent.last)
                self.acknowledged += sent.readings
            else:
                # The broker refused (e.g. not authorised): keep the rows for the next run
                # rather than resend them in a loop.
                self.refused += sent.readings
                event(
                    log,
                    "broker refused readings; kept in the buffer",
                    level=logging.ERROR,
                    readings=sent.readings,
                )

    # -- callbacks (paho's network thread) -------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _u: Any, _flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            event(log, "mqtt connect refused", level=logging.ERROR, reason=str(reason))
            return
        client.publish(self.settings.status_topic, self._status("online"), qos=1, retain=True)
        self._connected.set()
        event(log, "mqtt connected", client_id=self.settings.client_id)

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was:
            event(log, "mqtt disconnected; buffering", level=logging.WARNING, reason=str(reason))

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self._acks.put((mid, not reason.is_failure))
