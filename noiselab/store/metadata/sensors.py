"""The sensor registry in the metadata database: what is registered, public and where.

Usage::

    meta.sensors.add(load_sensors_file("sensors.csv"), replace=True)
    meta.sensors.get("vb-road-1")
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from noiselab.errors import StoreError
from noiselab.model import Sensor
from noiselab.store.metadata.engine import Database, insert_new, translated
from noiselab.store.metadata.tables import sensors_table

__all__ = ["SOURCE_CACHE_S", "SensorRepository"]

SOURCE_CACHE_S = 300.0
"""How long ``SensorRepository.source_of`` trusts a looked-up source type, s."""


class SensorRepository:
    """The registered sensors of a metadata database. Each method is one transaction, durable
    when it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine
        self._insert = meta.dialect_insert
        self._sources: dict[str, tuple[str | None, float]] = {}

    def all(self) -> list[Sensor]:
        """All registered sensors, ordered by id."""
        query = sa.select(sensors_table).order_by(sensors_table.c.id)
        with translated("list sensors"), self._engine.connect() as connection:
            return [_sensor_from_row(row) for row in connection.execute(query).mappings()]

    def get(self, sensor_id: str) -> Sensor | None:
        """The sensor ``sensor_id``, or ``None`` when it is not registered."""
        query = sa.select(sensors_table).where(sensors_table.c.id == sensor_id)
        with translated("read a sensor"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _sensor_from_row(row)

    def add(self, sensors: Iterable[Sensor], *, replace: bool = False) -> int:
        """Register ``sensors``; return how many rows were written.

        Without ``replace`` an id that is already registered raises ``StoreError`` naming it
        and nothing is written. With ``replace`` existing sensors are updated (upsert; their
        ``created`` time is kept) and a repeated id in ``sensors`` means the last one wins.
        """
        given = list(sensors)
        rows = {sensor.id: _sensor_to_row(sensor) for sensor in given}
        if not rows:
            return 0
        if not replace and len(rows) != len(given):
            raise ValueError("the same sensor id is given twice")
        with translated("add sensors"), self._engine.begin() as connection:
            if replace:
                insert = self._insert(sensors_table)
                updated = {
                    name: insert.excluded[name]
                    for name in ("name", "lat", "lon", "source", "description", "public")
                }
                statement = insert.on_conflict_do_update(index_elements=["id"], set_=updated)
            else:
                _refuse_existing(connection, rows)
                statement = self._insert(sensors_table)
            connection.execute(statement, list(rows.values()))
        return len(rows)

    def register_unknown(self, sensor_ids: Iterable[str], now: float) -> int:
        """Auto-register sensors seen on the wire: named by their id, source unknown, not
        public, created at ``now`` (Unix seconds). Registered ids are left alone; returns how
        many were new. A malformed id raises ``ValueError``."""
        created = datetime.fromtimestamp(now, UTC)
        rows = [
            _sensor_to_row(Sensor(id=sid, name=sid, public=False, created=created))
            for sid in dict.fromkeys(sensor_ids)
        ]
        statement = self._insert(sensors_table).on_conflict_do_nothing(index_elements=["id"])
        return insert_new(self._engine, statement, sensors_table.c.id, rows, "register sensors")

    def source_of(self, sensor_id: str) -> str | None:
        """The source type of ``sensor_id`` (``None`` when unknown or unregistered), cached for
        ``SOURCE_CACHE_S``: the InfluxDB adapter asks for it on every write."""
        now = time.monotonic()
        cached = self._sources.get(sensor_id)
        if cached is not None and now - cached[1] < SOURCE_CACHE_S:
            return cached[0]
        sensor = self.get(sensor_id)
        source = None if sensor is None else sensor.source
        self._sources[sensor_id] = (source, now)
        return source

    def ids(self) -> frozenset[str]:
        """The ids of all registered sensors (public or not)."""
        with translated("list sensor ids"), self._engine.connect() as connection:
            return frozenset(connection.execute(sa.select(sensors_table.c.id)).scalars())


def _refuse_existing(connection: Connection, rows: Mapping[str, object]) -> None:
    query = sa.select(sensors_table.c.id).where(sensors_table.c.id.in_(list(rows)))
    existing = sorted(connection.execute(query).scalars())
    if existing:
        names = ", ".join(existing)
        raise StoreError(f"sensors already registered: {names} (replace them to update)")


def _sensor_to_row(sensor: Sensor) -> dict[str, Any]:
    return msgspec.structs.asdict(sensor)


def _sensor_from_row(row: sa.RowMapping) -> Sensor:
    return Sensor(**cast("dict[str, Any]", dict(row)))
