"""Citizens' noise reports in the metadata database: "it is loud here now", and their handling.

A report is what a citizen sent from the public map: when it was loud (``ts``), when it
arrived (``received_at``), the place picked on the map (``lat``, ``lon``, WGS 84 degrees), a
category (``road``, ``rail`` or ``other``) and an optional text of at most 500 characters. No
personal data is asked for or stored: no name, no contact, no address of the sender (the API's
rate limit keeps a salted hash of it in memory only). Staff mark a report ``handled`` once,
with who did it, when and a note; the row keeps both. Reports are never edited or deleted
otherwise.

Which reports are accepted (the time window, the area, how text is cleaned) is the intake's
decision (:mod:`noiselab.citizens.intake`); this module keeps any report whose fields are
well-formed.

Usage::

    stored = meta.citizen_reports.add(CitizenReport(ts=..., received_at=..., lat=55.63,
                                                    lon=12.38, category="road"))
    meta.citizen_reports.handle(stored.id, by="kommune", note="Asked the road authority.")
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any, Literal, get_args

import msgspec
import sqlalchemy as sa

from noiselab.errors import NoiselabError
from noiselab.model import MAX_NAME_LENGTH, utcnow
from noiselab.store.metadata.engine import Database, translated
from noiselab.store.metadata.tables import citizen_reports_table

__all__ = [
    "CATEGORIES",
    "MAX_NOTE_LENGTH",
    "MAX_TEXT_LENGTH",
    "REPORT_STATES",
    "AlreadyHandled",
    "CitizenReport",
    "CitizenReportRepository",
    "ReportCategory",
    "ReportState",
    "has_control_characters",
]

ReportCategory = Literal["road", "rail", "other"]
ReportState = Literal["new", "handled"]
CATEGORIES: tuple[str, ...] = get_args(ReportCategory)
"""What a citizen says is loud: road traffic, the railway, or something else."""
REPORT_STATES: tuple[str, ...] = get_args(ReportState)
MAX_TEXT_LENGTH = 500
"""Longest text of a report, characters."""
MAX_NOTE_LENGTH = 500
"""Longest handling note, characters."""


class AlreadyHandled(NoiselabError):  # noqa: N818 - reads as the state of the report
    """A report was marked handled before; it stays as it was."""


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control or format character other than a line break or tab
    (Unicode categories Cc, Cf, Cs, Co, Cn: NUL, escapes, bidirectional overrides...)."""
    return any(unicodedata.category(ch).startswith("C") and ch not in "\n\t" for ch in text)


class CitizenReport(msgspec.Struct, frozen=True, kw_only=True):
    """One report (module docstring). ``id`` is ``None`` until stored. Times are aware UTC.
    Invalid values raise ``ValueError`` with a message a person can read."""

    ts: datetime
    lat: float
    lon: float
    category: ReportCategory
    text: str | None = None
    received_at: datetime = msgspec.field(default_factory=utcnow)
    status: ReportState = "new"
    handled_at: datetime | None = None
    handled_by: str | None = None
    handling_note: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        for name, instant in (("ts", self.ts), ("received_at", self.received_at)):
            if instant.tzinfo is None:
                raise ValueError(f"{name}: must be timezone-aware")
        _check_position(self.lat, self.lon)
        if self.category not in CATEGORIES:
            raise ValueError(f"category: {self.category!r} must be one of road, rail, other")
        if self.text is not None:
            _check_text("text", self.text, MAX_TEXT_LENGTH)
        if self.status not in REPORT_STATES:
            raise ValueError(f"status: {self.status!r} must be new or handled")
        handled = (self.handled_at, self.handled_by, self.handling_note)
        if self.status == "new" and any(v is not None for v in handled):
            raise ValueError("a new report has no handling")
        if self.status == "handled" and any(v is None for v in handled):
            raise ValueError("a handled report needs its time, who and a note")
        if self.handled_by is not None:
            _check_name("handled_by", self.handled_by)
        if self.handling_note is not None:
            _check_text("note", self.handling_note, MAX_NOTE_LENGTH)


