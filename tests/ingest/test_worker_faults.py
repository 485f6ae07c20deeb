"""The ingest worker under faults: a flood from the broker, store outages, readings the store
refuses, unexpected errors. Real Mosquitto, real SQLite; failures are injected by wrapping the
real store, so everything that is not failing still goes through the real code."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from noiselab.broker import MosquittoBroker
from noiselab.config import parse_mqtt_url
from noiselab.errors import ReadingRejected, StoreError, StoreUnavailable
from noiselab.ingest.worker import IngestSettings, IngestWorker
from noiselab.model import Reading, Rejection, Sensor
from noiselab.store.base import WriteResult
from noiselab.store.metadata import Database, MetadataStore, QuarantineRepository
from noiselab.store.sqlite import SqliteStore

pytestmark = pytest.mark.process

T0 = datetime(2026, 11, 25, 9, tzinfo=UTC).timestamp()


class FaultyStore(SqliteStore):
    """The real SQLite store, with failures injected before chosen writes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.fail_next: list[Exception] = []
        self.refuse_laeq: float | None = None
        self.delay_s = 0.0
        self.calls = 0

    def write(self, readings: Sequence[Reading], received_at: float) -> WriteResult:
        self.calls += 1
        time.sleep(self.delay_s)
        if self.fail_next:
            raise self.fail_next.pop(0)
        if self.refuse_laeq is not None and any(r.laeq == self.refuse_laeq for r in readings):
            raise ReadingRejected(f"cannot store laeq {self.refuse_laeq}")
        return super().write(readings, received_at)


class FaultyQuarantine(QuarantineRepository):
    """The real quarantine, which fails the first ``failures`` times. Each call is recorded in
    ``calls`` as (rejections, what ``observe`` returned at the call), when ``observe`` is set."""

    failures = 0
    observe: Callable[[], float] | None = None

    def __init__(self, meta: Database) -> None:
        super().__init__(meta)
        self.calls: list[tuple[int, float]] = []

    def add(self, rejections: Sequence[Rejection]) -> int:
        if self.observe is not None:
            self.calls.append((len(rejections), self.observe()))
        if self.failures:
            self.failures -= 1
            raise RuntimeError("unexpected bug in quarantine")
        return super().add(rejections)


