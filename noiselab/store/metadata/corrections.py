"""Staff corrections of stored history, in the metadata database: the audit log.

Stored readings are a vendor's evidence and are never rewritten (:mod:`noiselab.store.conflicts`).
A correction is an overlay on them instead: one sensor, a half-open range ``[start, end)`` of
aware UTC instants on whole minutes (the per-minute roll-up is the finest data an indicator
reads, so a correction on whole minutes applies exactly), and either ``"exclude"`` (the range's
data is left out) or ``"offset"`` (``offset_db`` added to every level in the range), with the
reason, who made it and when. Where corrections apply is decided by the readers
(:mod:`noiselab.analysis.corrections` does the arithmetic).

Nothing here deletes or edits a correction: the table is the audit log. A correction can only
be *withdrawn*, once, with its own reason, by whom and when; the row keeps both. Active means
not withdrawn.

Usage::

    made = meta.corrections.add(Correction(sensor_id="kbm-25m", start=..., end=...,
                                           kind="exclude", reason="mower", created_by="kommune"))
    meta.corrections.withdraw(made.id, by="kommune", reason="wrong sensor")
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from noiselab.analysis.corrections import CorrectionKind, RangeCorrection
from noiselab.errors import NoiselabError
from noiselab.model import MAX_NAME_LENGTH, SENSOR_ID_PATTERN, utcnow
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import corrections_table, sensors_table

__all__ = [
    "EARLIEST_CORRECTION",
    "LATEST_CORRECTION",
    "MAX_OFFSET_DB",
    "MAX_REASON_LENGTH",
    "AlreadyWithdrawn",
    "Correction",
    "CorrectionRepository",
    "UnknownSensor",
]

MAX_OFFSET_DB = 20.0
"""Largest offset a correction may add or take away, dB: beyond that the data is not a
mis-calibration to fix but data to exclude."""
MAX_REASON_LENGTH = 2000
"""Longest reason of a correction or of its withdrawal, characters."""
EARLIEST_CORRECTION = datetime(1970, 1, 1, tzinfo=UTC)
"""A correction starts at or after the Unix epoch (no reading is older)."""
LATEST_CORRECTION = datetime(2100, 1, 1, tzinfo=UTC)
"""A correction ends at or before this instant (the latest a query may name)."""


class AlreadyWithdrawn(NoiselabError):  # noqa: N818 - reads as the state of the correction
    """A correction was withdrawn before; it stays as it was."""


class UnknownSensor(ValueError):  # noqa: N818 - reads as what was found
    """A correction names a sensor that is not registered."""


class Correction(msgspec.Struct, frozen=True, kw_only=True):
    """One correction (module docstring). ``id`` is ``None`` until stored. ``created_by`` and
    ``withdrawn_by`` name who acted (an API key's name, or the name given to the command);
    ``*_key`` the API key's id when one was used. Invalid values raise ``ValueError`` with a
    message a person can read."""

    sensor_id: str
    start: datetime
    end: datetime
    kind: CorrectionKind
    offset_db: float | None = None
    reason: str
    created_by: str
    created_by_key: str | None = None
    created_at: datetime = msgspec.field(default_factory=utcnow)
    id: int | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdrawn_by_key: str | None = None
    withdraw_reason: str | None = None

    def __post_init__(self) -> None:
        if not SENSOR_ID_PATTERN.fullmatch(self.sensor_id):
            raise ValueError(f"sensor_id: {self.sensor_id[:70]!r} is not a sensor id")
        _check_range(self.start, self.end)
        _check_kind(self.kind, self.offset_db)
        _check_text("reason", self.reason)
        _check_name("created_by", self.created_by)
        withdrawal = (self.withdrawn_at, self.withdrawn_by, self.withdraw_reason)
        if any(v is None for v in withdrawal) and any(v is not None for v in withdrawal):
            raise ValueError("a withdrawal needs its time, who and a reason together")

    @property
    def active(self) -> bool:
        """Whether it applies: not withdrawn."""
        return self.withdrawn_at is None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether its range shares an instant with ``[start, end)``."""
        return self.start < end and start < self.end

    def as_range(self) -> RangeCorrection:
        """Its range and effect as the analysis applies it (Unix s)."""
        return RangeCorrection(
            start=self.start.timestamp(),
            end=self.end.timestamp(),
            kind=self.kind,
            offset_db=self.offset_db or 0.0,
        )


def _check_range(start: datetime, end: datetime) -> None:
    for name, instant in (("start", start), ("end", end)):
        if instant.tzinfo is None:
            raise ValueError(f"{name}: must be timezone-aware")
        if instant.timestamp() % 60 != 0:
            raise ValueError(
                f"{name}: {instant.isoformat()} must be on a whole minute (corrections apply "
                "to per-minute data)"
            )
    if not start < end:
        raise ValueError("start: must be before end")
    if start < EARLIEST_CORRECTION or end > LATEST_CORRECTION:
        raise ValueError("start and end: must lie within 1970-01-01..2100-01-01")


def _check_kind(kind: str, offset_db: float | None) -> None:
    if kind == "exclude":
        if offset_db is not None:
            raise ValueError("offset_db: an exclusion takes no offset")
    elif kind == "offset":
        if offset_db is None or isinstance(offset_db, bool):
            raise ValueError("offset_db: an offset correction needs a number of dB")
        if not math.isfinite(offset_db) or not 0 < abs(offset_db) <= MAX_OFFSET_DB:
            raise ValueError(
                f"offset_db: {offset_db!r} must be a non-zero number within ±{MAX_OFFSET_DB:g} dB"
            )
    else:
        raise ValueError(f"kind: {kind!r} must be 'exclude' or 'offset'")


def _check_text(name: str, value: str) -> None:
    if not value.strip() or len(value) > MAX_REASON_LENGTH:
        raise ValueError(f"{name}: must be 1-{MAX_REASON_LENGTH} characters, not blank")


def _check_name(name: str, value: str) -> None:
    if not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"{name}: must be 1-{MAX_NAME_LENGTH} characters, not blank")