def _check_position(lat: float, lon: float) -> None:
    for name, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if isinstance(value, bool) or not math.isfinite(value) or abs(value) > limit:
            raise ValueError(f"{name}: {value!r} must be a number of degrees within ±{limit:g}")


def _check_text(name: str, value: str, longest: int) -> None:
    if not value.strip() or len(value) > longest:
        raise ValueError(f"{name}: must be 1-{longest} characters, not blank")
    if has_control_characters(value):
        raise ValueError(f"{name}: must not hold control characters")


def _check_name(name: str, value: str) -> None:
    if not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"{name}: must be 1-{MAX_NAME_LENGTH} characters, not blank")


class CitizenReportRepository:
    """The citizens' reports of a metadata database, in the order they arrived (by ``id``).
    Each method is one transaction, durable when it returns; thread-safe."""

    def __init__(self, meta: Database) -> None:
        self._engine = meta.engine

    def add(self, report: CitizenReport) -> CitizenReport:
        """Store a new report (its ``id`` and any handling are ignored: it is ``new``); the
        stored one, with its ``id``."""
        fresh = msgspec.structs.replace(
            report, status="new", handled_at=None, handled_by=None, handling_note=None, id=None
        )
        row = msgspec.structs.asdict(fresh)
        del row["id"]
        table = citizen_reports_table
        with translated("add a citizen's report"), self._engine.begin() as connection:
            new_id = connection.execute(sa.insert(table).returning(table.c.id), [row]).scalar_one()
        return msgspec.structs.replace(fresh, id=int(new_id))

    def get(self, report_id: int) -> CitizenReport | None:
        """The report ``report_id``, or ``None``."""
        query = sa.select(citizen_reports_table).where(citizen_reports_table.c.id == report_id)
        with translated("read a citizen's report"), self._engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _from_row(row)

    def find(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        status: ReportState | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[CitizenReport]:
        """Reports in arrival order (by ``id``, after ``after_id``), at most ``limit``: those
        loud at a time in ``[start, end)`` (either bound may be open) and, when given, of
        ``status``."""
        c = citizen_reports_table.c
        query = sa.select(citizen_reports_table).order_by(c.id).limit(limit)
        if start is not None:
            query = query.where(c.ts >= start)
        if end is not None:
            query = query.where(c.ts < end)
        if status is not None:
            query = query.where(c.status == status)
        if after_id is not None:
            query = query.where(c.id > after_id)
        with translated("list citizens' reports"), self._engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query).mappings()]

    def handle(
        self, report_id: int, *, by: str, note: str, when: datetime | None = None
    ) -> CitizenReport | None:
        """Mark a new report handled by ``by`` at ``when`` (default now) with ``note``.
        ``None`` for an unknown id; a report handled before raises :class:`AlreadyHandled`
        and is left as it was. A blank or too long ``by`` or ``note``, or one with control
        characters, raises ``ValueError``."""
        _check_name("handled_by", by)
        _check_text("note", note, MAX_NOTE_LENGTH)
        c = citizen_reports_table.c
        statement = (
            sa.update(citizen_reports_table)
            .where(c.id == report_id, c.status == "new")
            .values(
                status="handled", handled_at=when or utcnow(), handled_by=by, handling_note=note
            )
        )
        with translated("mark a citizen's report handled"), self._engine.begin() as connection:
            changed = connection.execute(statement).rowcount
        found = self.get(report_id)
        if found is None:
            return None
        if not changed:
            raise AlreadyHandled(
                f"report {report_id} was handled at {found.handled_at:%Y-%m-%dT%H:%MZ} "
                f"by {found.handled_by}"
            )
        return found


def _from_row(row: sa.RowMapping) -> CitizenReport:
    fields: dict[str, Any] = dict(row)
    return CitizenReport(**fields)
