"""The staff reports in a real headless Chromium (Debian's ``/usr/bin/chromium`` driven by
playwright) against a real uvicorn server over real SQLite files: February 2026 of
support/report_lab.py, with its weather exclusion, calibration history, roadworks
annotation, alert and citizen's report.

The page is offline (only the test server answers) and must fetch nothing; the citizen's text
``<script>alert(1)</script> ...`` and the annotation's ``<b>`` must show as text (no dialog
opens, no bold element is made of them). What a person sees is read from the rendered page
(``inner_text``, the charts' boxes), and screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from support.browser import CHROMIUM, OfflinePage, ServerThread, screenshot
from support.lab import ApiLab, Key
from support.report_lab import CITIZEN_TEXT, ROAD, ROADWORKS, february, staff_story

from noiselab.api.app import create_app

pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerThread, Key]]:
    lab = ApiLab(
        tmp_path_factory.mktemp("report-browser"), now=datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    )
    february(lab)
    staff_story(lab)
    staff = lab.key("staff", "kommune")
    with ServerThread(create_app(lab.settings)) as running:
        yield running, staff


def open_report(
    browser: Any, served: tuple[ServerThread, Key], path: str
) -> tuple[OfflinePage, Any, list[str]]:
    server, staff = served
    view = OfflinePage(
        browser, server, viewport={"width": 1100, "height": 900}, extra_http_headers=staff.headers
    )
    dialogs: list[str] = []
    view.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = view.page.goto(server.url + path)
    assert response is not None
    assert response.status == 200
    return view, view.page, dialogs


def test_the_month_report_shows_what_was_left_out_and_why(
    browser: Any, served: tuple[ServerThread, Key], record_property: Any
) -> None:
    view, page, dialogs = open_report(browser, served, "/api/v1/reports/2026-02")
    try:
        assert page.title() == "Noise report 2026-02, the network"
        text = page.inner_text("body")
        coverage = page.locator("table").nth(1).inner_text()
        # vb-road-1: coverage 95.7 %, weather 2.0 h, annotations 3.0 h, outage 24.0 h,
        # calibration uncertain 480.0 h (the 20 days between the calibrations).
        assert "vb-road-1\t95.7%\t2.0\t3.0\t0.0\t24.0\t480.0" in coverage
        assert "Calibration history" in text
        assert "2026-02-25 10:00\tfield\tJ. Hansen\t94.00\t94.80\t94.00\t+0.80\t+0.80" in text
        assert ROADWORKS in text  # the annotation's reason, as the characters typed
        assert CITIZEN_TEXT in text
        assert "Lorry convoy, checked" in text
        assert page.locator("b").count() == 0  # the annotation's <b> made no element
        assert page.locator("script").count() == 0
        charts = page.locator("svg")
        # The network's bars and vb-road-1's Lden per date; vb-road-2 measured nothing.
        assert charts.count() == 2
        assert "No Lden in this period" in text
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None
            assert box["width"] == 720
            assert box["height"] > 60
        screenshot(page, "staff-report-month.png", record_property)
        assert dialogs == []
        assert view.errors == []
        assert view.aborted == []
    finally:
        view.close()


def test_the_year_report_of_one_sensor_draws_its_months(
    browser: Any, served: tuple[ServerThread, Key], record_property: Any
) -> None:
    view, page, dialogs = open_report(browser, served, f"/api/v1/reports/2026?sensor={ROAD}")
    try:
        assert page.title() == f"Noise report 2026, sensor {ROAD}"
        months = page.locator("section table").first.inner_text().splitlines()
        assert months[0].startswith("Month\tLden")
        assert [row.split("\t")[0] for row in months[1:]] == [f"2026-{m:02d}" for m in range(1, 13)]
        february_row = months[2].split("\t")
        assert february_row[:2] == ["2026-02", "62.2"]
        # A dot per month with an Lden: February of this year (blue) and of 2025 (grey).
        assert page.locator("section svg circle[fill='#1d4ed8']").count() == 1
        assert page.locator("section svg circle[fill='#94a3b8']").count() == 1
        screenshot(page, "staff-report-year.png", record_property)
        assert dialogs == []
        assert view.errors == []
        assert view.aborted == []
    finally:
        view.close()
