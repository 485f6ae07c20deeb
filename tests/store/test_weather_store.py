"""Weather observations in both reading stores: a real SQLite file and the InfluxDB adapter
against the in-memory InfluxDB (``support.influx_fake``): stored once, read back exactly,
re-deliveries unchanged and differing values conflicts; and the exact line protocol."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from support.http_fake import RecordingServer
from support.influx_fake import FakeInflux

from noiselab.errors import QueryError
from noiselab.model import WeatherObservation
from noiselab.store.base import ReadingStore
from noiselab.store.influx import InfluxStore
from noiselab.store.influx_lines import weather_line, weather_payload
from noiselab.store.sqlite import SqliteStore
from noiselab.store.sqlite_schema import SCHEMA_VERSION
from noiselab.store.weather_base import WeatherConflict, classify_weather

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z
START = datetime.fromtimestamp(T0, UTC)


def obs(i: int, **values: float | None) -> WeatherObservation:
    fields: dict[str, float | None] = {"wind_speed": 4.0 + i / 10, "precipitation": 0.0}
    return WeatherObservation("vb-weather", T0 + 60 * i, 60.0, **(fields | values))  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "influx"])
def store(request, tmp_path) -> Iterator[ReadingStore]:
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "ts.db") as opened:
            yield opened
        return
    server = RecordingServer(FakeInflux().respond)
    influx = InfluxStore(url=server.url, token="t", org="lab", bucket="noise")
    try:
        yield influx
    finally:
        influx.close()
        server.close()


def test_observations_round_trip_in_time_order(store: ReadingStore):
    full = WeatherObservation("vb-weather", T0 + 120.25, 30.0, 7.0, 11.5, 250.0, 0.4, -2.5)
    batch = [obs(1), full, obs(0, precipitation=None, temperature=6.0)]
    result = store.write_weather(batch, received_at=T0 + 200)
    assert (result.inserted, result.unchanged, result.conflicts) == (3, 0, ())
    found = store.weather("vb-weather", START, START + timedelta(minutes=3))
    assert found == [obs(0, precipitation=None, temperature=6.0), obs(1), full]
    assert store.weather("other", START, START + timedelta(hours=1)) == []
    # half-open: an observation at the end is not in the range
    assert store.weather("vb-weather", START, START + timedelta(minutes=1)) == found[:1]


def test_a_redelivery_is_stored_once(store: ReadingStore):
    store.write_weather([obs(0), obs(1)], T0 + 100)
    again = store.write_weather([obs(1), obs(0), obs(2)], T0 + 200)
    assert (again.inserted, again.unchanged, again.conflicts) == (1, 2, ())
    end = START + timedelta(hours=1)
    assert store.weather("vb-weather", START, end) == [obs(0), obs(1), obs(2)]


def test_a_differing_value_is_a_conflict_and_never_overwrites(store: ReadingStore):
    store.write_weather([obs(0)], T0 + 100)
    changed = obs(0, wind_speed=9.0, temperature=3.0)
    result = store.write_weather([changed, obs(1)], T0 + 200)
    assert (result.inserted, result.unchanged) == (1, 0)
    assert result.conflicts == (WeatherConflict(changed, obs(0)),)
    assert result.conflicts[0].detail() == (
        "at 2026-11-25T10:00:00Z: wind_speed stored 4.0, offered 9.0; "
        "temperature stored none, offered 3.0"
    )
    assert store.weather("vb-weather", START, START + timedelta(minutes=1)) == [obs(0)]


def test_within_one_batch_the_first_of_a_key_wins(store: ReadingStore):
    result = store.write_weather([obs(0), obs(0), obs(0, wind_speed=1.0)], T0)
    assert (result.inserted, result.unchanged, len(result.conflicts)) == (1, 1, 1)


def test_the_sqlite_store_bounds_a_read(tmp_path, monkeypatch):
    from noiselab.store import sqlite_weather

    monkeypatch.setattr(sqlite_weather, "MAX_WEATHER_ROWS", 2)
    with SqliteStore(tmp_path / "ts.db") as store:
        store.write_weather([obs(0), obs(1), obs(2)], T0)
        with pytest.raises(QueryError, match="more than 2 weather observations"):
            store.weather("vb-weather", START, START + timedelta(hours=1))


def test_the_sqlite_file_keeps_its_rows_across_opening(tmp_path):
    with SqliteStore(tmp_path / "ts.db") as store:
        store.write_weather([obs(0)], T0)
    with SqliteStore(tmp_path / "ts.db") as store:
        assert store.weather("vb-weather", START, START + timedelta(minutes=1)) == [obs(0)]
        assert store.write_weather([obs(0)], T0).unchanged == 1


def test_a_version_3_file_gets_the_weather_table(tmp_path):
    """Schema step 4 adds ``weather`` to a file written before it, keeping the readings."""
    import sqlite3
    from contextlib import closing

    from noiselab.model import Reading

    path = tmp_path / "old.db"
    with SqliteStore(path) as store:
        store.write([Reading("s-1", T0, 60.0)], T0)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("DROP TABLE weather")
        conn.execute("PRAGMA user_version = 3")
    with SqliteStore(path) as store:
        assert store.write_weather([obs(0)], T0).inserted == 1
        assert len(store.series("s-1", START, START + timedelta(minutes=1))) == 1
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_exact_line_protocol():
    full = WeatherObservation("vb-weather", T0, 60.0, 7.0, 11.2, 250.0, 0.4, -2.5)
    assert weather_line(full) == (
        "weather,station_id=vb-weather duration=60.0,precipitation=0.4,temperature=-2.5,"
        "wind_direction=250.0,wind_gust=11.2,wind_speed=7.0 1795600800000"
    )
    bare = WeatherObservation("a b", T0 + 0.5, 30.0)
    assert weather_payload([bare, full]).split(b"\n")[0] == (
        b"weather,station_id=a\\ b duration=30.0 1795600800500"
    )


def test_classify_keeps_duration_to_the_millisecond():
    stored = {("vb-weather", 1795600800000): obs(0)}
    same = WeatherObservation("vb-weather", T0, 60.0004, 4.0, precipitation=0.0)
    longer = WeatherObservation("vb-weather", T0, 60.001, 4.0, precipitation=0.0)
    new, unchanged, conflicts = classify_weather([same, longer], stored)
    assert (new, unchanged) == ([], 1)
    assert conflicts[0].detail().endswith("duration stored 60.0, offered 60.001")
