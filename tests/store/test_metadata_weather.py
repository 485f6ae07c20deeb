"""Weather stations, the sensors' stations and the merged exclusion spans in the metadata
database, on a real SQLite file and a fresh PostgreSQL database (``meta_url``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from noiselab.errors import StoreError
from noiselab.model import Sensor, WeatherObservation
from noiselab.store.metadata import MetadataStore, UnknownStation, WeatherStation
from noiselab.store.metadata.tables import weather_exclusions_table

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z
START = datetime.fromtimestamp(T0, UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def meta(meta_url: str):
    store = MetadataStore(meta_url)
    store.sensors.add([Sensor(id=sid, name=sid, source="road") for sid in ("kbm-25m", "hbm-50m")])
    store.weather.add(WeatherStation(id="vb-weather", name="Mast", lat=55.62, lon=12.38))
    yield store
    store.close()


def obs(minute: int, wind: float | None = 3.0, rain: float | None = 0.0) -> WeatherObservation:
    return WeatherObservation("vb-weather", T0 + 60 * minute, 60.0, wind, None, None, rain)


def spans(meta: MetadataStore) -> list[tuple[int, int, str]]:
    """Stored spans as (start minute, end minute, reason)."""
    found = meta.weather_exclusions.overlapping("vb-weather", START - 60 * MIN, START + 600 * MIN)
    return [(round((s.start - START) / MIN), round((s.end - START) / MIN), s.reason) for s in found]


def test_stations_register_list_and_update(meta: MetadataStore):
    [station] = meta.weather.all()
    assert (station.id, station.height_m, station.lat) == ("vb-weather", 10.0, 55.62)
    with pytest.raises(StoreError, match="already registered"):
        meta.weather.add(WeatherStation(id="vb-weather", name="again"))
    meta.weather.add(WeatherStation(id="vb-weather", name="Mast 2", height_m=6.0), replace=True)
    updated = meta.weather.get("vb-weather")
    assert updated is not None
    assert (updated.name, updated.height_m, updated.created) == ("Mast 2", 6.0, station.created)
    assert meta.weather.heights(["vb-weather", "nowhere"]) == {"vb-weather": 6.0}
    assert meta.weather.get("nowhere") is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "Bad id"}, "station id"),
        ({"name": " "}, "name must be"),
        ({"lat": 55.0}, "both lat and lon"),
        ({"lat": 91.0, "lon": 0.0}, "lat must be"),
        ({"height_m": 0.0}, "height_m must be"),
        ({"height_m": float("nan")}, "height_m must be"),
    ],
)
def test_bad_stations_are_refused(fields: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        WeatherStation(**({"id": "s1", "name": "s"} | fields))  # type: ignore[arg-type]


def test_the_database_refuses_a_bad_height_too(meta: MetadataStore):
    from noiselab.store.metadata.tables import weather_stations_table

    row = {"id": "low", "name": "x", "height_m": 0.0, "created": START}
    with pytest.raises(sa.exc.IntegrityError), meta.engine.begin() as connection:
        connection.execute(sa.insert(weather_stations_table), row)


def test_a_sensor_takes_its_weather_from_one_station(meta: MetadataStore):
    assert meta.weather.station_of("kbm-25m") is None
    meta.weather.assign("kbm-25m", "vb-weather")
    meta.weather.assign("kbm-25m", "vb-weather")  # again: still one
    meta.weather.assign("hbm-50m", "vb-weather")
    assert meta.weather.assignments() == {"hbm-50m": "vb-weather", "kbm-25m": "vb-weather"}
    meta.weather.assign("hbm-50m", None)
    assert meta.weather.station_of("hbm-50m") is None
    with pytest.raises(UnknownStation, match="weather station 'nowhere'"):
        meta.weather.assign("kbm-25m", "nowhere")
    assert meta.weather.station_of("kbm-25m") == "vb-weather"  # unchanged by the refusal
    with pytest.raises(UnknownStation, match="sensor 'ghost'"):
        meta.weather.assign("ghost", "vb-weather")


def test_invalid_minutes_become_merged_spans(meta: MetadataStore):
    """Minutes 0-1 windy (7.0 and 8.0 m/s at 10 m: 5.79 and 6.62 at 4 m), minute 2 rainy and
    windless (adjacent: one span 0-3), minute 3 calm and dry, minute 4 rainy, minute 5 not
    observed: spans 0-3 and 4-5. The span keeps the highest wind and the most rain."""
    batch = [
        obs(0, 7.0),
        obs(1, 8.0),
        obs(2, 1.0, 0.3),
        obs(3),
        obs(4, 2.0, 0.05),
        obs(5, None, None),
    ]
    assert meta.weather_exclusions.record("vb-weather", batch, 10.0) == 2
    assert spans(meta) == [
        (
            0,
            3,
            "wind up to 6.6 m/s at 4 m (8.0 m/s at 10 m); precipitation up to 0.3 mm per "
            "observation",
        ),
        (4, 5, "precipitation up to 0.05 mm per observation"),
    ]


def test_recording_again_is_idempotent_whatever_the_order(meta: MetadataStore):
    batch = [obs(0, 7.0), obs(2, 9.0), obs(5, 1.0, 1.0)]
    meta.weather_exclusions.record("vb-weather", batch, 10.0)
    before = spans(meta)

    def count() -> int:
        query = sa.select(sa.func.count()).select_from(weather_exclusions_table)
        with meta.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    assert count() == 3
    assert meta.weather_exclusions.record("vb-weather", list(reversed(batch)), 10.0) == 0
    assert meta.weather_exclusions.record("vb-weather", batch[1:2], 10.0) == 0
    assert spans(meta) == before
    assert count() == 3


def test_a_late_minute_joins_its_neighbours(meta: MetadataStore):
    """Spans 0-1 and 2-3 exist; minute 1 arrives windy: one span 0-3, the old rows gone."""
    meta.weather_exclusions.record("vb-weather", [obs(0, 7.0), obs(2, 6.5)], 10.0)
    assert [s[:2] for s in spans(meta)] == [(0, 1), (2, 3)]
    assert meta.weather_exclusions.record("vb-weather", [obs(1, 10.0)], 10.0) == 1
    assert spans(meta) == [(0, 3, "wind up to 8.3 m/s at 4 m (10.0 m/s at 10 m)")]


def test_a_valid_batch_writes_nothing(meta: MetadataStore):
    assert meta.weather_exclusions.record("vb-weather", [obs(0), obs(1, 6.0)], 10.0) == 0
    assert spans(meta) == []


def test_another_anemometer_height_changes_the_verdict(meta: MetadataStore):
    """5.5 m/s at a 2 m mast is 5.5 · ln 80 / ln 40 = 6.53 m/s at 4 m: invalid; at a 10 m mast
    it is 4.55 m/s: valid."""
    assert meta.weather_exclusions.record("vb-weather", [obs(0, 5.5)], 10.0) == 0
    assert meta.weather_exclusions.record("vb-weather", [obs(0, 5.5)], 2.0) == 1
    assert spans(meta) == [(0, 1, "wind up to 6.5 m/s at 4 m (5.5 m/s at 2 m)")]


def test_overlapping_reads_do_not_clip(meta: MetadataStore):
    meta.weather_exclusions.record("vb-weather", [obs(m, 9.0) for m in range(10, 20)], 10.0)
    [span] = meta.weather_exclusions.overlapping("vb-weather", START + 15 * MIN, START + 16 * MIN)
    assert (span.start, span.end) == (START + 10 * MIN, START + 20 * MIN)
    assert meta.weather_exclusions.overlapping("vb-weather", START, START + 10 * MIN) == []
    assert (
        meta.weather_exclusions.overlapping("vb-weather", START + 20 * MIN, START + 30 * MIN) == []
    )
