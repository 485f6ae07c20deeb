"""Vendor trials of noise-reduction products, in the metadata database.

A trial names a vendor (the ``name`` of that vendor's API keys), the treated sensors (behind the
product) and the control sensors (same kind of source, not affected), a *before* and an *after*
period, optionally the local hours of day to evaluate, and a description of the product. The
evaluation (:mod:`noiselab.analysis.trial`) compares the two periods BACI-style.

Periods are half-open ``[start, end)`` aware UTC instants on whole hours (the evaluation works on
hourly LAeq,1h), at most :data:`MAX_PHASE_DAYS` long; *before* ends no later than *after* starts.
Sensor lists are stored as JSON arrays (portable SQL: SQLite now, PostgreSQL later).

Usage::

    trial = meta.trials.create(Trial(id=new_trial_id(), name="Blade barrier", vendor="acme", ...))
    meta.trials.vendor_sensors("acme")  # the sensors a vendor key named "acme" may see
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import msgspec
import sqlalchemy as sa

from noiselab.model import MAX_NAME_LENGTH, SENSOR_ID_PATTERN, utcnow
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.sensors import SensorRepository
from noiselab.store.metadata.tables import trials_table

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_PHASE_DAYS",
    "MAX_SENSORS",
    "Trial",
    "TrialRepository",
    "UnknownSensors",
    "new_trial_id",
]

MAX_PHASE_DAYS = 366
"""Longest before or after period, days (bounds the cost of an evaluation)."""
MAX_SENSORS = 20
"""Most sensors on each side (treated, control) of a trial."""
MAX_DESCRIPTION_LENGTH = 10_000
"""Longest product description, characters."""


def new_trial_id() -> str:
    """A fresh trial id: ``tr-`` and 12 random hex digits."""
    return f"tr-{secrets.token_hex(6)}"


class Trial(msgspec.Struct, frozen=True, kw_only=True):
    """One trial. Times are aware UTC; ``hours`` are local hours of day (0..23, Europe/
    Copenhagen by default) whose hourly levels enter the evaluation, empty for all.

    Invalid values raise ``ValueError`` with a message a person can read.
    """

    id: str
    name: str
    vendor: str
    treated: tuple[str, ...]
    control: tuple[str, ...]
    before_start: datetime
    before_end: datetime
    after_start: datetime
    after_end: datetime
    hours: tuple[int, ...] = ()
    description: str = ""
    created: datetime = msgspec.field(default_factory=utcnow)
    updated: datetime = msgspec.field(default_factory=utcnow)

    def __post_init__(self) -> None:
        for field, value in (("name", self.name), ("vendor", self.vendor)):
            if not value.strip() or len(value) > MAX_NAME_LENGTH:
                raise ValueError(f"{field} must be 1-{MAX_NAME_LENGTH} characters")
        if len(self.description) > MAX_DESCRIPTION_LENGTH:
            raise ValueError(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters")
        _check_sensors("treated", self.treated)
        _check_sensors("control", self.control)
        both = sorted(set(self.treated) & set(self.control))
        if both:
            raise ValueError(f"sensors cannot be both treated and control: {', '.join(both)}")
        _check_period("before", self.before_start, self.before_end)
        _check_period("after", self.after_start, self.after_end)
        if self.before_end > self.after_start:
            raise ValueError(
                f"before must end no later than after starts ({self.before_end.isoformat()} > "
                f"{self.after_start.isoformat()})"
            )
        if len(set(self.hours)) != len(self.hours):
            raise ValueError("hours: each hour of day at most once")
        for hour in self.hours:
            if isinstance(hour, bool) or not 0 <= hour <= 23:
                raise ValueError(f"hours: {hour!r} is not an hour of day 0..23")

    @property
    def sensors(self) -> tuple[str, ...]:
        """Treated then control sensor ids."""
        return self.treated + self.control


class UnknownSensors(ValueError):  # noqa: N818 - reads as what was found
    """A trial names sensors that are not registered (``ids``, sorted)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = tuple(ids)
        super().__init__(f"unknown sensors: {', '.join(self.ids)}")