class CorrectionRepository:
    """The corrections of a metadata database, in the order they were made (by ``id``). Each
    method is one transaction, durable when it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine

    def add(self, correction: Correction) -> Correction:
        """Store a new correction (its ``id`` and any withdrawal are ignored); the stored one,
        with its ``id``. An unregistered sensor raises :class:`UnknownSensor`."""
        row = msgspec.structs.asdict(correction)
        for name in ("id", "withdrawn_at", "withdrawn_by", "withdrawn_by_key", "withdraw_reason"):
            del row[name]
        table = corrections_table
        with translated("add a correction"), self._engine.begin() as connection:
            registered = sa.select(sensors_table.c.id).where(
                sensors_table.c.id == correction.sensor_id
            )
            if connection.execute(registered).first() is None:
                raise UnknownSensor(f"sensor_id: unknown sensor {correction.sensor_id!r}")
            new_id = connection.execute(sa.insert(table).returning(table.c.id), [row]).scalar_one()
        return msgspec.structs.replace(
            correction,
            id=int(new_id),
            withdrawn_at=None,
            withdrawn_by=None,
            withdrawn_by_key=None,
            withdraw_reason=None,
        )

    def get(self, correction_id: int) -> Correction | None:
        """The correction ``correction_id``, or ``None``."""
        query = sa.select(corrections_table).where(corrections_table.c.id == correction_id)
        with translated("read a correction"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _from_row(row)

    def find(
        self,
        *,
        sensor_ids: Collection[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        include_withdrawn: bool = True,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[Correction]:
        """Corrections oldest first (by ``id``, after ``after_id``), at most ``limit``: those of
        ``sensor_ids`` (all when ``None``) whose range overlaps ``[start, end)`` (either bound
        may be open), withdrawn ones too unless ``include_withdrawn`` is false."""
        c = corrections_table.c
        query = sa.select(corrections_table).order_by(c.id).limit(limit)
        if sensor_ids is not None:
            query = query.where(c.sensor_id.in_(sorted(set(sensor_ids))))
        if start is not None:
            query = query.where(c.end > start)
        if end is not None:
            query = query.where(c.start < end)
        if not include_withdrawn:
            query = query.where(c.withdrawn_at.is_(None))
        if after_id is not None:
            query = query.where(c.id > after_id)
        with translated("list corrections"), self._engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query).mappings()]

    def overlapping(
        self, sensor_ids: Collection[str], periods: Sequence[tuple[datetime, datetime]]
    ) -> list[Correction]:
        """Every correction, withdrawn ones included, of ``sensor_ids`` that overlaps one of
        ``periods`` (``[start, end)`` each), oldest first: what a trial's evaluation applies
        (the active ones) and cites (all of them)."""
        if not periods or not sensor_ids:
            return []
        c = corrections_table.c
        span = sa.or_(*(sa.and_(c.start < end, c.end > start) for start, end in periods))
        query = (
            sa.select(corrections_table)
            .where(c.sensor_id.in_(sorted(set(sensor_ids))), span)
            .order_by(c.id)
        )
        with translated("list a trial's corrections"), self._engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query).mappings()]

    def active(self, sensor_id: str) -> list[Correction]:
        """The active corrections of ``sensor_id``, oldest first."""
        c = corrections_table.c
        query = (
            sa.select(corrections_table)
            .where(c.sensor_id == sensor_id, c.withdrawn_at.is_(None))
            .order_by(c.id)
        )
        with translated("list a sensor's corrections"), self._engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query).mappings()]

    def withdraw(
        self,
        correction_id: int,
        *,
        by: str,
        reason: str,
        key_id: str | None = None,
        when: datetime | None = None,
    ) -> Correction | None:
        """Withdraw an active correction: it stops applying and keeps its row, now with ``by``,
        ``reason`` and ``when`` (default now). ``None`` for an unknown id; a correction that
        was withdrawn before raises :class:`AlreadyWithdrawn` and is left as it was. A blank or
        too long ``reason`` or ``by`` raises ``ValueError``."""
        _check_text("reason", reason)
        _check_name("withdrawn_by", by)
        c = corrections_table.c
        statement = (
            sa.update(corrections_table)
            .where(c.id == correction_id, c.withdrawn_at.is_(None))
            .values(
                withdrawn_at=when or utcnow(),
                withdrawn_by=by,
                withdrawn_by_key=key_id,
                withdraw_reason=reason,
            )
        )
        with translated("withdraw a correction"), self._engine.begin() as connection:
            changed = connection.execute(statement).rowcount
        found = self.get(correction_id)
        if found is None:
            return None
        if not changed:
            raise AlreadyWithdrawn(
                f"correction {correction_id} was withdrawn at {found.withdrawn_at:%Y-%m-%dT%H:%MZ} "
                f"by {found.withdrawn_by}"
            )
        return found


def _from_row(row: sa.RowMapping) -> Correction:
    fields: dict[str, Any] = dict(row)
    return Correction(**fields)
