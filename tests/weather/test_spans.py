"""``WeatherSpans``: the validity spans a sensor's weather station gives, from the metadata
database (SQLite and PostgreSQL), clipped to the range asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from noiselab.model import Sensor, WeatherObservation
from noiselab.store.metadata import MetadataStore, WeatherStation
from noiselab.validity import Span, SpanSource
from noiselab.weather import WeatherSpans

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z
START = datetime.fromtimestamp(T0, UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def meta(meta_url: str):
    store = MetadataStore(meta_url)
    store.sensors.add([Sensor(id=sid, name=sid) for sid in ("kbm-25m", "hbm-50m")])
    store.weather.add(WeatherStation(id="vb-weather", name="Mast"))
    store.weather.assign("kbm-25m", "vb-weather")
    windy = [WeatherObservation("vb-weather", T0 + 60 * m, 60.0, 7.0) for m in range(10, 20)]
    rainy = [
        WeatherObservation("vb-weather", T0 + 60 * m, 60.0, 1.0, None, None, 0.4) for m in (30, 31)
    ]
    store.weather_exclusions.record("vb-weather", windy + rainy, 10.0)
    yield store
    store.close()


def test_spans_of_the_sensors_station_clipped_to_the_range(meta: MetadataStore):
    source: SpanSource = WeatherSpans(meta)
    found = source.spans("kbm-25m", START + 15 * MIN, START + 31 * MIN)
    assert found == [
        Span(T0 + 15 * 60, T0 + 20 * 60, "weather", "wind up to 5.8 m/s at 4 m (7.0 m/s at 10 m)"),
        Span(T0 + 30 * 60, T0 + 31 * 60, "weather", "precipitation up to 0.4 mm per observation"),
    ]
    assert all(span.excludes for span in found)


def test_a_whole_day_gives_both_whole_spans(meta: MetadataStore):
    found = WeatherSpans(meta).spans(
        "kbm-25m", START - timedelta(hours=10), START + timedelta(hours=14)
    )
    assert [(s.start - T0, s.end - T0) for s in found] == [(600.0, 1200.0), (1800.0, 1920.0)]


def test_no_station_no_spans_and_quiet_ranges_are_empty(meta: MetadataStore):
    spans = WeatherSpans(meta)
    assert spans.spans("hbm-50m", START, START + timedelta(hours=1)) == []
    assert spans.spans("nowhere", START, START + timedelta(hours=1)) == []
    assert spans.spans("kbm-25m", START, START + 10 * MIN) == []  # ends where the wind starts
    assert spans.spans("kbm-25m", START + 20 * MIN, START + 30 * MIN) == []
    assert spans.spans("kbm-25m", START + 20 * MIN, START + 20 * MIN) == []


def test_naive_times_are_refused(meta: MetadataStore):
    with pytest.raises(ValueError, match="aware"):
        WeatherSpans(meta).spans("kbm-25m", datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_a_kept_reader_reads_each_station_once_and_a_plain_one_sees_new_spans(meta: MetadataStore):
    """Two sensors on one station: a reader with ``keep`` answers both from one read (so a
    span merged after it stays unseen by it); a plain reader sees the new span at once."""
    meta.weather.assign("hbm-50m", "vb-weather")
    day = (START - timedelta(hours=10), START + timedelta(hours=14))
    kept, plain = WeatherSpans(meta, keep=True), WeatherSpans(meta)
    assert (
        kept.spans("kbm-25m", *day) == kept.spans("hbm-50m", *day) == plain.spans("hbm-50m", *day)
    )
    gust = [WeatherObservation("vb-weather", T0 + 60 * 50, 60.0, 8.0)]
    meta.weather_exclusions.record("vb-weather", gust, 10.0)
    assert len(plain.spans("kbm-25m", *day)) == 3
    assert len(kept.spans("kbm-25m", *day)) == 2