def _check_sensors(side: str, ids: tuple[str, ...]) -> None:
    if not ids:
        raise ValueError(f"{side}: at least one sensor is needed")
    if len(ids) > MAX_SENSORS:
        raise ValueError(f"{side}: at most {MAX_SENSORS} sensors")
    if len(set(ids)) != len(ids):
        raise ValueError(f"{side}: a sensor is listed twice")
    for sensor_id in ids:
        if not SENSOR_ID_PATTERN.fullmatch(sensor_id):
            raise ValueError(f"{side}: {sensor_id!r} is not a sensor id")


def _check_period(phase: str, start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"{phase}: start and end must be timezone-aware")
    if not start < end:
        raise ValueError(f"{phase}: start must be before end")
    if end - start > timedelta(days=MAX_PHASE_DAYS):
        raise ValueError(f"{phase}: at most {MAX_PHASE_DAYS} days long")
    for name, instant in (("start", start), ("end", end)):
        if instant.timestamp() % 3600 != 0:
            raise ValueError(
                f"{phase}: {name} {instant.isoformat()} must be on a whole hour "
                "(the evaluation uses hourly levels)"
            )


class _Registry(Database, Protocol):
    """What trials use of the metadata store: its database and its sensor registry."""

    @property
    def sensors(self) -> SensorRepository:
        """The registered sensors, which a trial's sensors must be."""
        ...


class TrialRepository:
    """Trials in the metadata database of ``meta``; each method is one transaction."""

    def __init__(self, meta: _Registry) -> None:
        self._meta = meta
        self._engine = meta.engine

    def create(self, trial: Trial) -> Trial:
        """Store a new trial. Unregistered sensors raise :class:`UnknownSensors`; an id that
        exists raises ``StoreError``."""
        self._check_known(trial)
        with translated("add a trial"), self._engine.begin() as connection:
            connection.execute(sa.insert(trials_table), [_to_row(trial)])
        return trial

    def get(self, trial_id: str) -> Trial | None:
        """The trial ``trial_id``, or ``None``."""
        query = sa.select(trials_table).where(trials_table.c.id == trial_id)
        with translated("read a trial"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _from_row(row)

    def all(self, vendor: str | None = None) -> list[Trial]:
        """All trials, or those of ``vendor``, newest first."""
        query = sa.select(trials_table).order_by(trials_table.c.created.desc(), trials_table.c.id)
        if vendor is not None:
            query = query.where(trials_table.c.vendor == vendor)
        with translated("list trials"), self._engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query).mappings()]

    def replace(self, trial: Trial) -> Trial | None:
        """Overwrite the stored trial of ``trial.id`` (keeping its ``created``); ``None`` when
        there is none. Unregistered sensors raise :class:`UnknownSensors`."""
        self._check_known(trial)
        row = _to_row(trial)
        del row["id"], row["created"]
        statement = sa.update(trials_table).where(trials_table.c.id == trial.id).values(**row)
        with translated("update a trial"), self._engine.begin() as connection:
            if connection.execute(statement).rowcount == 0:
                return None
        return self.get(trial.id)

    def delete(self, trial_id: str) -> bool:
        """Delete the trial; return whether it existed."""
        statement = sa.delete(trials_table).where(trials_table.c.id == trial_id)
        with translated("delete a trial"), self._engine.begin() as connection:
            return bool(connection.execute(statement).rowcount)

    def vendor_sensors(self, vendor: str) -> frozenset[str]:
        """The treated and control sensors of ``vendor``'s trials (one indexed query)."""
        query = sa.select(trials_table.c.treated, trials_table.c.control).where(
            trials_table.c.vendor == vendor
        )
        with translated("read a vendor's trial sensors"), self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return frozenset(sid for row in rows for column in row for sid in json.loads(column))

    def _check_known(self, trial: Trial) -> None:
        missing = sorted(set(trial.sensors) - self._meta.sensors.ids())
        if missing:
            raise UnknownSensors(missing)


def _to_row(trial: Trial) -> dict[str, Any]:
    row = msgspec.structs.asdict(trial)
    for column in ("treated", "control", "hours"):
        row[column] = json.dumps(list(row[column]))
    return row


def _from_row(row: sa.RowMapping) -> Trial:
    fields = dict(row)
    fields["treated"] = tuple(json.loads(fields["treated"]))
    fields["control"] = tuple(json.loads(fields["control"]))
    fields["hours"] = tuple(json.loads(fields["hours"]))
    return Trial(**fields)
