"""The audit log of staff corrections in the metadata database, on a real SQLite file and a
fresh PostgreSQL database (``meta_url``): corrections are added and listed oldest first, never
edited or deleted, withdrawn once with a reason; bad ones are refused with a reason a person
can read, by the code and by the database's own constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from noiselab.model import Sensor
from noiselab.store.metadata import (
    AlreadyWithdrawn,
    Correction,
    MetadataStore,
    UnknownSensor,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def meta(meta_url: str):
    store = MetadataStore(meta_url)
    store.sensors.add([Sensor(id=sid, name=sid, source="road") for sid in ("kbm-25m", "hbm-50m")])
    yield store
    store.close()


def correction(**changes: Any) -> Correction:
    fields: dict[str, Any] = {
        "sensor_id": "kbm-25m",
        "start": T0,
        "end": T0 + HOUR,
        "kind": "exclude",
        "reason": "Grass cutting beside the microphone",
        "created_by": "kommune",
        "created_by_key": "82442cd1443e838b",
        "created_at": T0 + 2 * HOUR,
    }
    return Correction(**(fields | changes))


def test_a_correction_round_trips_with_its_id(meta: MetadataStore) -> None:
    made = meta.corrections.add(correction(kind="offset", offset_db=-1.6))
    assert made.id is not None
    assert meta.corrections.get(made.id) == made
    assert made.active
    assert (made.start, made.end, made.offset_db) == (T0, T0 + HOUR, -1.6)
    assert made.created_at == T0 + 2 * HOUR
    assert meta.corrections.get(made.id + 1000) is None


def test_the_audit_log_lists_oldest_first_with_filters_and_pages(meta: MetadataStore) -> None:
    """Ids in creation order; sensor filter; a range filter keeps the overlapping ones
    (half-open: one ending at the filter's start is out); pages follow ``after_id``."""
    a = meta.corrections.add(correction())
    b = meta.corrections.add(correction(sensor_id="hbm-50m"))
    c = meta.corrections.add(correction(start=T0 + 2 * HOUR, end=T0 + 3 * HOUR))
    assert [x.id for x in meta.corrections.find()] == [a.id, b.id, c.id]
    assert [x.id for x in meta.corrections.find(sensor_ids=["kbm-25m"])] == [a.id, c.id]
    assert [x.id for x in meta.corrections.find(start=T0 + HOUR)] == [c.id]
    assert [x.id for x in meta.corrections.find(end=T0 + HOUR + MIN)] == [a.id, b.id]
    first = meta.corrections.find(limit=2)
    assert [x.id for x in first] == [a.id, b.id]
    assert [x.id for x in meta.corrections.find(after_id=first[-1].id)] == [c.id]


def test_a_withdrawal_keeps_the_row_and_happens_once(meta: MetadataStore) -> None:
    made = meta.corrections.add(correction())
    assert made.id is not None
    when = T0 + 5 * HOUR
    gone = meta.corrections.withdraw(
        made.id, by="ops", key_id="0123456789abcdef", reason="wrong sensor", when=when
    )
    assert gone is not None
    assert not gone.active
    assert (gone.withdrawn_at, gone.withdrawn_by, gone.withdrawn_by_key) == (
        when,
        "ops",
        "0123456789abcdef",
    )
    assert (gone.reason, gone.withdraw_reason) == (made.reason, "wrong sensor")
    with pytest.raises(AlreadyWithdrawn, match="withdrawn at 2026-03-02T13:00Z by ops"):
        meta.corrections.withdraw(made.id, by="someone", reason="again")
    assert meta.corrections.get(made.id) == gone  # the first withdrawal stays as it was
    assert meta.corrections.find() == [gone]  # nothing disappears from the log
    assert meta.corrections.find(include_withdrawn=False) == []
    assert meta.corrections.active("kbm-25m") == []
    assert meta.corrections.withdraw(made.id + 1000, by="ops", reason="x") is None
    with pytest.raises(ValueError, match="reason"):
        meta.corrections.withdraw(made.id, by="ops", reason="  ")


def test_active_corrections_of_a_sensor(meta: MetadataStore) -> None:
    a = meta.corrections.add(correction())
    b = meta.corrections.add(correction(kind="offset", offset_db=2.0))
    meta.corrections.add(correction(sensor_id="hbm-50m"))
    assert b.id is not None
    meta.corrections.withdraw(b.id, by="ops", reason="not needed")
    assert meta.corrections.active("kbm-25m") == [a]


def test_a_trials_corrections_are_those_overlapping_its_sensors_and_periods(
    meta: MetadataStore,
) -> None:
    """Periods [T0, T0+1d) and [T0+2d, T0+3d): a correction in the gap between them or of
    another sensor is not the trial's; a withdrawn one is (the report cites it)."""
    day = timedelta(days=1)
    periods = [(T0, T0 + day), (T0 + 2 * day, T0 + 3 * day)]
    inside = meta.corrections.add(correction(start=T0 + day - MIN, end=T0 + day + HOUR))
    meta.corrections.add(correction(start=T0 + day, end=T0 + 2 * day))  # the gap
    other = meta.corrections.add(correction(sensor_id="hbm-50m"))
    after = meta.corrections.add(correction(start=T0 + 3 * day - MIN, end=T0 + 4 * day))
    assert after.id is not None
    withdrawn = meta.corrections.withdraw(after.id, by="ops", reason="typo")
    assert meta.corrections.overlapping(["kbm-25m"], periods) == [inside, withdrawn]
    assert meta.corrections.overlapping(["kbm-25m", "hbm-50m"], periods) == [
        inside,
        other,
        withdrawn,
    ]
    assert meta.corrections.overlapping([], periods) == []


def test_an_unknown_sensor_is_refused_and_nothing_is_stored(meta: MetadataStore) -> None:
    with pytest.raises(UnknownSensor, match="unknown sensor 'vb-nowhere'"):
        meta.corrections.add(correction(sensor_id="vb-nowhere"))
    assert meta.corrections.find() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": T0 + timedelta(seconds=30)}, "start: .* must be on a whole minute"),
        ({"end": T0 + HOUR + timedelta(milliseconds=1)}, "end: .* must be on a whole minute"),
        ({"end": T0}, "start: must be before end"),
        ({"start": T0.replace(tzinfo=None)}, "start: must be timezone-aware"),
        ({"kind": "offset"}, "offset_db: an offset correction needs"),
        ({"kind": "offset", "offset_db": 20.5}, r"within ±20 dB"),
        ({"kind": "offset", "offset_db": 0.0}, "non-zero"),
        ({"kind": "offset", "offset_db": float("nan")}, "non-zero number"),
        ({"offset_db": 1.0}, "an exclusion takes no offset"),
        ({"kind": "shift"}, "kind"),
        ({"reason": "   "}, "reason: must be 1-2000 characters"),
        ({"reason": "x" * 2001}, "reason: must be 1-2000 characters"),
        ({"created_by": ""}, "created_by"),
        ({"sensor_id": "Bad Id"}, "sensor_id"),
        ({"end": datetime(2100, 1, 1, 0, 1, tzinfo=UTC)}, "1970-01-01..2100-01-01"),
    ],
)
def test_bad_corrections_are_refused_with_a_reason(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        correction(**changes)


@pytest.mark.parametrize(
    ("kind", "offset_db", "start", "end"),
    [
        ("shift", None, T0, T0 + HOUR),  # ck_corrections_kind
        ("exclude", 3.0, T0, T0 + HOUR),  # ck_corrections_offset
        ("offset", None, T0, T0 + HOUR),  # ck_corrections_offset
        ("exclude", None, T0 + HOUR, T0),  # ck_corrections_range
    ],
)
def test_the_database_refuses_what_the_code_refuses(
    meta: MetadataStore, kind: str, offset_db: float | None, start: datetime, end: datetime
) -> None:
    """The table's CHECK constraints hold even for a writer that bypasses the repository."""
    table = sa.table(
        "corrections",
        *(
            sa.column(name)
            for name in (
                "sensor_id",
                "start",
                "end",
                "kind",
                "offset_db",
                "reason",
                "created_by",
                "created_at",
            )
        ),
    )
    row = {
        "sensor_id": "kbm-25m",
        "start": start.replace(tzinfo=None),
        "end": end.replace(tzinfo=None),
        "kind": kind,
        "offset_db": offset_db,
        "reason": "r",
        "created_by": "x",
        "created_at": T0.replace(tzinfo=None),
    }
    with meta.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.execute(sa.insert(table).values(row))
