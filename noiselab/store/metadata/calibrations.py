"""The calibration log of each sensor, in the metadata database.

One row per calibration: a field calibration (``kind="field"``: a person plays a calibrator's
reference level into the microphone, notes what the sensor reads before adjusting it and,
when adjusted, after) or a calibrator-tone check the sensor reports itself (``kind="tone"``,
``by="tone check"``: nothing is adjusted, so ``after_db`` is ``None``). Levels in dB re 20 µPa;
``ts`` is when it was done (aware UTC), ``created_at`` when it was logged. What the entries
mean (deviation, drift, calibration uncertain) is :mod:`noiselab.analysis.calibration`.

The log is append-only: nothing here edits or deletes an entry. A mistaken entry can be
*withdrawn*, once, with a reason, by whom and when; its row keeps both and it no longer counts.
A tone check is keyed by sensor and millisecond, and history is immutable as for readings: a
re-delivered one (the same instant and levels) is stored once, and one that differs from the
stored check is refused as a :class:`ToneCheckConflict` naming both values (the first stands).

Usage::

    meta.calibrations.add(Calibration(sensor_id="bg-vallensbaek-mose", ts=..., kind="field",
                                      reference_db=94.0, before_db=94.6, after_db=94.0,
                                      by="J. Hansen"))
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa

from noiselab.errors import NoiselabError
from noiselab.model import MAX_NAME_LENGTH, SENSOR_ID_PATTERN, rfc3339, utcnow
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import calibrations_table, sensors_table

__all__ = [
    "MAX_BY_LENGTH",
    "MAX_NOTE_LENGTH",
    "TONE_CHECK_BY",
    "Calibration",
    "CalibrationKind",
    "CalibrationRepository",
    "CalibrationWithdrawn",
    "ToneCheckConflict",
    "UnknownCalibrationSensor",
    "tone_differences",
]

CalibrationKind = Literal["field", "tone"]
"""``field``: a calibration by a person on site; ``tone``: the sensor's own calibrator-tone
check."""
MAX_BY_LENGTH = 100
"""Longest ``by`` (who calibrated), characters."""
MAX_NOTE_LENGTH = 500
"""Longest note, characters."""
MAX_WITHDRAW_REASON = 2000
"""Longest reason of a withdrawal, characters."""
TONE_CHECK_BY = "tone check"
"""The ``by`` of every automatic tone check."""
MIN_LEVEL_DB, MAX_LEVEL_DB = 0.0, 160.0
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class CalibrationWithdrawn(NoiselabError):  # noqa: N818 - reads as the state of the entry
    """A calibration was withdrawn before; it stays as it was."""


class UnknownCalibrationSensor(ValueError):  # noqa: N818 - reads as what was found
    """A calibration names a sensor that is not registered."""


class Calibration(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the log (module docstring). ``id`` is ``None`` until stored;
    ``created_by_key`` the API key's id when one was used. Invalid values raise ``ValueError``
    with a message a person can read."""

    sensor_id: str
    ts: datetime
    kind: CalibrationKind
    reference_db: float
    before_db: float
    after_db: float | None = None
    by: str
    note: str = ""
    created_by_key: str | None = None
    created_at: datetime = msgspec.field(default_factory=utcnow)
    id: int | None = None
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdraw_reason: str | None = None

    def __post_init__(self) -> None:
        if not SENSOR_ID_PATTERN.fullmatch(self.sensor_id):
            raise ValueError(f"sensor_id: {self.sensor_id[:70]!r} is not a sensor id")
        if self.ts.tzinfo is None:
            raise ValueError("ts: must be timezone-aware")
        if not EARLIEST <= self.ts < LATEST:
            raise ValueError("ts: must lie within 2000-01-01..2100-01-01")
        if self.kind not in ("field", "tone"):
            raise ValueError(f"kind: {self.kind!r} must be 'field' or 'tone'")
        _check_level("reference_db", self.reference_db)
        _check_level("before_db", self.before_db)
        if self.after_db is not None:
            if self.kind == "tone":
                raise ValueError("after_db: a tone check adjusts nothing")
            _check_level("after_db", self.after_db)
        _check_text("by", self.by, MAX_BY_LENGTH, blank=False)
        _check_text("note", self.note, MAX_NOTE_LENGTH, blank=True)

    @property
    def active(self) -> bool:
        """Whether it counts: not withdrawn."""
        return self.withdrawn_at is None


