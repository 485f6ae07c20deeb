"""Re-publishing levels as FIWARE NoiseLevelObserved entities, over a real Mosquitto.

The entity's shape is checked against the data model's documented NGSI-LD example through our
own FIWARE adapter (tested on that example in ``test_adapters_fiware.py``): what we publish is
read back as the reading we meant.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.clock import Clock

from noiselab.analysis.buckets import Every
from noiselab.config import parse_mqtt_url
from noiselab.export.fiware import NGSI_LD_CONTEXT, noise_level_observed
from noiselab.export.fiware_service import FiwarePublisher, FiwareSettings
from noiselab.ingest.adapters.base import AdapterContext, AdapterOptions, FixedId
from noiselab.ingest.adapters.fiware import parse_fiware
from noiselab.model import Reading, Sensor
from noiselab.store.base import LevelPoint
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ROAD = Sensor(id="vb-road-1", name="Road", lat=55.6242, lon=12.388, source="road")


def test_entity_of_a_quarter_hour() -> None:
    point = LevelPoint(t=T0, laeq=67.4036, lafmax=81.26, l10=None, l50=None, l90=None, coverage=1.0)
    assert noise_level_observed(ROAD, point, timedelta(minutes=15)) == {
        "id": "urn:ngsi-ld:NoiseLevelObserved:noiselab-vb-road-1-2026-03-02T12:00:00Z",
        "type": "NoiseLevelObserved",
        "dateObservedFrom": {"@type": "DateTime", "@value": "2026-03-02T12:00:00Z"},
        "dateObservedTo": {"@type": "DateTime", "@value": "2026-03-02T12:15:00Z"},
        "dateObserved": {"@type": "DateTime", "@value": "2026-03-02T12:15:00Z"},
        "LAeq": 67.4,
        "LAmax": 81.3,
        "location": {"type": "Point", "coordinates": [12.388, 55.6242]},
        "refDevice": "urn:ngsi-ld:Device:noiselab-vb-road-1",
        "@context": list(NGSI_LD_CONTEXT),
    }


def test_an_entity_without_lafmax_or_position_leaves_them_out() -> None:
    bare = Sensor(id="diy-1", name="DIY")
    point = LevelPoint(t=T0, laeq=55.0, lafmax=None, l10=None, l50=None, l90=None, coverage=1)
    entity = noise_level_observed(bare, point, timedelta(hours=1))
    assert "LAmax" not in entity
    assert "location" not in entity


def test_the_entity_reads_back_as_the_interval_through_the_fiware_adapter() -> None:
    point = LevelPoint(t=T0, laeq=64.04, lafmax=79.0, l10=None, l50=None, l90=None, coverage=1)
    entity = noise_level_observed(ROAD, point, timedelta(minutes=15))
    ctx = AdapterContext(
        "fiware/noiselab/vb-road-1/NoiseLevelObserved",
        T0.timestamp() + 960,
        AdapterOptions(sensor_id=FixedId("vb-road-1")),
        300.0,
    )
    parsed = parse_fiware(msgspec.json.encode(entity), ctx)
    assert parsed.rejections == []
    assert parsed.readings == [
        Reading(sensor_id="vb-road-1", ts=T0.timestamp(), laeq=64.0, duration=900.0, lafmax=79.0)
    ]


class Collected:
    """Everything published under a topic filter, retained messages included."""

    def __init__(self, url: str, topic: str) -> None:
        self.messages: dict[str, dict] = {}
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        settings = parse_mqtt_url(url)
        self._client.connect(settings.host, settings.port)
        self._client.subscribe(topic, qos=1)
        self._client.loop_start()
        assert self._subscribed.wait(5)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        self.messages[msg.topic] = msgspec.json.decode(msg.payload)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> dict[str, dict]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def lab(tmp_path: Path) -> tuple[str, str]:
    """A public road sensor measured all of 12:00-12:15 (450 s at 60 dB, 450 s at 70 dB),
    a private one too, and a public one measured only 600 s of it (coverage 0.67)."""
    store_url = f"sqlite:///{tmp_path / 'readings.db'}"
    meta_url = f"sqlite:///{tmp_path / 'metadata.db'}"
    with MetadataStore(meta_url) as meta:
        meta.sensors.add(
            [
                ROAD,
                Sensor(id="vb-acme-1", name="Acme", public=False),
                Sensor(id="vb-gappy-1", name="Gappy"),
            ]
        )
    t0 = T0.timestamp()
    readings = [
        *(Reading("vb-road-1", t0 + i, 60.0 if i < 450 else 70.0, lafmax=75.0) for i in range(900)),
        *(Reading("vb-acme-1", t0 + i, 50.0) for i in range(900)),
        *(Reading("vb-gappy-1", t0 + i, 50.0) for i in range(600)),
    ]
    with SqliteStore(tmp_path / "readings.db") as store:
        store.write(readings, t0 + 900)
    return store_url, meta_url


@pytest.fixture
def collected(broker, prefix) -> Iterator[Collected]:
    found = Collected(broker.url, f"{prefix}/#")
    yield found
    found.close()


@pytest.mark.process
def test_the_publisher_sends_each_settled_interval_once(broker, prefix, lab, collected) -> None:
    """LAeq = 10·log10((450·10^6 + 450·10^7) / 900) = 67.40 dB; the private sensor and the one
    measured for 67 % of the interval are left out; a second pass publishes nothing new."""
    store_url, meta_url = lab
    clock = Clock(T0.timestamp() + 900 + 61)
    settings = FiwareSettings(
        mqtt=parse_mqtt_url(broker.url), every=Every.M15, topic_prefix=prefix, client_id=prefix
    )
    meta = MetadataStore(meta_url)
    with SqliteStore(store_url.removeprefix("sqlite:///")) as store:
        publisher = FiwarePublisher(settings, store, meta, clock=clock)
        publisher.start()
        try:
            assert publisher.publish_due() == 1
            assert publisher.publish_due() == 0
            clock.now += 900
            assert publisher.publish_due() == 0  # 12:15-12:30 holds no data
        finally:
            publisher.close()
            meta.close()
    messages = collected.wait_for(1)
    assert list(messages) == [f"{prefix}/vb-road-1/NoiseLevelObserved"]
    entity = messages[f"{prefix}/vb-road-1/NoiseLevelObserved"]
    assert (entity["LAeq"], entity["LAmax"]) == (67.4, 75.0)
    assert entity["dateObservedFrom"]["@value"] == "2026-03-02T12:00:00Z"


@pytest.mark.process
def test_nothing_is_published_before_the_settle_time(broker, prefix, lab) -> None:
    store_url, meta_url = lab
    clock = Clock(T0.timestamp() + 900 + 30)
    settings = FiwareSettings(
        mqtt=parse_mqtt_url(broker.url), topic_prefix=prefix, client_id=prefix, settle_s=60
    )
    meta = MetadataStore(meta_url)
    with SqliteStore(store_url.removeprefix("sqlite:///")) as store:
        publisher = FiwarePublisher(settings, store, meta, clock=clock)
        publisher.start()
        try:
            assert publisher.publish_due() == 0  # 11:45-12:00 is empty, 12:00-12:15 not settled
            clock.now += 31
            assert publisher.publish_due() == 1
        finally:
            publisher.close()
            meta.close()


def test_settings_refuse_day_buckets_and_bad_coverage() -> None:
    url = parse_mqtt_url("mqtt://127.0.0.1:1883")
    with pytest.raises(ValueError, match="every '1d'"):
        FiwareSettings(mqtt=url, every=Every.D1)
    with pytest.raises(ValueError, match="coverage"):
        FiwareSettings(mqtt=url, min_coverage=1.5)


@pytest.mark.process
def test_the_command_runs_once(broker, prefix, lab) -> None:
    """The real command at the real clock connects, finds the latest settled quarter hour
    empty (the data above is from March) and says so; a bad --every is a clean exit 2."""
    store_url, meta_url = lab
    command = [
        sys.executable,
        "-m",
        "noiselab",
        "fiware",
        "--once",
        "--mqtt",
        broker.url,
        "--store",
        store_url,
        "--meta",
        meta_url,
        "--topic-prefix",
        prefix,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "published 0 entities"
    bad = subprocess.run(
        [*command, "--every", "1d"], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 2
    assert "--every '1d'" in bad.stderr