class FaultyMeta(MetadataStore):
    """The real metadata store, whose quarantine fails the first ``quarantine.failures``
    times."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.quarantine: FaultyQuarantine = FaultyQuarantine(self)


class Rig:
    """An in-process worker on a real broker, over a faulty store and metadata."""

    def __init__(self, tmp_path: Path, broker: MosquittoBroker, prefix: str) -> None:
        self.broker = broker
        self.prefix = prefix
        self.store = FaultyStore(tmp_path / "readings.db")
        self.meta = FaultyMeta(f"sqlite:///{tmp_path / 'metadata.db'}")
        self.meta.sensors.add([Sensor(id="s1", name="s1", lat=None, lon=None, source="road")])
        self.worker: IngestWorker | None = None
        self.thread: threading.Thread | None = None

    def start(self, **settings: object) -> IngestWorker:
        chosen: dict[str, object] = {"flush_interval_s": 0.05, **settings}
        config = IngestSettings(
            mqtt=parse_mqtt_url(self.broker.url),
            client_id=f"{self.prefix}-w",
            topic_prefix=self.prefix,
            share_group=None,
            **chosen,  # type: ignore[arg-type]
        )
        self.worker = IngestWorker(config, self.store, self.meta)
        self.thread = threading.Thread(target=self.worker.run)
        self.thread.start()
        assert self.worker.wait_connected(20)
        return self.worker

    def stop(self) -> None:
        assert self.worker is not None
        assert self.thread is not None
        self.worker.request_stop()
        self.thread.join(30)
        assert not self.thread.is_alive()

    def publish(self, payloads: list[bytes]) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.max_inflight_messages_set(500)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        infos = [client.publish(f"{self.prefix}/s1/levels", p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(60)
        client.disconnect()
        client.loop_stop()

    def wait_acked(self, count: int, timeout_s: float = 60) -> None:
        assert self.worker is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.worker.metrics.acked._value.get() >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"acked {self.worker.metrics.acked._value.get()} of {count}")


@pytest.fixture
def rig(tmp_path: Path, broker: MosquittoBroker, prefix: str) -> Iterator[Rig]:
    made = Rig(tmp_path, broker, prefix)
    yield made
    if made.thread is not None and made.thread.is_alive():
        made.stop()


def _readings(count: int, laeq: float = 50.0) -> list[bytes]:
    return [msgspec.json.encode({"ts": T0 + i, "laeq": laeq}) for i in range(count)]


def test_a_flooding_broker_cannot_overfill_the_worker(rig: Rig) -> None:
    """A backlog of 3,000 messages, a slow store and a receive maximum of 200: Mosquitto 2.0
    resets its quota on every PUBACK and would send far more than 200 at once; the bounded
    inbox holds the network thread back so at most 200 messages wait in memory."""
    rig.start(receive_maximum=200, batch_messages=100)
    rig.stop()  # the persistent session now queues while the worker is away
    rig.publish(_readings(3000))
    rig.store.delay_s = 0.02
    worker = rig.start(receive_maximum=200, batch_messages=100)
    rig.wait_acked(3000)
    assert rig.store.count_readings() == 3000
    assert worker._inbox.peak <= 200


def test_a_store_outage_is_waited_out_and_nothing_is_quarantined(rig: Rig) -> None:
    """Store errors that are not about the readings (a disk I/O error, a lock, an unexpected
    store failure) keep the batch unacknowledged and retried: all stored, none quarantined."""
    rig.store.fail_next = [
        StoreError("sqlite write failed: disk I/O error"),
        StoreUnavailable("database is locked"),
        StoreError("sqlite write failed: disk I/O error"),
    ]
    worker = rig.start()
    rig.publish(_readings(300))
    rig.wait_acked(300)
    assert rig.store.count_readings() == 300
    assert rig.meta.quarantine.count() == 0
    assert worker.metrics.store_retries._value.get() == 3


def test_a_reading_the_store_refuses_is_quarantined_alone(rig: Rig) -> None:
    """One reading the store cannot take (ReadingRejected) among good ones: the good ones are
    stored, that one is quarantined with the store's reason."""
    rig.store.refuse_laeq = 99.5
    rig.start(batch_messages=1000, flush_interval_s=0.5)
    rig.publish([*_readings(20), msgspec.json.encode({"ts": T0 + 100, "laeq": 99.5})])
    rig.wait_acked(21)
    assert rig.store.count_readings() == 20
    [entry] = rig.meta.quarantine.newest()
    assert "cannot store laeq 99.5" in entry.reason


def test_an_unexpected_error_is_retried_and_the_worker_survives(rig: Rig) -> None:
    """The quarantine write fails twice with a bug-like exception: the batch stays
    unacknowledged and is retried; the readings are stored once and the rejection once."""
    rig.meta.quarantine.failures = 2
    worker = rig.start()
    rig.publish([*_readings(10), b"not json"])
    rig.wait_acked(11, timeout_s=30)
    assert rig.store.count_readings() == 10
    assert rig.meta.quarantine.count() == 1
    assert worker.metrics.errors._value.get() == 2
    assert rig.thread is not None
    assert rig.thread.is_alive()


def test_bad_messages_share_a_quarantine_transaction_and_are_acked_after_it(rig: Rig) -> None:
    """A backlog of 2,000 bad messages (one entry each) is quarantined in a few transactions of
    many messages, not one per message; no message is acknowledged before the transaction
    holding its entry commits, none when that transaction fails (its batch is retried), and
    every entry is kept once."""
    rig.start()
    rig.stop()  # the persistent session now queues while the worker is away
    rig.publish([b"not json %d" % i for i in range(2000)])
    rig.meta.quarantine.failures = 1

    def acked() -> float:  # of the worker started next, once it runs
        assert rig.worker is not None
        return float(rig.worker.metrics.acked._value.get())

    rig.meta.quarantine.observe = acked
    rig.start(flush_interval_s=0.5)
    rig.wait_acked(2000)
    calls = rig.meta.quarantine.calls
    assert rig.meta.quarantine.count() == 2000
    assert 2 <= len(calls) <= 10, calls
    (failed, acked_at_failure), *committed = calls
    assert acked_at_failure == 0
    assert committed[0] == (failed, 0)  # the failed batch again, still unacknowledged
    done = 0
    for entries, acked_before in committed:
        assert acked_before == done
        done += entries
    assert done == 2000