_TONE_FIELDS = (("ts", "ts"), ("reference_db", "reference_db"), ("measured_db", "before_db"))
"""What a tone check reports, as its message names it and as the entry keeps it."""


def tone_differences(stored: Calibration, offered: Calibration) -> list[tuple[str, str, str]]:
    """``(field, stored value, offered value)`` of every value two tone checks of one sensor
    and millisecond differ in, named as in the message (``measured_db`` is ``before_db``);
    empty for a re-delivery. Levels compare exactly (the database keeps the float it was
    given), ``ts`` to the microsecond; when it was logged does not count."""
    found: list[tuple[str, str, str]] = []
    for shown, name in _TONE_FIELDS:
        a, b = getattr(stored, name), getattr(offered, name)
        if a != b:
            found.append((shown, _shown(a), _shown(b)))
    return found


def _shown(value: object) -> str:
    return rfc3339(value) if isinstance(value, datetime) else repr(value)


class ToneCheckConflict(ValueError):  # noqa: N818 - reads as what was found
    """A tone check differs from the one stored for its sensor and instant: it is not
    logged, the stored one stands (``stored`` and ``offered``)."""

    def __init__(self, stored: Calibration, offered: Calibration) -> None:
        self.stored, self.offered = stored, offered
        super().__init__(f"tone check of {offered.sensor_id!r} {self.detail()}")

    def detail(self) -> str:
        """The instant and every differing value with both values, for the quarantine:
        ``at 2026-11-03T02:00:00Z: measured_db stored 95.1, offered 94.3``."""
        changes = "; ".join(
            f"{name} stored {stored}, offered {offered}"
            for name, stored, offered in tone_differences(self.stored, self.offered)
        )
        return f"at {rfc3339(self.stored.ts)}: {changes}"


