"""Weather stations in the metadata database, and which station each sensor takes its weather
from.

A station has an id like a sensor's (``[a-z0-9][a-z0-9-]{1,63}``), a name, an optional position
(WGS 84 degrees) and the height of its anemometer above ground (m, 10 by WMO custom): the
validity rule carries the wind from there to the microphone (:mod:`noiselab.analysis.
weather_validity`). A station stands at a site or serves the area; each sensor is assigned to
at most one station.

Usage::

    meta.weather.add(WeatherStation(id="vb-weather", name="Vallensbæk mast", height_m=10.0))
    meta.weather.assign("kbm-25m", "vb-weather")
    meta.weather.station_of("kbm-25m")  # "vb-weather"
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import msgspec
import sqlalchemy as sa

from noiselab.errors import StoreError
from noiselab.model import MAX_NAME_LENGTH, SENSOR_ID_PATTERN, utcnow
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import (
    sensor_weather_table,
    sensors_table,
    weather_stations_table,
)

__all__ = [
    "DEFAULT_ANEMOMETER_M",
    "UnknownStation",
    "WeatherRepository",
    "WeatherStation",
]

DEFAULT_ANEMOMETER_M = 10.0
"""The usual anemometer height, m above ground (WMO-No. 8: 10 m over open terrain)."""


class UnknownStation(ValueError):  # noqa: N818 - reads as what was found
    """A weather station (or a sensor to assign) that is not registered."""


class WeatherStation(msgspec.Struct, frozen=True, kw_only=True):
    """A weather station (module docstring). Invalid values raise ``ValueError``."""

    id: str
    name: str
    lat: float | None = None
    lon: float | None = None
    height_m: float = DEFAULT_ANEMOMETER_M
    created: datetime = msgspec.field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if not SENSOR_ID_PATTERN.fullmatch(self.id):
            raise ValueError(f"station id {self.id!r} must match [a-z0-9][a-z0-9-]{{1,63}}")
        if not self.name.strip() or len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1 to {MAX_NAME_LENGTH} characters")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is not None and not (math.isfinite(self.lat) and -90 <= self.lat <= 90):
            raise ValueError(f"lat must be between -90 and 90 degrees, got {self.lat}")
        if self.lon is not None and not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            raise ValueError(f"lon must be between -180 and 180 degrees, got {self.lon}")
        if not (math.isfinite(self.height_m) and 0.1 < self.height_m <= 200):
            raise ValueError(f"height_m must be above 0.1 and at most 200 m, got {self.height_m}")


class WeatherRepository:
    """The weather stations and the sensors' stations. Each method is one transaction, durable
    when it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine
        self._insert = meta.dialect_insert

    def add(self, station: WeatherStation, *, replace: bool = False) -> WeatherStation:
        """Register ``station``; with ``replace`` update a registered one (its ``created`` is
        kept), else a registered id raises ``StoreError``."""
        row = msgspec.structs.asdict(station)
        insert = self._insert(weather_stations_table)
        with translated("add a weather station"), self._engine.begin() as connection:
            if replace:
                kept = {n: insert.excluded[n] for n in ("name", "lat", "lon", "height_m")}
                connection.execute(
                    insert.on_conflict_do_update(index_elements=["id"], set_=kept), row
                )
            else:
                statement = insert.on_conflict_do_nothing(index_elements=["id"])
                done = connection.execute(statement.returning(weather_stations_table.c.id), row)
                if done.first() is None:
                    raise StoreError(
                        f"weather station {station.id!r} is already registered "
                        "(replace it to update)"
                    )
        found = self.get(station.id)
        assert found is not None  # just written
        return found

    def all(self) -> list[WeatherStation]:
        """Every station, ordered by id."""
        query = sa.select(weather_stations_table).order_by(weather_stations_table.c.id)
        with translated("list weather stations"), self._engine.connect() as connection:
            return [_station(row) for row in connection.execute(query).mappings()]

    def get(self, station_id: str) -> WeatherStation | None:
        """The station ``station_id``, or ``None``."""
        query = sa.select(weather_stations_table).where(weather_stations_table.c.id == station_id)
        with translated("read a weather station"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _station(row)

    def heights(self, station_ids: Iterable[str]) -> dict[str, float]:
        """The anemometer height (m) of each registered station among ``station_ids``; an
        unregistered id is left out (the ingest quarantines its observations)."""
        wanted = sorted(set(station_ids))
        if not wanted:
            return {}
        table = weather_stations_table
        query = sa.select(table.c.id, table.c.height_m).where(table.c.id.in_(wanted))
        with translated("read weather stations"), self._engine.connect() as connection:
            return {str(i): float(h) for i, h in connection.execute(query)}

    def assign(self, sensor_id: str, station_id: str | None) -> None:
        """Take the weather of ``sensor_id`` from ``station_id`` (``None``: from no station).
        ``UnknownStation`` names a sensor or station that is not registered."""
        table = sensor_weather_table
        with translated("assign a weather station"), self._engine.begin() as connection:
            known = sa.select(sensors_table.c.id).where(sensors_table.c.id == sensor_id)
            if connection.execute(known).first() is None:
                raise UnknownStation(f"sensor {sensor_id!r} is not registered")
            connection.execute(sa.delete(table).where(table.c.sensor_id == sensor_id))
            if station_id is None:
                return
            station = sa.select(weather_stations_table.c.id).where(
                weather_stations_table.c.id == station_id
            )
            if connection.execute(station).first() is None:
                raise UnknownStation(f"weather station {station_id!r} is not registered")
            connection.execute(sa.insert(table), {"sensor_id": sensor_id, "station_id": station_id})

    def station_of(self, sensor_id: str) -> str | None:
        """The station ``sensor_id`` takes its weather from, or ``None``."""
        table = sensor_weather_table
        query = sa.select(table.c.station_id).where(table.c.sensor_id == sensor_id)
        with translated("read a sensor's weather station"), self._engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else str(found)

    def assignments(self) -> dict[str, str]:
        """Every sensor with a station: sensor id -> station id."""
        table = sensor_weather_table
        query = sa.select(table.c.sensor_id, table.c.station_id).order_by(table.c.sensor_id)
        with translated("list weather assignments"), self._engine.connect() as connection:
            return {str(s): str(w) for s, w in connection.execute(query)}


def _station(row: sa.RowMapping) -> WeatherStation:
    return WeatherStation(**cast("dict[str, Any]", dict(row)))
