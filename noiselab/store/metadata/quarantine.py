"""The quarantine in the metadata database: rejected readings and messages, kept durably.

A rejection is stored once: its digest (topic, raw payload, batch index) is unique, so a
re-delivered message adds nothing. Times are aware UTC ``datetime`` objects.

Usage::

    meta.quarantine.add(rejections)  # durable when it returns, idempotent
    meta.quarantine.find(sensor_id="vb-road-1", limit=50)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from noiselab.model import Rejection
from noiselab.store.metadata.engine import Database, insert_new, translated
from noiselab.store.metadata.tables import quarantine_table

__all__ = ["QuarantineEntry", "QuarantineRepository", "rejection_digest"]


class QuarantineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A stored rejection: ``raw`` is the offending JSON value or payload, ``index`` its
    position in a batch (``None`` for a single reading or a bad message)."""

    id: int
    topic: str
    sensor_id: str | None
    raw: bytes
    reason: str
    received_at: datetime
    index: int | None


def rejection_digest(rejection: Rejection) -> str:
    """SHA-256 (hex) of what identifies a rejection: topic, raw and batch index.

    Each part is length-prefixed, so no two different rejections share an encoding. The
    receive time and the reason are left out on purpose: a re-delivered message is the same
    rejection, even when its reason names a time-dependent figure ("412.0 s in the future").
    """
    index = b"-" if rejection.index is None else str(rejection.index).encode()
    digest = hashlib.sha256()
    for part in (rejection.topic.encode(), rejection.raw, index):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class QuarantineRepository:
    """The quarantined rejections of a metadata database. Each method is one transaction,
    durable when it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine
        self._insert = meta.dialect_insert

    def add(self, rejections: Sequence[Rejection]) -> int:
        """Store ``rejections`` in one transaction, durable when it returns; return how many
        were new. Idempotent: a rejection with the same topic, raw, index and reason as a
        stored one (a re-delivered message) is not stored again."""
        rows: dict[str, dict[str, Any]] = {}
        for rejection in rejections:
            digest = rejection_digest(rejection)
            rows.setdefault(digest, _rejection_to_row(rejection, digest))
        statement = self._insert(quarantine_table).on_conflict_do_nothing(index_elements=["digest"])
        return insert_new(
            self._engine,
            statement,
            quarantine_table.c.id,
            list(rows.values()),
            "quarantine rejections",
        )

    def newest(self, *, limit: int = 100, sensor_id: str | None = None) -> list[QuarantineEntry]:
        """The newest ``limit`` quarantined rejections (newest first), of one sensor if
        ``sensor_id`` is given."""
        if limit < 1:
            raise ValueError(f"limit {limit} must be at least 1")
        table = quarantine_table
        query = sa.select(table).order_by(table.c.received_at.desc(), table.c.id.desc())
        if sensor_id is not None:
            query = query.where(table.c.sensor_id == sensor_id)
        with translated("list the quarantine"), self._engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
        return [_entry_from_row(row) for row in rows]

    def count(self) -> int:
        """How many rejections the quarantine holds."""
        query = sa.select(sa.func.count()).select_from(quarantine_table)
        with translated("count the quarantine"), self._engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def find(
        self,
        *,
        sensor_id: str | None = None,
        reason: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[QuarantineEntry]:
        """Quarantined rejections, newest first (by id, the order they were stored).

        Filters: ``sensor_id``; ``reason`` containing that text (case-insensitive);
        ``received_at`` in ``[start, end)``. Pages: pass the last id seen as ``before_id``
        to get the next ``limit`` entries.
        """
        if limit < 1:
            raise ValueError(f"limit {limit} must be at least 1")
        table = quarantine_table
        query = sa.select(table).order_by(table.c.id.desc())
        if sensor_id is not None:
            query = query.where(table.c.sensor_id == sensor_id)
        if reason:
            query = query.where(
                sa.func.lower(table.c.reason).contains(reason.lower(), autoescape=True)
            )
        if start is not None:
            query = query.where(table.c.received_at >= start)
        if end is not None:
            query = query.where(table.c.received_at < end)
        if before_id is not None:
            query = query.where(table.c.id < before_id)
        with translated("search the quarantine"), self._engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).mappings().all()
        return [_entry_from_row(row) for row in rows]

    def get(self, entry_id: int) -> QuarantineEntry | None:
        """The quarantined rejection ``entry_id``, or ``None``."""
        query = sa.select(quarantine_table).where(quarantine_table.c.id == entry_id)
        with translated("read a quarantine entry"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _entry_from_row(row)

    def counts_by_sensor(
        self, since: datetime, until: datetime | None = None
    ) -> dict[str | None, int]:
        """Rejections received in ``[since, until)`` per sensor id (``None``: no sensor id,
        e.g. a malformed topic); sensors without any are absent."""
        table = quarantine_table
        query = (
            sa.select(table.c.sensor_id, sa.func.count())
            .where(table.c.received_at >= since)
            .group_by(table.c.sensor_id)
        )
        if until is not None:
            query = query.where(table.c.received_at < until)
        with translated("count the quarantine"), self._engine.connect() as connection:
            return {sid: int(count) for sid, count in connection.execute(query).all()}


def _rejection_to_row(rejection: Rejection, digest: str) -> dict[str, Any]:
    return {
        "digest": digest,
        "topic": rejection.topic,
        "sensor_id": rejection.sensor_id,
        "raw": rejection.raw,
        "reason": rejection.reason,
        "received_at": datetime.fromtimestamp(rejection.received_at, UTC),
        "batch_index": rejection.index,
    }


def _entry_from_row(row: sa.RowMapping) -> QuarantineEntry:
    return QuarantineEntry(
        id=row["id"],
        topic=row["topic"],
        sensor_id=row["sensor_id"],
        raw=bytes(row["raw"]),
        reason=row["reason"],
        received_at=row["received_at"],
        index=row["batch_index"],
    )
