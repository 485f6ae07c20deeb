"""The loop behind ``noiselab fiware``: each completed interval of every sensor, re-published
over MQTT as a FIWARE ``NoiseLevelObserved`` entity for the municipality's smart-city tools.

Intervals are read back from the store (``levels()``, energetic), so what is published is what
was durably stored, whichever path it came in by. Each interval is published ``settle_s``
seconds after it ends, to let late readings arrive; readings later than that are in the store
and the API but not re-published. An interval whose coverage is below ``min_coverage`` is not
published (an LAeq of a few minutes would pass for a quarter of an hour). Entities go to
``{topic_prefix}/{sensor_id}/NoiseLevelObserved`` at QoS 1, retained, so a tool that connects
later gets the latest one at once. Entity ids are fixed per sensor and interval, so an interval
published twice (after a broker outage, the pass is repeated) is the same entity twice.

On start the latest completed interval is published; after an outage of this process at most
``MAX_CATCH_UP`` missed intervals are published, oldest first.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import paho.mqtt.client as mqtt

from noiselab.analysis.buckets import DEFAULT_ZONE, Every
from noiselab.config import MqttUrl
from noiselab.errors import NoiselabError
from noiselab.export.fiware import noise_level_observed
from noiselab.logs import event
from noiselab.model import Sensor
from noiselab.mqtt import new_client, stop_client
from noiselab.store.base import ReadingStore
from noiselab.store.metadata import MetadataStore

__all__ = ["MAX_CATCH_UP", "PUBLISHABLE", "FiwarePublisher", "FiwareSettings"]

log = logging.getLogger("noiselab.fiware")

PUBLISHABLE = (Every.M1, Every.M5, Every.M15, Every.H1)
"""Interval widths that can be published (fixed widths up to an hour)."""
MAX_CATCH_UP = 96
"""Most missed intervals published after this process was away."""


def _default_client_id() -> str:
    return f"noiselab-fiware-{socket.gethostname()}"[:64]


@dataclass(frozen=True, slots=True)
class FiwareSettings:
    """What to publish and where. Times in seconds."""

    mqtt: MqttUrl
    every: Every = Every.M15
    topic_prefix: str = "fiware/noiselab"
    min_coverage: float = 0.75
    settle_s: float = 60.0
    include_private: bool = False
    client_id: str = field(default_factory=_default_client_id)
    publish_timeout_s: float = 10.0
    zone: ZoneInfo = DEFAULT_ZONE

    def __post_init__(self) -> None:
        if self.every not in PUBLISHABLE:
            choices = ", ".join(e.value for e in PUBLISHABLE)
            raise ValueError(f"every {self.every.value!r}: must be one of {choices}")
        if not 0.0 <= self.min_coverage <= 1.0:
            raise ValueError(f"min coverage {self.min_coverage} must be within 0..1")
        if self.settle_s < 0:
            raise ValueError(f"settle time {self.settle_s} s must not be negative")


class FiwarePublisher:
    """Publishes completed intervals; :meth:`run` loops, :meth:`publish_due` is one pass."""

    def __init__(
        self,
        settings: FiwareSettings,
        store: ReadingStore,
        meta: MetadataStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._store, self._meta, self._clock = store, meta, clock
        self._width = float(settings.every.seconds or 0)
        self._done_until: float | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._client = new_client(settings.mqtt, settings.client_id)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect (paho reconnects by itself afterwards); ``NoiselabError`` if the broker
        does not answer within ``timeout_s``."""
        s = self.settings.mqtt
        self._client.connect_async(s.host, s.port, keepalive=30)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.close()
            raise NoiselabError(f"no MQTT connection to {s} within {timeout_s:g} s")

    def close(self) -> None:
        """Disconnect, stop paho's thread and close its sockets."""
        stop_client(self._client)

    def request_stop(self) -> None:
        """End :meth:`run` after the current pass (signal-handler safe)."""
        self._stop.set()

    def run(self) -> None:
        """Publish every interval when it is due, until :meth:`request_stop`."""
        while not self._stop.is_set():
            self.publish_due()
            now = self._clock()
            due = (math.floor((now - self.settings.settle_s) / self._width) + 1) * self._width
            self._stop.wait(max(0.5, due + self.settings.settle_s - now))

    # -- one pass --------------------------------------------------------------------------

    def publish_due(self) -> int:
        """Publish the intervals completed (and settled) since the last pass; returns how many
        entities were published. A pass that fails is logged and repeated next time."""
        now = self._clock()
        last_end = math.floor((now - self.settings.settle_s) / self._width) * self._width
        first_end = last_end if self._done_until is None else self._done_until + self._width
        first_end = max(first_end, last_end - (MAX_CATCH_UP - 1) * self._width)
        published = 0
        end = first_end
        try:
            sensors = self._sensors()
            while end <= last_end:
                published += self._publish_interval(sensors, end - self._width)
                self._done_until = end
                end += self._width
        except (NoiselabError, RuntimeError, ValueError) as exc:
            event(
                log, "fiware pass failed; retrying next time", level=logging.WARNING, error=str(exc)
            )
        return published

    def _sensors(self) -> list[Sensor]:
        sensors = self._meta.sensors.all()
        return sensors if self.settings.include_private else [s for s in sensors if s.public]

    def _publish_interval(self, sensors: list[Sensor], start: float) -> int:
        first = datetime.fromtimestamp(start, UTC)
        last = first + timedelta(seconds=self._width)
        count = 0
        for sensor in sensors:
            points = self._store.levels(
                sensor.id, first, last, self.settings.every, self.settings.zone
            )
            point = next((p for p in points if p.t == first), None)
            if point is None or point.coverage < self.settings.min_coverage:
                continue
            entity = noise_level_observed(sensor, point, last - first)
            topic = f"{self.settings.topic_prefix}/{sensor.id}/NoiseLevelObserved"
            info = self._client.publish(topic, msgspec.json.encode(entity), qos=1, retain=True)
            info.wait_for_publish(self.settings.publish_timeout_s)
            if not info.is_published():
                raise NoiselabError(f"the broker did not acknowledge {topic} in time")
            count += 1
        if count:
            event(log, "fiware entities published", interval=first.isoformat(), entities=count)
        return count

    # -- MQTT callbacks --------------------------------------------------------------------

    def _on_connect(
        self, _c: mqtt.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if not getattr(reason, "is_failure", False):
            self._connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()
