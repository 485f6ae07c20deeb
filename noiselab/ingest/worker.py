"""The ingest worker: MQTT -> validate -> store, at least once, idempotent.

Delivery guarantee. The worker subscribes with QoS 1 on a persistent MQTT v5 session and
acknowledges a message only after everything it carried is committed: its good readings in the
time-series store and its rejections in quarantine, among them the readings that conflict with
a stored one (history is immutable: they never overwrite it). A worker killed at any point
loses nothing (unacknowledged messages are redelivered to its session) and stores nothing twice
(writes are idempotent by ``(sensor_id, ts)``; a conflict offered again is quarantined once).

Side messages (:mod:`noiselab.ingest.side_topics`): weather observations and calibrator-tone
checks share the session and batches; the worker only dispatches them, and
:mod:`noiselab.ingest.side_commit` commits them before the batch is acknowledged.

Threads. paho's network thread only appends received messages to an ``Inbox``. The writer
(the caller of ``run``) takes batches from it, by size or when the oldest message has waited
``flush_interval_s``, because the broker stops sending once ``receive_maximum`` messages are
unacknowledged, so a batch must never wait for more than can be in flight. A SQLite store is
also compacted in a background thread (``noiselab.ingest.compaction``) unless
``settings.compaction`` turns it off; it stops with the worker.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from noiselab.config import MqttUrl
from noiselab.errors import NoiselabError, ReadingRejected, StoreError
from noiselab.ingest.adapters import AdapterContext
from noiselab.ingest.commit import split_unknown, write_isolating
from noiselab.ingest.compaction import CompactionSettings, Compactor, compactor_for
from noiselab.ingest.inbox import Inbound, Inbox
from noiselab.ingest.message import (
    RAW_CAP_BYTES,
    ParsedMessage,
    parse_message,
    sensor_id_from_topic,
)
from noiselab.ingest.metrics import IngestMetrics
from noiselab.ingest.side_commit import SideCommitter, ToneSink
from noiselab.ingest.side_topics import SideMessages
from noiselab.ingest.sources import Source, SourceRouter
from noiselab.ingest.tone import TOPIC_SUFFIX
from noiselab.ingest.weather_commit import WeatherRegistry
from noiselab.logs import event
from noiselab.model import Reading, Rejection
from noiselab.mqtt import connect_properties, new_client, stop_client
from noiselab.store.base import ReadingStore, WriteResult

__all__ = ["IngestSettings", "IngestWorker", "SensorRegistry", "ToneSink", "default_client_id"]

log = logging.getLogger("noiselab.ingest")

_T = TypeVar("_T")


def default_client_id() -> str:
    """A client id stable across restarts on this host (the persistent session's name)."""
    return f"noiselab-ingest-{socket.gethostname()}"[:64]


@dataclass(frozen=True, slots=True)
class IngestSettings:
    """How the worker connects, batches and validates. Times in seconds."""

    mqtt: MqttUrl
    client_id: str = field(default_factory=default_client_id)
    topic_prefix: str = "noiselab"
    share_group: str | None = "noiselab-ingest"
    auto_register: bool = False
    batch_messages: int = 5_000
    batch_bytes: int = 4 * 1024 * 1024
    max_pending_bytes: int = 128 * 1024 * 1024
    flush_interval_s: float = 0.1
    receive_maximum: int = 10_000
    session_expiry_s: int = 7 * 24 * 3600
    keepalive_s: int = 30
    max_future_s: float = 300.0
    registry_refresh_s: float = 5.0
    stats_interval_s: float = 30.0
    sources: tuple[Source, ...] = ()
    """Foreign-format sources (``--sources FILE``); our own topic takes precedence."""
    compaction: CompactionSettings = field(default_factory=CompactionSettings)
    """Background compaction and retention of a SQLite store (on by default)."""

    def _shared(self, suffix: str) -> str:
        """``PREFIX/+/SUFFIX``, shared (``$share/GROUP/...``) unless there is no group."""
        topic = f"{self.topic_prefix}/+/{suffix}"
        return f"$share/{self.share_group}/{topic}" if self.share_group else topic

    @property
    def topic_filter(self) -> str:
        """The subscription to readings: ``PREFIX/+/levels``, shared."""
        return self._shared("levels")

    @property
    def weather_filter(self) -> str:
        """The weather stations' subscription: ``PREFIX/+/weather``, shared."""
        return self._shared("weather")

    @property
    def tone_filter(self) -> str:
        """The subscription to tone checks: ``PREFIX/+/calibration``, shared."""
        return self._shared(TOPIC_SUFFIX.lstrip("/"))

    @property
    def subscriptions(self) -> list[str]:
        """Every filter to subscribe to: our own readings and weather, then each source's,
        shared alike."""
        own = [self.topic_filter, self.weather_filter]
        return [*own, *(s.subscription(self.share_group) for s in self.sources)]


class _Sensors(Protocol):
    """The sensor registry as the worker uses it (``MetadataStore.sensors``)."""

    def ids(self) -> frozenset[str]: ...

    def register_unknown(self, sensor_ids: Iterable[str], now: float) -> int: ...


class _Quarantine(Protocol):
    """Where the worker keeps rejections (``MetadataStore.quarantine``)."""

    def add(self, rejections: Sequence[Rejection]) -> int: ...


class SensorRegistry(WeatherRegistry, Protocol):
    """The part of the metadata store the worker needs (the weather stations too)."""

    @property
    def sensors(self) -> _Sensors: ...

    @property
    def quarantine(self) -> _Quarantine: ...


class IngestWorker:
    """Consumes readings from MQTT into a ``ReadingStore``; see the module docstring. With
    ``tone_checks``, it also takes the sensors' calibrator-tone checks
    (``PREFIX/+/calibration``, :mod:`noiselab.ingest.tone`) into that sink, in the same batches
    and before acknowledging them; the levels path only pays a suffix test per message."""

    def __init__(
        self,
        settings: IngestSettings,
        store: ReadingStore,
        registry: SensorRegistry,
        metrics: IngestMetrics | None = None,
        tone_checks: ToneSink | None = None,
    ) -> None:
        self.settings = settings
        self.tone_checks = tone_checks
        self.store = store
        self.registry = registry
        self.metrics = metrics or IngestMetrics()
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._connected = threading.Event()
        # Guards the connection generation while acknowledgements are queued, so a PUBACK can
        # never be queued for one connection and sent on the next.
        self._session_lock = threading.Lock()
        self._generation = 0
        self._fatal: str | None = None
        self._inbox = Inbox(
            max_messages=min(settings.batch_messages, settings.receive_maximum),
            max_bytes=settings.batch_bytes,
            max_wait_s=settings.flush_interval_s,
            max_pending=settings.receive_maximum,
            max_pending_bytes=settings.max_pending_bytes,
        )
        self._router = SourceRouter(settings.sources)
        self._known: frozenset[str] = frozenset()
        self._checked_at: dict[str, float] = {}
        self._client = self._make_client()
        self._compactor = compactor_for(store, settings.compaction, self.metrics)
        self._side = SideCommitter(store, registry, tone_checks, settings.topic_prefix)

    # -- lifecycle -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the current batch, write what was received, acknowledge it and disconnect.
        A second call abandons a batch the store keeps refusing (it stays unacknowledged)."""
        if self._stop.is_set():
            self._abandon.set()
        self._stop.set()
        self._inbox.close()
        if self._compactor is not None:
            self._compactor.request_stop()

    def run(self) -> None:
        """Connect and consume until ``request_stop``; blocks the calling thread."""
        s = self.settings
        self._client.connect_async(
            s.mqtt.host,
            s.mqtt.port,
            keepalive=s.keepalive_s,
            clean_start=False,
            properties=connect_properties(
                session_expiry_s=s.session_expiry_s, receive_maximum=s.receive_maximum
            ),
        )
        self._client.loop_start()
        event(log, "ingest started", mqtt=str(s.mqtt), client_id=s.client_id, topic=s.topic_filter)
        if self._compactor is not None:
            self._compactor.start()
        try:
            self._consume()
        finally:
            if self._compactor is not None:
                # The store is closed after run() returns: let the current call finish first.
                self._compactor.request_stop()
                self._compactor.join()
            stop_client(self._client)
            log.info("ingest stopped", extra={"fields": self.metrics.snapshot()})
        if self._fatal:
            raise NoiselabError(self._fatal)

    @property
    def compactor(self) -> Compactor | None:
        """The background compaction of the store, ``None`` when off or not a SQLite store."""
        return self._compactor

    def wait_connected(self, timeout_s: float) -> bool:
        """True once subscribed (for tests and the demo)."""
        return self._connected.wait(timeout_s)

    # -- MQTT callbacks (network thread) -----------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = new_client(self.settings.mqtt, self.settings.client_id, manual_ack=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        # $share subscriptions do not reach message_callback_add: dispatch here.
        client.on_message = self._on_message
        return client

    def _on_connect(
        self, client: mqtt.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            event(log, "mqtt connect refused", level=logging.ERROR, reason=str(reason))
            return
        with self._session_lock:
            self._generation += 1
        event(
            log,
            "mqtt connected",
            client_id=self.settings.client_id,
            session_present=flags.session_present,
        )
        # Subscribe on every connect: a broker that lost the session must learn it again.
        filters = self.settings.subscriptions
        if self.tone_checks is not None:
            filters = [*filters, self.settings.tone_filter]
        client.subscribe([(f, SubscribeOptions(qos=1)) for f in filters])

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any
    ) -> None:
        if any(r.is_failure for r in reasons):
            event(
                log, "subscription refused", level=logging.ERROR, reasons=[str(r) for r in reasons]
            )
            return
        if any(r.value < 1 for r in reasons):
            # QoS 0 would make delivery at-most-once: refuse to run rather than lose data.
            self._fatal = "the broker granted QoS 0 for the subscription; at-least-once needs QoS 1"
            event(log, self._fatal, level=logging.ERROR)
            self.request_stop()
            return
        self._connected.set()

    def _on_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        with self._session_lock:
            self._generation += 1
        self._connected.clear()
        if not self._stop.is_set():
            event(log, "mqtt disconnected; reconnecting", level=logging.WARNING, reason=str(reason))

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            self.metrics.received.inc()
            self._inbox.put(
                Inbound(
                    msg.mid,
                    msg.qos,
                    msg.topic,
                    bytes(msg.payload),
                    time.time(),
                    time.monotonic(),
                    self._generation,
                )
            )
        except Exception:
            # An exception here would stop paho's network thread; the message stays
            # unacknowledged and is redelivered.
            log.exception("could not queue a received message")

    # -- the writer ------------------------------------------------------------------------

    def _consume(self) -> None:
        next_stats = time.monotonic() + self.settings.stats_interval_s
        while True:
            stopping = self._stop.is_set()
            batch = self._inbox.take(timeout_s=0.5, drain=stopping)
            if batch:
                self._handle_until_done(batch)
            elif stopping:
                return
            if time.monotonic() >= next_stats:
                log.info("ingest stats", extra={"fields": self.metrics.snapshot()})
                next_stats = time.monotonic() + self.settings.stats_interval_s

    def _handle_until_done(self, batch: list[Inbound]) -> None:
        """Handle a batch; on an unexpected error keep it unacknowledged and try again with
        backoff (writes are idempotent), so no error ends the worker or skips a message."""
        delay = 0.5
        while True:
            try:
                self._handle(batch)
                return
            except _AbandonedError:
                event(
                    log,
                    "batch abandoned unacknowledged on shutdown",
                    level=logging.WARNING,
                    messages=len(batch),
                )
                return
            except Exception:
                self.metrics.errors.inc()
                log.exception("batch failed; retrying it", extra={"fields": {"retry_in_s": delay}})
            if self._abandon.wait(delay):
                return
            delay = min(delay * 2, 30.0)

    def _handle(self, batch: list[Inbound]) -> None:
        started = time.monotonic()
        readings, side = self._parse(batch)
        readings, unknown = self._check_registered(readings)
        rejections = side.rejections
        rejections.extend(unknown)
        rejections.extend(self._side.commit(side, self._durably))
        self._commit(readings, rejections)
        self.metrics.acked.inc(self._ack(batch))
        self.metrics.batches.inc()
        self.metrics.lag.set(time.monotonic() - batch[0].arrived)
        self.metrics.commit_seconds.observe(time.monotonic() - started)

    def _parse(self, batch: list[Inbound]) -> tuple[list[Reading], SideMessages]:
        """The batch's readings, and its side messages with every rejection of the batch's
        parsing (levels messages' too)."""
        readings: list[Reading] = []
        side = SideMessages()
        s = self.settings
        tones = self.tone_checks is not None
        for item in batch:
            if side.take(item, s.topic_prefix, s.max_future_s, tones=tones):
                continue
            parsed = self._parse_one(item)
            readings.extend(parsed.readings)
            side.rejections.extend(parsed.rejections)
        return readings, side

    def _parse_one(self, item: Inbound) -> ParsedMessage:
        """Our own topic first; otherwise the first source whose filter matches the topic."""
        s = self.settings
        if not s.sources or sensor_id_from_topic(item.topic, s.topic_prefix) is not None:
            return parse_message(
                item.topic,
                item.payload,
                item.received_at,
                prefix=s.topic_prefix,
                max_future_s=s.max_future_s,
            )
        source = self._router.match(item.topic)
        if source is None:
            reason = (
                f"no source matches topic {item.topic!r}, and it is not "
                f"{s.topic_prefix}/<sensor_id>/levels"
            )
            raw = bytes(item.payload[:RAW_CAP_BYTES])
            return ParsedMessage([], [Rejection(item.topic, None, raw, reason, item.received_at)])
        ctx = AdapterContext(item.topic, item.received_at, source.options, s.max_future_s)
        return source.parser(item.payload, ctx)

    def _check_registered(self, readings: list[Reading]) -> tuple[list[Reading], list[Rejection]]:
        missing = {r.sensor_id for r in readings} - self._known
        if not missing:
            return readings, []
        now = time.time()
        # Read the registry again when an unknown id was not checked lately, so a sensor added
        # with `noiselab sensors add` is accepted within registry_refresh_s.
        refresh = self.settings.registry_refresh_s
        if any(now - self._checked_at.get(i, float("-inf")) >= refresh for i in missing):
            self._known = self._durably(self.registry.sensors.ids)
            missing -= self._known
            self._checked_at.update(dict.fromkeys(missing, now))
        if not missing:
            return readings, []
        if self.settings.auto_register:
            self._durably(lambda: self.registry.sensors.register_unknown(missing, now))
            self._known = self._known | missing
            event(log, "sensors auto-registered", sensors=",".join(sorted(missing)))
            return readings, []
        return split_unknown(readings, missing, self._native_topic, now)

    def _commit(self, readings: list[Reading], rejections: list[Rejection]) -> None:
        """Durably store readings and rejections (raises ``_AbandonedError`` on a forced
        shutdown while the store keeps failing)."""
        if readings:
            result = self._write_readings(readings, rejections)
            self.metrics.stored.inc(result.inserted)
            self.metrics.unchanged.inc(result.unchanged)
        if rejections:
            self._durably(lambda: self.registry.quarantine.add(rejections))
            self.metrics.quarantined.inc(len(rejections))

    def _write_readings(self, readings: list[Reading], rejections: list[Rejection]) -> WriteResult:
        """Write a batch; if the store refuses some readings for their values, write each
        reading alone and quarantine the ones it still refuses, so one bad reading cannot
        block the stream. Any other store failure is an outage: retried, never quarantined."""
        now = time.time()

        def write(batch: Sequence[Reading]) -> WriteResult:
            try:
                return self._durably(partial(self.store.write, batch, now))
            except ReadingRejected as exc:
                if len(batch) > 1:
                    event(
                        log,
                        "store refused a reading; isolating",
                        level=logging.ERROR,
                        error=str(exc),
                    )
                raise

        result, refused = write_isolating(write, readings, self._native_topic, now)
        rejections.extend(refused)
        return result

    def _native_topic(self, reading: Reading) -> str:
        return f"{self.settings.topic_prefix}/{reading.sensor_id}/levels"

    def _durably(self, operation: Callable[[], _T]) -> _T:
        """Run ``operation`` until it succeeds, backing off on store errors (an outage, a lock,
        a full or failing disk); ``ReadingRejected`` propagates, as retrying cannot help."""
        delay = 0.05
        while True:
            try:
                return operation()
            except ReadingRejected:
                raise
            except StoreError as exc:
                self.metrics.store_retries.inc()
                event(
                    log,
                    "store unavailable; retrying" if exc.retryable else "store failed; retrying",
                    level=logging.WARNING if exc.retryable else logging.ERROR,
                    error=str(exc),
                    retry_in_s=delay,
                )
            if self._abandon.wait(delay):
                raise _AbandonedError
            delay = min(delay * 2, 5.0)

    def _ack(self, batch: list[Inbound]) -> int:
        """Acknowledge, in arrival order, what this connection delivered; returns how many."""
        acked = 0
        with self._session_lock:
            for item in batch:
                # A message from an earlier connection is redelivered by the broker; its packet
                # id may already name another message on this one: never acknowledge it.
                if item.generation == self._generation:
                    if item.qos > 0:
                        self._client.ack(item.mid, item.qos)
                    acked += 1
        return acked


class _AbandonedError(Exception):
    """Shutdown was forced while the store refused a batch."""