def _check_level(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: must be a number of dB")
    if not (math.isfinite(value) and MIN_LEVEL_DB <= value <= MAX_LEVEL_DB):
        raise ValueError(f"{name}: must be between 0 and 160 dB, got {value!r}")


def _check_text(name: str, value: str, longest: int, *, blank: bool) -> None:
    if len(value) > longest or (not blank and not value.strip()):
        shape = f"at most {longest} characters" if blank else f"1-{longest} characters, not blank"
        raise ValueError(f"{name}: must be {shape}")
    if "\x00" in value:
        raise ValueError(f"{name}: must not contain NUL characters")


def _repeat_key(calibration: Calibration) -> str | None:
    if calibration.kind != "tone":
        return None
    return f"tone:{calibration.sensor_id}:{round(calibration.ts.timestamp() * 1000)}"


class CalibrationRepository:
    """The calibration log of a metadata database. Each method is one transaction, durable
    when it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._meta = meta
        self._engine = meta.engine

    def add(self, calibration: Calibration) -> Calibration | None:
        """Log a calibration (its ``id`` and any withdrawal are ignored); the stored entry with
        its ``id``, or ``None`` when it repeats a stored tone check (same sensor, instant and
        levels). A tone check that differs from the one stored for its sensor and instant
        raises :class:`ToneCheckConflict`, an unregistered sensor
        :class:`UnknownCalibrationSensor`; neither is logged."""
        row = msgspec.structs.asdict(calibration)
        for name in ("id", "withdrawn_at", "withdrawn_by", "withdraw_reason"):
            del row[name]
        row["repeat_key"] = _repeat_key(calibration)
        with translated("log a calibration"), self._engine.begin() as connection:
            registered = sa.select(sensors_table.c.id).where(
                sensors_table.c.id == calibration.sensor_id
            )
            if connection.execute(registered).first() is None:
                raise UnknownCalibrationSensor(
                    f"sensor_id: unknown sensor {calibration.sensor_id!r}"
                )
            found = self._insert_new(connection, row)
        if isinstance(found, Calibration):
            if tone_differences(found, calibration):
                raise ToneCheckConflict(found, calibration)
            return None
        return msgspec.structs.replace(
            calibration, id=found, withdrawn_at=None, withdrawn_by=None, withdraw_reason=None
        )

    def _insert_new(self, connection: sa.Connection, row: dict[str, Any]) -> int | Calibration:
        """Insert ``row``: its new id, or the stored entry whose ``repeat_key`` it repeats."""
        table = calibrations_table
        insert = self._meta.dialect_insert(table).on_conflict_do_nothing(
            index_elements=["repeat_key"]
        )
        new_id = connection.execute(insert.returning(table.c.id), [row]).scalar()
        if new_id is not None:
            return int(new_id)
        repeated = sa.select(table).where(table.c.repeat_key == row["repeat_key"])
        return _from_row(connection.execute(repeated).mappings().one())

    def get(self, calibration_id: int) -> Calibration | None:
        """The entry ``calibration_id``, or ``None``."""
        query = sa.select(calibrations_table).where(calibrations_table.c.id == calibration_id)
        with translated("read a calibration"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _from_row(row)

    def history(
        self,
        sensor_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        include_withdrawn: bool = True,
        limit: int | None = None,
    ) -> list[Calibration]:
        """The entries of ``sensor_id`` done in ``[start, end)`` (either bound open), in the
        order they were done (``ts``, then ``id``); withdrawn ones too unless
        ``include_withdrawn`` is false; the latest ``limit`` when given."""
        c = calibrations_table.c
        query = sa.select(calibrations_table).where(c.sensor_id == sensor_id)
        if start is not None:
            query = query.where(c.ts >= start)
        if end is not None:
            query = query.where(c.ts < end)
        if not include_withdrawn:
            query = query.where(c.withdrawn_at.is_(None))
        if limit is not None:
            query = query.order_by(c.ts.desc(), c.id.desc()).limit(limit)
        else:
            query = query.order_by(c.ts, c.id)
        with translated("read a sensor's calibrations"), self._engine.connect() as connection:
            found = [_from_row(row) for row in connection.execute(query).mappings()]
        return found[::-1] if limit is not None else found

    def around(self, sensor_id: str, start: datetime, end: datetime) -> list[Calibration]:
        """The active entries of ``sensor_id`` that bound the data of ``[start, end)``: those
        done inside it, plus the last one before ``start`` and the first one at or after
        ``end`` (the pairs whose interval overlaps the range), in time order."""
        c = calibrations_table.c
        active = sa.and_(c.sensor_id == sensor_id, c.withdrawn_at.is_(None))
        inside = sa.select(calibrations_table).where(active, c.ts >= start, c.ts < end)
        before = (
            sa.select(calibrations_table)
            .where(active, c.ts < start)
            .order_by(c.ts.desc(), c.id.desc())
            .limit(1)
        )
        after = (
            sa.select(calibrations_table).where(active, c.ts >= end).order_by(c.ts, c.id).limit(1)
        )
        rows: list[Calibration] = []
        with translated("read a sensor's calibrations"), self._engine.connect() as connection:
            for query in (before, inside.order_by(c.ts, c.id), after):
                rows.extend(_from_row(row) for row in connection.execute(query).mappings())
        return rows

    def withdraw(
        self, calibration_id: int, *, by: str, reason: str, when: datetime | None = None
    ) -> Calibration | None:
        """Withdraw an entry: it stops counting and keeps its row, now with ``by``, ``reason``
        and ``when`` (default now). ``None`` for an unknown id; an entry withdrawn before
        raises :class:`CalibrationWithdrawn`. A blank or too long ``by`` or ``reason`` raises
        ``ValueError``."""
        _check_text("withdrawn_by", by, MAX_NAME_LENGTH, blank=False)
        _check_text("reason", reason, MAX_WITHDRAW_REASON, blank=False)
        c = calibrations_table.c
        statement = (
            sa.update(calibrations_table)
            .where(c.id == calibration_id, c.withdrawn_at.is_(None))
            .values(withdrawn_at=when or utcnow(), withdrawn_by=by, withdraw_reason=reason)
        )
        with translated("withdraw a calibration"), self._engine.begin() as connection:
            changed = connection.execute(statement).rowcount
        found = self.get(calibration_id)
        if found is None:
            return None
        if not changed:
            raise CalibrationWithdrawn(
                f"calibration {calibration_id} was withdrawn at "
                f"{found.withdrawn_at:%Y-%m-%dT%H:%MZ} by {found.withdrawn_by}"
            )
        return found


def _from_row(row: sa.RowMapping) -> Calibration:
    fields: dict[str, Any] = dict(row)
    fields.pop("repeat_key")
    return Calibration(**fields)
