"""The calibration log in the metadata database, on a real SQLite file and a fresh PostgreSQL
database (``meta_url``): entries are logged and read in the order they were done, never edited
or deleted, withdrawn once with a reason; a re-delivered tone check is stored once and a
differing one for a logged instant is refused with both values; bad entries are refused with a
reason a person can read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from noiselab.model import Sensor
from noiselab.store.metadata import (
    Calibration,
    CalibrationWithdrawn,
    MetadataStore,
    ToneCheckConflict,
    UnknownCalibrationSensor,
)

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def meta(meta_url: str):
    store = MetadataStore(meta_url)
    store.sensors.add([Sensor(id=sid, name=sid, source="background") for sid in ("bg-a", "bg-b")])
    yield store
    store.close()


def field(**changes: Any) -> Calibration:
    fields: dict[str, Any] = {
        "sensor_id": "bg-a",
        "ts": T0,
        "kind": "field",
        "reference_db": 94.0,
        "before_db": 94.6,
        "after_db": 94.0,
        "by": "J. Hansen",
        "note": "Brüel & Kjær 4231, serial 2712",
        "created_at": T0 + DAY,
    }
    return Calibration(**(fields | changes))


def tone(ts: datetime, measured: float, sensor_id: str = "bg-a") -> Calibration:
    return Calibration(
        sensor_id=sensor_id,
        ts=ts,
        kind="tone",
        reference_db=94.0,
        before_db=measured,
        by="tone check",
        created_at=ts,
    )


def test_an_entry_round_trips_with_its_id(meta: MetadataStore) -> None:
    made = meta.calibrations.add(field())
    assert made is not None
    assert made.id is not None
    assert meta.calibrations.get(made.id) == made
    assert made.active
    assert (made.ts, made.before_db, made.after_db, made.by) == (T0, 94.6, 94.0, "J. Hansen")
    assert meta.calibrations.get(made.id + 1000) is None


def test_history_is_in_the_order_done_per_sensor_with_bounds_and_latest(
    meta: MetadataStore,
) -> None:
    """Logged out of order (a field visit entered a week late): read back by ``ts``."""
    meta.calibrations.add(tone(T0 + 2 * DAY, 94.2))
    meta.calibrations.add(field(ts=T0))
    meta.calibrations.add(tone(T0 + DAY, 94.1))
    meta.calibrations.add(tone(T0 + DAY, 95.0, sensor_id="bg-b"))
    times = [c.ts for c in meta.calibrations.history("bg-a")]
    assert times == [T0, T0 + DAY, T0 + 2 * DAY]
    assert [c.ts for c in meta.calibrations.history("bg-a", start=T0 + DAY)] == [
        T0 + DAY,
        T0 + 2 * DAY,
    ]
    assert [c.ts for c in meta.calibrations.history("bg-a", end=T0 + DAY)] == [T0]
    assert [c.ts for c in meta.calibrations.history("bg-a", limit=2)] == [T0 + DAY, T0 + 2 * DAY]
    assert [c.sensor_id for c in meta.calibrations.history("bg-b")] == ["bg-b"]


def test_around_gives_the_entries_that_bound_a_range(meta: MetadataStore) -> None:
    """Entries on days 0, 2, 4, 6; the range [day 3, day 5) is bounded by days 2 and 6 and
    holds day 4. A withdrawn one (day 5) does not count."""
    for day in (0, 2, 4, 6):
        meta.calibrations.add(tone(T0 + day * DAY, 94.0))
    mistaken = meta.calibrations.add(field(ts=T0 + 5 * DAY))
    assert mistaken is not None
    assert mistaken.id is not None
    meta.calibrations.withdraw(mistaken.id, by="kommune", reason="wrong sensor")
    found = meta.calibrations.around("bg-a", T0 + 3 * DAY, T0 + 5 * DAY)
    assert [c.ts for c in found] == [T0 + 2 * DAY, T0 + 4 * DAY, T0 + 6 * DAY]


def test_a_repeated_tone_check_is_stored_once(meta: MetadataStore) -> None:
    """Same sensor, instant and levels (logged later): stored once; the same instant on another
    sensor, or a field calibration at that instant, is its own entry."""
    assert meta.calibrations.add(tone(T0, 94.1)) is not None
    again = msgspec.structs.replace(tone(T0, 94.1), created_at=T0 + DAY)
    assert meta.calibrations.add(again) is None
    assert meta.calibrations.add(tone(T0, 94.1, sensor_id="bg-b")) is not None
    assert meta.calibrations.add(field(ts=T0)) is not None
    assert meta.calibrations.add(field(ts=T0)) is not None  # two visits are two entries
    assert [c.before_db for c in meta.calibrations.history("bg-a")] == [94.1, 94.6, 94.6]


def test_a_differing_tone_check_at_a_logged_instant_is_refused_with_both_values(
    meta: MetadataStore,
) -> None:
    """History is immutable: 94.3 dB offered where 94.1 dB is logged for bg-a at 02:00:00Z is
    refused with both values and the log keeps 94.1; so is a check 0.4 ms later (the same
    millisecond key, round(0.4) = 0) and one with another reference level."""
    meta.calibrations.add(tone(T0, 94.1))
    with pytest.raises(ToneCheckConflict) as refused:
        meta.calibrations.add(tone(T0, 94.3))
    assert (
        refused.value.detail() == "at 2026-11-02T02:00:00Z: measured_db stored 94.1, offered 94.3"
    )
    assert str(refused.value) == f"tone check of 'bg-a' {refused.value.detail()}"
    later = tone(T0 + timedelta(microseconds=400), 94.1)
    with pytest.raises(ToneCheckConflict, match=r"ts stored 2026-11-02T02:00:00Z, offered "):
        meta.calibrations.add(later)
    louder = msgspec.structs.replace(tone(T0, 94.1), reference_db=114.0)
    with pytest.raises(ToneCheckConflict, match=r": reference_db stored 94.0, offered 114.0$"):
        meta.calibrations.add(louder)
    [kept] = meta.calibrations.history("bg-a")
    assert (kept.ts, kept.reference_db, kept.before_db) == (T0, 94.0, 94.1)


def test_a_withdrawal_keeps_the_row_and_happens_once(meta: MetadataStore) -> None:
    made = meta.calibrations.add(field())
    assert made is not None
    assert made.id is not None
    when = T0 + 3 * DAY
    gone = meta.calibrations.withdraw(
        made.id, by="kommune", reason="typed 94.6 for 94.06", when=when
    )
    assert gone is not None
    assert not gone.active
    assert (gone.withdrawn_at, gone.withdrawn_by, gone.withdraw_reason) == (
        when,
        "kommune",
        "typed 94.6 for 94.06",
    )
    assert (gone.before_db, gone.by) == (94.6, "J. Hansen")  # the entry itself unchanged
    with pytest.raises(CalibrationWithdrawn, match="was withdrawn"):
        meta.calibrations.withdraw(made.id, by="other", reason="again")
    assert meta.calibrations.get(made.id) == gone
    assert meta.calibrations.history("bg-a", include_withdrawn=False) == []
    assert meta.calibrations.withdraw(made.id + 1000, by="x", reason="y") is None
    with pytest.raises(ValueError, match="reason"):
        meta.calibrations.withdraw(made.id, by="x", reason=" ")


def test_an_unknown_sensor_is_refused(meta: MetadataStore) -> None:
    with pytest.raises(UnknownCalibrationSensor, match="unknown sensor 'bg-nowhere'"):
        meta.calibrations.add(field(sensor_id="bg-nowhere"))
    assert meta.calibrations.history("bg-nowhere") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sensor_id": "Not An Id"}, "sensor_id"),
        ({"ts": datetime(2026, 11, 2)}, "timezone-aware"),
        ({"ts": datetime(1999, 12, 31, tzinfo=UTC)}, "ts: must lie within"),
        ({"kind": "guess"}, "kind"),
        ({"reference_db": float("nan")}, "reference_db: must be between 0 and 160"),
        ({"before_db": 171.0}, "before_db: must be between 0 and 160 dB, got 171.0"),
        ({"after_db": -1.0}, "after_db"),
        ({"before_db": True}, "before_db: must be a number"),
        ({"by": "  "}, "by: must be 1-100"),
        ({"by": "x" * 101}, "by: must be 1-100"),
        ({"note": "x" * 501}, "note: must be at most 500"),
        ({"note": "a\x00b"}, "NUL"),
        ({"kind": "tone", "after_db": 94.0}, "a tone check adjusts nothing"),
    ],
)
def test_bad_entries_are_refused_with_the_field_named(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        field(**changes)
