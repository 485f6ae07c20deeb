"""The reports of a period and their counts, as the monthly report reads them, on a real
SQLite metadata file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from noiselab.citizens import review
from noiselab.citizens.review import ReportSummary, reports_of_period, summarise
from noiselab.store.metadata import CitizenReport, MetadataStore

MARCH = datetime(2026, 2, 28, 23, tzinfo=UTC)  # local midnight of 1 March (CET)
APRIL = datetime(2026, 3, 31, 22, tzinfo=UTC)  # local midnight of 1 April (CEST)


def report(ts: datetime, category: str = "road") -> CitizenReport:
    return CitizenReport(ts=ts, received_at=ts, lat=55.63, lon=12.38, category=category)  # type: ignore[arg-type]


@pytest.fixture
def meta(tmp_path: Path):
    with MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}") as opened:
        yield opened


def test_the_period_is_half_open_on_the_time_it_was_loud(meta: MetadataStore) -> None:
    """First instant of March in; the instant April starts out; a report received in April
    about March in."""
    kept = [
        meta.citizen_reports.add(report(MARCH)),
        meta.citizen_reports.add(report(APRIL - timedelta(seconds=1), "rail")),
    ]
    meta.citizen_reports.add(report(APRIL))
    meta.citizen_reports.add(report(MARCH - timedelta(seconds=1)))
    assert reports_of_period(meta, MARCH, APRIL) == kept
    with pytest.raises(ValueError, match="before end"):
        reports_of_period(meta, APRIL, MARCH)


def test_every_page_is_read(meta: MetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """With pages of 2, five reports take three queries and all come back in arrival order."""
    monkeypatch.setattr(review, "PAGE", 2)
    made = [meta.citizen_reports.add(report(MARCH + timedelta(hours=i))) for i in range(5)]
    assert [r.id for r in reports_of_period(meta, MARCH, APRIL)] == [r.id for r in made]


def test_summarise_counts_by_category_and_status(meta: MetadataStore) -> None:
    """3 road (one handled), 1 rail, 0 other: every key present."""
    made = [
        meta.citizen_reports.add(report(MARCH + timedelta(hours=i), category))
        for i, category in enumerate(["road", "road", "rail", "road"])
    ]
    assert made[0].id is not None
    meta.citizen_reports.handle(made[0].id, by="kommune", note="checked")
    summary = summarise(reports_of_period(meta, MARCH, APRIL))
    assert summary == ReportSummary(
        total=4,
        by_category={"road": 3, "rail": 1, "other": 0},
        by_status={"new": 3, "handled": 1},
    )
    assert summarise([]) == ReportSummary(
        0, {"road": 0, "rail": 0, "other": 0}, {"new": 0, "handled": 0}
    )
