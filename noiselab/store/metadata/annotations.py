"""Staff annotations of periods and places, in the metadata database.

The record and its limits are in :mod:`noiselab.store.metadata.annotation_records`. Here they
are stored: ``annotations`` holds one row per annotation, ``annotation_sensors`` the sensors it
concerns (none: every sensor). An annotation given a place is resolved when it is saved, in
the same transaction: the registered sensors with a position whose great-circle distance
(:func:`noiselab.analysis.geodesy.great_circle_m`) from the place is at most its radius become
its sensor list, so it stays reproducible whatever is registered or moved later. A place with
no such sensor is refused (:class:`NoSensorsNearby`) rather than read as "every sensor".

Nothing here deletes or edits an annotation; it can only be withdrawn, once, with a reason.

Usage::

    made = meta.annotations.add(Annotation(start=..., end=..., category="roadworks",
                                           text="Lane closure", exclude=True,
                                           place=Place(lat=55.626, lon=12.388, radius_m=300),
                                           created_by="kommune"))
    meta.annotations.for_sensor("kbm-25m", start, end)  # active ones, by start
    meta.annotations.withdraw(made.id, by="kommune", reason="entered twice")
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from noiselab.analysis.geodesy import EARTH_RADIUS_M, great_circle_m
from noiselab.model import utcnow
from noiselab.store.metadata.annotation_records import (
    MAX_WITHDRAW_REASON,
    AlreadyWithdrawnAnnotation,
    Annotation,
    NoSensorsNearby,
    Place,
    check_name,
    check_text,
)
from noiselab.store.metadata.corrections import UnknownSensor
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import (
    annotation_sensors_table,
    annotations_table,
    sensors_table,
)

__all__ = ["AnnotationRepository", "sensors_near"]

_WITHDRAWAL = ("id", "withdrawn_at", "withdrawn_by", "withdrawn_by_key", "withdraw_reason")


def sensors_near(
    place: Place, positions: Iterable[tuple[str, float | None, float | None]]
) -> list[str]:
    """The ids, sorted, of ``positions`` (id, lat, lon) within ``place.radius_m`` metres of the
    place; those without a position are left out."""
    return sorted(
        sensor_id
        for sensor_id, lat, lon in positions
        if lat is not None
        and lon is not None
        and great_circle_m(place.lat, place.lon, lat, lon) <= place.radius_m
    )


class AnnotationRepository:
    """The annotations of a metadata database. Each method is one transaction, durable when
    it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine

    def add(self, annotation: Annotation) -> Annotation:
        """Store a new annotation (its ``id`` and any withdrawal are ignored); the stored one,
        with its ``id`` and, for a place, the sensors found there. An annotation with both a
        place and sensors raises ``ValueError``; an unregistered sensor
        :class:`~noiselab.store.metadata.corrections.UnknownSensor`; a place without
        registered sensors :class:`NoSensorsNearby`."""
        place = annotation.place
        if place is not None and annotation.sensor_ids:
            raise ValueError("sensor_ids: give sensors or a place, not both")
        row = msgspec.structs.asdict(annotation)
        for name in (*_WITHDRAWAL, "sensor_ids", "place"):
            del row[name]
        row |= {
            "place_lat": None if place is None else place.lat,
            "place_lon": None if place is None else place.lon,
            "place_radius_m": None if place is None else place.radius_m,
        }
        table = annotations_table
        with translated("add an annotation"), self._engine.begin() as connection:
            if place is not None:
                sensor_ids = _resolve(connection, place)
            else:
                sensor_ids = list(annotation.sensor_ids)
                _check_registered(connection, sensor_ids)
            new_id = connection.execute(sa.insert(table).returning(table.c.id), [row]).scalar_one()
            if sensor_ids:
                links = [{"annotation_id": new_id, "sensor_id": s} for s in sensor_ids]
                connection.execute(sa.insert(annotation_sensors_table), links)
        return msgspec.structs.replace(
            annotation,
            id=int(new_id),
            sensor_ids=tuple(sensor_ids),
            withdrawn_at=None,
            withdrawn_by=None,
            withdrawn_by_key=None,
            withdraw_reason=None,
        )

    def get(self, annotation_id: int) -> Annotation | None:
        """The annotation ``annotation_id``, or ``None``."""
        query = sa.select(annotations_table).where(annotations_table.c.id == annotation_id)
        with translated("read an annotation"), self._engine.connect() as connection:
            found = _with_sensors(connection, connection.execute(query).mappings().all())
        return found[0] if found else None

    def find(
        self,
        *,
        sensor_id: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        include_withdrawn: bool = True,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[Annotation]:
        """Annotations oldest first (by ``id``, after ``after_id``), at most ``limit``: those
        concerning ``sensor_id`` (those naming it and those of every sensor; all when
        ``None``) whose period overlaps ``[start, end)`` (either bound may be open), withdrawn
        ones too unless ``include_withdrawn`` is false."""
        a = annotations_table.c
        query = _filtered(sensor_id, start, end, include_withdrawn).order_by(a.id).limit(limit)
        if after_id is not None:
            query = query.where(a.id > after_id)
        with translated("list annotations"), self._engine.connect() as connection:
            return _with_sensors(connection, connection.execute(query).mappings().all())

    def for_sensor(
        self,
        sensor_id: str | None,
        start: datetime | None,
        end: datetime | None,
        *,
        limit: int | None = None,
    ) -> list[Annotation]:
        """The active annotations concerning ``sensor_id`` (every one when ``None``) whose
        period overlaps ``[start, end)`` (either bound may be open), ordered by start (then
        ``id``), at most ``limit``."""
        a = annotations_table.c
        query = _filtered(sensor_id, start, end, include_withdrawn=False).order_by(a.start, a.id)
        if limit is not None:
            query = query.limit(limit)
        with translated("list a sensor's annotations"), self._engine.connect() as connection:
            return _with_sensors(connection, connection.execute(query).mappings().all())

    def withdraw(
        self,
        annotation_id: int,
        *,
        by: str,
        reason: str,
        key_id: str | None = None,
        when: datetime | None = None,
    ) -> Annotation | None:
        """Withdraw an active annotation: it stops applying and keeps its row, now with
        ``by``, ``reason`` and ``when`` (default now). ``None`` for an unknown id; one withdrawn
        before raises :class:`AlreadyWithdrawnAnnotation` and is left as it was. A blank or too
        long ``reason`` or ``by`` raises ``ValueError``."""
        check_text("reason", reason, MAX_WITHDRAW_REASON)
        check_name("withdrawn_by", by)
        a = annotations_table.c
        statement = (
            sa.update(annotations_table)
            .where(a.id == annotation_id, a.withdrawn_at.is_(None))
            .values(
                withdrawn_at=when or utcnow(),
                withdrawn_by=by,
                withdrawn_by_key=key_id,
                withdraw_reason=reason,
            )
        )
        with translated("withdraw an annotation"), self._engine.begin() as connection:
            changed = connection.execute(statement).rowcount
        found = self.get(annotation_id)
        if found is None:
            return None
        if not changed:
            raise AlreadyWithdrawnAnnotation(
                f"annotation {annotation_id} was withdrawn at "
                f"{found.withdrawn_at:%Y-%m-%dT%H:%MZ} by {found.withdrawn_by}"
            )
        return found


def _filtered(
    sensor_id: str | None, start: datetime | None, end: datetime | None, include_withdrawn: bool
) -> sa.Select[Any]:
    a, links = annotations_table.c, annotation_sensors_table.c
    query = sa.select(annotations_table)
    if sensor_id is not None:
        named = sa.exists().where(links.annotation_id == a.id, links.sensor_id == sensor_id)
        any_link = sa.exists().where(links.annotation_id == a.id)
        query = query.where(sa.or_(named, ~any_link))
    if start is not None:
        query = query.where(a.end > start)
    if end is not None:
        query = query.where(a.start < end)
    if not include_withdrawn:
        query = query.where(a.withdrawn_at.is_(None))
    return query


def _resolve(connection: Connection, place: Place) -> list[str]:
    """The registered sensors within the place's radius (a latitude band is read, the
    distance decides)."""
    band = math.degrees(place.radius_m / EARTH_RADIUS_M) * 1.01 + 1e-9
    s = sensors_table.c
    query = sa.select(s.id, s.lat, s.lon).where(
        s.lat.is_not(None), s.lat.between(place.lat - band, place.lat + band)
    )
    found = sensors_near(place, connection.execute(query))
    if not found:
        raise NoSensorsNearby(
            f"place: no registered sensor within {place.radius_m:g} m of "
            f"({place.lat:.6f}, {place.lon:.6f})"
        )
    return found


def _check_registered(connection: Connection, sensor_ids: Sequence[str]) -> None:
    if not sensor_ids:
        return
    query = sa.select(sensors_table.c.id).where(sensors_table.c.id.in_(sensor_ids))
    unknown = sorted(set(sensor_ids) - set(connection.execute(query).scalars()))
    if unknown:
        shown = ", ".join(repr(s) for s in unknown[:5])
        raise UnknownSensor(f"sensor_ids: unknown sensor {shown}")


def _with_sensors(connection: Connection, rows: Sequence[sa.RowMapping]) -> list[Annotation]:
    """The annotations of ``rows``, in their order, with their sensors (one query)."""
    if not rows:
        return []
    links = annotation_sensors_table.c
    ids = [row["id"] for row in rows]
    sensors: dict[int, list[str]] = {}
    for chunk in range(0, len(ids), 500):
        query = sa.select(links.annotation_id, links.sensor_id).where(
            links.annotation_id.in_(ids[chunk : chunk + 500])
        )
        for annotation_id, sensor_id in connection.execute(query):
            sensors.setdefault(annotation_id, []).append(sensor_id)
    return [_from_row(row, sensors.get(row["id"], [])) for row in rows]


def _from_row(row: sa.RowMapping, sensor_ids: list[str]) -> Annotation:
    fields: dict[str, Any] = dict(row)
    lat, lon = fields.pop("place_lat"), fields.pop("place_lon")
    radius = fields.pop("place_radius_m")
    place = None if lat is None else Place(lat=lat, lon=lon, radius_m=radius)
    return Annotation(**fields, place=place, sensor_ids=tuple(sorted(sensor_ids)))
