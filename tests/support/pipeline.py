"""The end-to-end harness: a data directory for ``noiselab ingest`` processes fed through a
real Mosquitto, and a publisher that waits for the broker to take every message."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from noiselab.broker import MosquittoBroker
from noiselab.model import Sensor
from noiselab.store.sqlite import SqliteStore
from support.lab import ApiLab


class PipelineLab(ApiLab):
    """One test's data directory: store and metadata URLs, registered sensors, the arguments of
    an ingest that reads this test's topics from ``broker``, and read-backs. Its app keeps the
    real clock."""

    def __init__(self, tmp_path: Path, broker: MosquittoBroker, prefix: str) -> None:
        super().__init__(tmp_path)
        self.db = self.store_path
        self.broker = broker
        self.prefix = prefix

    def register(self, *sensor_ids: str) -> None:
        """Register road sensors of these ids, created now."""
        now = datetime.now(UTC)
        with self.meta() as meta:
            meta.sensors.add(
                [
                    Sensor(
                        id=s,
                        name=s,
                        lat=55.6242,
                        lon=12.388,
                        source="road",
                        description="",
                        public=True,
                        created=now,
                    )
                    for s in sensor_ids
                ]
            )

    def ingest_args(self, *extra: str) -> list[str]:
        """``noiselab ingest`` arguments for this lab's broker, files and topic prefix."""
        return [
            "--mqtt",
            self.broker.url,
            "--store",
            self.store_url,
            "--meta",
            self.meta_url,
            "--topic-prefix",
            self.prefix,
            "--client-id",
            f"{self.prefix}-ingest",
            *extra,
        ]

    def topic(self, sensor_id: str) -> str:
        """The levels topic of ``sensor_id`` under this lab's prefix."""
        return f"{self.prefix}/{sensor_id}/levels"

    def count(self) -> int:
        """How many readings the store holds."""
        with SqliteStore(self.db) as store:
            return store.count_readings()

    def wait_count(self, expected: int, timeout_s: float = 60) -> int:
        """Wait until the store holds at least ``expected`` readings; returns the count."""
        deadline = time.monotonic() + timeout_s
        seen = -1
        while time.monotonic() < deadline:
            seen = self.count() if self.db.exists() else 0
            if seen >= expected:
                return seen
            time.sleep(0.1)
        raise AssertionError(f"stored {seen} readings, expected {expected}")

    def staff(self) -> dict[str, str]:
        """Headers with a new staff key: buckets finer than 15m need a key."""
        return self.key("staff", "tests").headers


def publish_all(broker: MosquittoBroker, messages: Iterable[tuple[str, bytes]]) -> int:
    """Publish at QoS 1 and wait for every PUBACK; returns the number published."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(60)
        assert info.is_published()
    client.disconnect()
    client.loop_stop()
    return len(infos)


def messages_logged(log: Path) -> int:
    """The acknowledged-messages counter of the worker's last 'ingest stopped' log line."""
    for line in reversed(log.read_text().splitlines()):
        if "ingest stopped" in line:
            field = next(f for f in line.split() if f.startswith("acked="))
            return int(float(field.split("=", 1)[1]))
    raise AssertionError(f"no 'ingest stopped' line in {log}")
