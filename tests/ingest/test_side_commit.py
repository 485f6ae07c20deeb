"""Committing a batch's side messages (``noiselab.ingest.side_commit``) on real SQLite files:
weather observations go to the reading store, tone checks to the calibration log, each commit
through the caller's retry loop and stored once however often it runs; what either refuses
comes back, weather first, for the quarantine; without a tone sink tone checks are left alone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from noiselab.calibration import CalibrationLog, ToneCheckRecorder
from noiselab.ingest.side_commit import SideCommitter
from noiselab.ingest.side_topics import SideMessages
from noiselab.ingest.tone import parse_tone_message
from noiselab.model import Sensor, WeatherObservation
from noiselab.store.metadata import MetadataStore, WeatherStation
from noiselab.store.sqlite import SqliteStore

T = TypeVar("T")
NOW = datetime(2026, 11, 3, 2, 5, tzinfo=UTC).timestamp()
SPAN = (datetime(2026, 11, 3, 2, tzinfo=UTC), datetime(2026, 11, 3, 3, tzinfo=UTC))


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SqliteStore, MetadataStore]]:
    meta = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    meta.sensors.add([Sensor(id="bg-a", name="A", source="background")])
    meta.weather.add(WeatherStation(id="vb-weather", name="Mast"))
    with SqliteStore(tmp_path / "readings.db") as store:
        yield store, meta
    meta.close()


class Twice:
    """A ``Durably`` that runs each operation twice, as the worker's retry does when an outage
    strikes after the write was durable; counts the operations."""

    def __init__(self) -> None:
        self.operations = 0

    def __call__(self, operation: Callable[[], T], /) -> T:
        self.operations += 1
        operation()
        return operation()


def side_messages(sensor_id: str, station_id: str) -> SideMessages:
    payload = json.dumps({"ts": NOW - 300, "reference_db": 94.0, "measured_db": 94.1}).encode()
    tone = parse_tone_message(f"noiselab/{sensor_id}/calibration", payload, NOW)
    weather = [WeatherObservation(station_id, NOW - 120, 60.0, 2.0)]
    return SideMessages(weather=weather, tones=tone.checks)


def test_both_kinds_are_committed_through_the_retry_loop(
    stores: tuple[SqliteStore, MetadataStore],
) -> None:
    store, meta = stores
    sink = ToneCheckRecorder(CalibrationLog(meta, clock=lambda: NOW))
    committer = SideCommitter(store, meta, sink, "noiselab", clock=lambda: NOW)
    durably = Twice()
    assert committer.commit(side_messages("bg-a", "vb-weather"), durably) == []
    assert durably.operations == 2  # one per kind, each run twice: stored once
    assert [c.before_db for c in meta.calibrations.history("bg-a")] == [94.1]
    [stored] = store.weather("vb-weather", *SPAN)
    assert stored.wind_speed == 2.0
    assert committer.commit(side_messages("bg-a", "vb-weather"), Twice()) == []  # redelivered
    assert len(meta.calibrations.history("bg-a")) == 1
    assert len(store.weather("vb-weather", *SPAN)) == 1


def test_refusals_come_back_weather_first_with_their_topics(
    stores: tuple[SqliteStore, MetadataStore],
) -> None:
    store, meta = stores
    sink = ToneCheckRecorder(CalibrationLog(meta, clock=lambda: NOW))
    committer = SideCommitter(store, meta, sink, "lab", clock=lambda: NOW)
    weather, tone = committer.commit(side_messages("bg-z", "xx-weather"), Twice())
    assert weather.topic == "lab/xx-weather/weather"
    assert weather.reason.startswith("unknown weather station 'xx-weather'")
    assert weather.received_at == NOW
    assert tone.topic == "noiselab/bg-z/calibration"
    assert tone.reason.startswith("unknown sensor 'bg-z'")


def test_without_a_tone_sink_tone_checks_are_left_alone(
    stores: tuple[SqliteStore, MetadataStore],
) -> None:
    store, meta = stores
    committer = SideCommitter(store, meta, None, "noiselab", clock=lambda: NOW)
    assert committer.commit(side_messages("bg-z", "vb-weather"), Twice()) == []
    assert meta.calibrations.history("bg-z") == []
