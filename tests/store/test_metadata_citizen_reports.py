"""Citizens' reports in the metadata database, on a real SQLite file and a fresh PostgreSQL
database (``meta_url``): added and listed in arrival order with filters, marked handled once
with who and a note; bad ones refused by the code and by the database's own constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from noiselab.store.metadata import AlreadyHandled, CitizenReport, MetadataStore

T0 = datetime(2026, 3, 2, 6, 40, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def meta(meta_url: str):
    store = MetadataStore(meta_url)
    yield store
    store.close()


def report(**changes: Any) -> CitizenReport:
    fields: dict[str, Any] = {
        "ts": T0,
        "received_at": T0 + timedelta(minutes=2),
        "lat": 55.6283,
        "lon": 12.3866,
        "category": "road",
        "text": "Meget larm fra motorvejen, <b>lastbiler</b> & tog",
    }
    return CitizenReport(**(fields | changes))


def test_a_report_round_trips_with_its_id_and_text_unchanged(meta: MetadataStore) -> None:
    made = meta.citizen_reports.add(report())
    assert made.id is not None
    assert meta.citizen_reports.get(made.id) == made
    assert made.status == "new"
    assert made.text == "Meget larm fra motorvejen, <b>lastbiler</b> & tog"
    assert (made.ts, made.received_at) == (T0, T0 + timedelta(minutes=2))
    assert meta.citizen_reports.get(made.id + 1000) is None
    no_text = meta.citizen_reports.add(report(text=None, category="other"))
    assert no_text.text is None


def test_add_ignores_a_given_id_and_handling(meta: MetadataStore) -> None:
    made = meta.citizen_reports.add(
        report(id=99, status="handled", handled_at=T0, handled_by="x", handling_note="y")
    )
    assert (made.status, made.handled_at, made.handled_by, made.handling_note) == (
        "new",
        None,
        None,
        None,
    )
    assert made.id != 99 or meta.citizen_reports.get(99) == made


def test_find_filters_by_time_and_status_and_pages(meta: MetadataStore) -> None:
    """Arrival order; [start, end) on when it was loud; status; pages after an id."""
    a = meta.citizen_reports.add(report())
    b = meta.citizen_reports.add(report(ts=T0 + 2 * HOUR, category="rail"))
    c = meta.citizen_reports.add(report(ts=T0 - HOUR))
    assert b.id is not None
    meta.citizen_reports.handle(b.id, by="kommune", note="checked")
    ids = lambda found: [r.id for r in found]  # noqa: E731
    assert ids(meta.citizen_reports.find()) == [a.id, b.id, c.id]
    assert ids(meta.citizen_reports.find(start=T0)) == [a.id, b.id]
    assert ids(meta.citizen_reports.find(end=T0)) == [c.id]
    assert ids(meta.citizen_reports.find(start=T0, end=T0 + 2 * HOUR)) == [a.id]
    assert ids(meta.citizen_reports.find(status="handled")) == [b.id]
    assert ids(meta.citizen_reports.find(status="new")) == [a.id, c.id]
    first = meta.citizen_reports.find(limit=2)
    assert ids(meta.citizen_reports.find(after_id=first[-1].id)) == [c.id]


def test_a_report_is_handled_once(meta: MetadataStore) -> None:
    made = meta.citizen_reports.add(report())
    assert made.id is not None
    when = T0 + 5 * HOUR
    done = meta.citizen_reports.handle(
        made.id, by="kommune", note="Asked the road authority.", when=when
    )
    assert done is not None
    assert (done.status, done.handled_at, done.handled_by, done.handling_note) == (
        "handled",
        when,
        "kommune",
        "Asked the road authority.",
    )
    with pytest.raises(AlreadyHandled, match=rf"report {made.id} was handled at .* by kommune"):
        meta.citizen_reports.handle(made.id, by="other", note="again")
    assert meta.citizen_reports.get(made.id) == done  # left as it was
    assert meta.citizen_reports.handle(made.id + 1000, by="kommune", note="x") is None


@pytest.mark.parametrize(
    ("by", "note", "says"),
    [
        (" ", "checked", "handled_by: must be 1-200 characters"),
        ("kommune", "", "note: must be 1-500 characters"),
        ("kommune", "n" * 501, "note: must be 1-500 characters"),
        ("kommune", "bell\x07", "note: must not hold control characters"),
    ],
)
def test_a_bad_handling_is_refused(meta: MetadataStore, by: str, note: str, says: str) -> None:
    made = meta.citizen_reports.add(report())
    assert made.id is not None
    with pytest.raises(ValueError, match=says):
        meta.citizen_reports.handle(made.id, by=by, note=note)
    assert meta.citizen_reports.get(made.id) == made


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"category": "fireworks"}, "category"),
        ({"lat": 91.0}, "lat"),
        ({"lon": float("nan")}, "lon"),
        ({"text": "t" * 501}, "text: must be 1-500"),
        ({"text": "  "}, "text: must be 1-500"),
        ({"text": "nul\x00"}, "control characters"),
        ({"ts": datetime(2026, 3, 2, 6, 40)}, "timezone-aware"),
        ({"status": "handled"}, "needs its time, who and a note"),
        ({"handled_by": "kommune"}, "a new report has no handling"),
    ],
)
def test_a_malformed_report_is_refused(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        report(**changes)


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"category": "loud"}, "category"),
        ({"status": "gone"}, "status"),
        ({"status": "handled"}, "handled"),  # handled without who and when
        ({"handled_by": "kommune"}, "handled"),  # new with a handler
    ],
)
def test_the_database_refuses_what_the_code_would(
    meta: MetadataStore, values: dict[str, Any], constraint: str
) -> None:
    """Written past the repository: the table's own CHECK constraints refuse it."""
    row = {
        "ts": T0,
        "received_at": T0,
        "lat": 55.63,
        "lon": 12.38,
        "category": "road",
        "status": "new",
    } | values
    table = sa.Table("citizen_reports", sa.MetaData(), autoload_with=meta.engine)
    with pytest.raises(sa.exc.IntegrityError, match=constraint), meta.engine.begin() as c:
        c.execute(
            sa.insert(table),
            [{**row, "ts": T0.replace(tzinfo=None), "received_at": T0.replace(tzinfo=None)}],
        )
