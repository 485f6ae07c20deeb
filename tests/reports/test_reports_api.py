"""``GET /api/v1/reports/{period}`` through real HTTP over real SQLite files: the staff report
of February 2026 (support/report_lab.py) as HTML, CSV and (with Chromium) PDF; who may read
it; bad periods and sensors; the weather choice."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.lab import ApiLab
from support.report_lab import CITIZEN_TEXT, ROAD, ROADWORKS, SILENT, february, staff_story

from noiselab.reports.csv_rows import COLUMNS
from noiselab.reports.pdf import find_chromium

URL = "/api/v1/reports/2026-02"


@dataclass
class Api:
    client: Any
    staff: dict[str, str]
    vendor: dict[str, str]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root: Path = tmp_path_factory.mktemp("reports-api")
    lab = ApiLab(root, now=datetime(2026, 3, 2, tzinfo=UTC).timestamp())
    february(lab)
    staff_story(lab)
    staff, vendor = lab.key("staff", "kommune"), lab.key("vendor", "acme")
    with lab.client() as client:
        yield Api(client, staff.headers, vendor.headers)


def rows(api: Api, **params: str) -> list[dict[str, str]]:
    response = api.client.get(URL, params={"format": "csv"} | params, headers=api.staff)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert table
    assert tuple(table[0]) == COLUMNS
    return table


def total(table: list[dict[str, str]], sensor_id: str) -> dict[str, str]:
    return next(r for r in table if r["sensor_id"] == sensor_id and r["row"] == "total")


def test_csv_gives_the_hand_computed_figures_of_the_month(api: Api) -> None:
    """Day hours kept: 26·12 at 55 dB less 2 (weather) and 3 (roadworks), and 12 at 70 dB:
    Lday = 10·log10((307·10^5.5 + 12·10^7) / 319) = 58.33 dB. Left out: 7,200 s weather,
    10,800 s annotation; calibration uncertain 5th 10:00 to 25th 10:00 = 1,728,000 s."""
    lday = 10 * math.log10((307 * 10**5.5 + 12 * 10**7) / 319)
    row = total(rows(api), ROAD)
    assert row["period"] == row["part"] == "2026-02"
    assert row["lday"] == str(round(lday, 2)) == "58.33"
    assert (row["levening"], row["lnight"]) == ("55.0", "55.0")
    assert row["excluded_weather_s"] == "7200.0"
    assert row["excluded_annotation_s"] == "10800.0"
    assert row["excluded_correction_s"] == "0.0"
    assert row["outage_s"] == "86400.0"
    assert row["calibration_uncertain_s"] == "1728000.0"
    assert (row["days_above_guideline"], row["days_with_lden"]) == ("27", "27")
    assert row["guideline_lden_db"] == "58.0"
    before = next(r for r in rows(api) if r["sensor_id"] == ROAD and r["row"] == "year_before")
    assert (before["part"], before["lden"]) == ("2025-02", "58.67")


def test_csv_has_a_row_per_date_and_the_silent_sensor(api: Api) -> None:
    table = rows(api)
    dates = [r["part"] for r in table if r["sensor_id"] == ROAD and r["row"] == "date"]
    assert (dates[0], dates[-1], len(dates)) == ("2026-02-01", "2026-02-28", 28)
    silent = total(table, SILENT)
    assert (silent["lden"], silent["coverage"], silent["outage_s"]) == ("", "0.0", "2419200.0")


def test_weather_include_keeps_the_windy_hours(api: Api) -> None:
    row = total(rows(api, weather="include"), ROAD)
    assert row["excluded_weather_s"] == "0.0"
    assert row["excluded_annotation_s"] == "10800.0"


def test_one_sensor_report_holds_only_that_sensor(api: Api) -> None:
    assert {r["sensor_id"] for r in rows(api, sensor=ROAD)} == {ROAD}


def test_html_shows_every_part_and_escapes_what_people_wrote(api: Api) -> None:
    response = api.client.get(URL, headers=api.staff)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    page = response.text
    for expected in (
        "Noise report 2026-02, the network",
        "<svg",
        "Calibration history",
        "+0.80",
        "Roadworks &lt;b&gt;Køge Bugt&lt;/b&gt; &amp; lane closure",
        "&lt;script&gt;alert(1)&lt;/script&gt; Trucks braking all night",
        "Lorry convoy, checked",
        "resolved",
        "above the guideline value",
        "Citizens' reports (1)",
    ):
        assert expected in page, expected
    assert ROADWORKS not in page
    assert CITIZEN_TEXT not in page
    assert "<script" not in page


def test_download_names_the_file(api: Api) -> None:
    response = api.client.get(
        URL, params={"format": "csv", "download": "1", "sensor": ROAD}, headers=api.staff
    )
    assert response.headers["content-disposition"] == (
        f'attachment; filename="noiselab-report-2026-02-{ROAD}.csv"'
    )


@pytest.mark.parametrize("period", ["2026-13", "26-02", "2026-2", "abc", "1900", "2026-02-01"])
def test_a_bad_period_is_a_clear_422(api: Api, period: str) -> None:
    response = api.client.get(f"/api/v1/reports/{period}", headers=api.staff)
    assert response.status_code == 422
    assert "period" in response.json()["detail"]


def test_an_unknown_sensor_is_404(api: Api) -> None:
    response = api.client.get(URL, params={"sensor": "nope"}, headers=api.staff)
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_only_staff_read_reports(api: Api) -> None:
    assert api.client.get(URL).status_code == 401
    assert api.client.get(URL, headers=api.vendor).status_code == 403


@pytest.mark.process
def test_pdf_is_printed_by_headless_chromium(api: Api) -> None:
    if find_chromium() is None:
        pytest.fail("Chromium is installed by scripts/test; the PDF test needs it")
    response = api.client.get(URL, params={"format": "pdf", "download": "1"}, headers=api.staff)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 10_000
    assert response.headers["content-disposition"].endswith('network.pdf"')
