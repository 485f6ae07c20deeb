"""Publishes simulated readings over MQTT, as real Living Lab sensors would.

Backfill first (a sensor uploading what it buffered: JSON arrays of ``batch`` readings),
then live readings every ``1/rate_hz`` seconds, one message per sensor, with interval starts on
the ``1/rate_hz`` grid so backfill and live data meet without a gap or an overlap. Each sensor's
status topic carries a retained ``online`` and, as the MQTT will, ``offline``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
import numpy as np
import paho.mqtt.client as mqtt

from noiselab.config import MqttUrl
from noiselab.logs import event
from noiselab.mqtt import new_client
from noiselab.sensors_sim.model import DiurnalModel, LevelModel
from noiselab.sensors_sim.sites import DEFAULT_SITES, SimSensor

__all__ = ["Simulator", "SimulatorSettings", "simulate_readings"]

log = logging.getLogger("noiselab.simulate")


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    """What to simulate. Times in seconds; ``rate_hz`` readings per second per sensor."""

    mqtt: MqttUrl
    sensors: Sequence[SimSensor] = DEFAULT_SITES
    rate_hz: float = 1.0
    backfill_s: float = 0.0
    live: bool = True
    seed: int = 0
    topic_prefix: str = "noiselab"
    batch: int = 600
    client_id: str = "noiselab-simulator"
    model: LevelModel = field(default_factory=DiurnalModel)


def simulate_readings(
    sensor: SimSensor,
    start: float,
    count: int,
    settings: SimulatorSettings,
    *,
    rng: np.random.Generator,
    first_seq: int,
) -> list[dict[str, float | int]]:
    """``count`` consecutive readings of one sensor from ``start`` (Unix s), as the MQTT
    contract's JSON objects."""
    step = 1.0 / settings.rate_hz
    ts = start + step * np.arange(count, dtype=np.float64)
    lv = settings.model.levels(sensor, ts, step, rng)
    return [
        {
            "ts": round(float(t), 3),
            "laeq": float(a),
            "lafmax": float(mx),
            "lafmin": float(mn),
            "duration": step,
            "seq": first_seq + i,
        }
        for i, (t, a, mx, mn) in enumerate(zip(ts, lv.laeq, lv.lafmax, lv.lafmin, strict=True))
    ]


class Simulator:
    """Connects, backfills, then publishes live until ``request_stop``."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._rng = np.random.default_rng(settings.seed)
        self._seq = dict.fromkeys((s.id for s in settings.sensors), 0)
        self.published = 0
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        client = new_client(self.settings.mqtt, self.settings.client_id)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        # One will per connection, so the simulator's will marks its first sensor offline;
        # the others are marked offline explicitly on a clean stop.
        first = self.settings.sensors[0].id
        client.will_set(self._status_topic(first), b'{"state":"offline"}', qos=1, retain=True)
        return client

    def _status_topic(self, sensor_id: str) -> str:
        return f"{self.settings.topic_prefix}/{sensor_id}/status"

    def _levels_topic(self, sensor_id: str) -> str:
        return f"{self.settings.topic_prefix}/{sensor_id}/levels"

    def request_stop(self) -> None:
        """Stop publishing after the current message."""
        self._stop.set()

    def run(self) -> None:
        """Backfill, then publish live (if enabled) until stopped."""
        s = self.settings
        self._client.connect(s.mqtt.host, s.mqtt.port, keepalive=30)
        self._client.loop_start()
        try:
            self._set_status("online")
            step = 1.0 / s.rate_hz
            live_start = math.floor(time.time() / step) * step
            if s.backfill_s > 0:
                self._backfill(live_start - s.backfill_s, live_start)
            if s.live:
                self._live(live_start)
        finally:
            self._set_status("offline")
            self._client.disconnect()
            self._client.loop_stop()
            event(log, "simulator stopped", published=self.published)

    def _set_status(self, state: str) -> None:
        for sensor in self.settings.sensors:
            body = msgspec.json.encode({"state": state, "ts": time.time()})
            self._client.publish(self._status_topic(sensor.id), body, qos=1, retain=True)

    def _publish(self, sensor_id: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        info = self._client.publish(self._levels_topic(sensor_id), payload, qos=1)
        self.published += 1
        return info

    def _readings(
        self, sensor: SimSensor, start: float, count: int
    ) -> list[dict[str, float | int]]:
        rows = simulate_readings(
            sensor, start, count, self.settings, rng=self._rng, first_seq=self._seq[sensor.id]
        )
        self._seq[sensor.id] += count
        return rows

    def _backfill(self, start: float, end: float) -> None:
        """Publish ``[start, end)`` in chunks of ``batch`` intervals, sensors interleaved."""
        s = self.settings
        step = 1.0 / s.rate_hz
        total = round((end - start) / step)
        event(log, "backfill started", sensors=len(s.sensors), intervals=total)
        pending: list[mqtt.MQTTMessageInfo] = []
        for offset in range(0, total, s.batch):
            count = min(s.batch, total - offset)
            for sensor in s.sensors:
                if self._stop.is_set():
                    return
                rows = self._readings(sensor, start + offset * step, count)
                pending.append(self._publish(sensor.id, msgspec.json.encode(rows)))
            if len(pending) > 2000:
                for info in pending:
                    info.wait_for_publish(30)
                pending.clear()
        for info in pending:
            info.wait_for_publish(30)
        event(log, "backfill done", readings=total * len(s.sensors))

    def _live(self, start: float) -> None:
        s = self.settings
        step = 1.0 / s.rate_hz
        t = start
        while not self._stop.is_set():
            # An interval is published once it has ended.
            wait = t + step - time.time()
            if wait > 0 and self._stop.wait(wait):
                return
            for sensor in s.sensors:
                [row] = self._readings(sensor, t, 1)
                self._publish(sensor.id, msgspec.json.encode(row))
            t += step
