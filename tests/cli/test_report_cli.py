"""``noiselab report`` over the February 2026 deployment of support/report_lab.py, through
typer's runner in this process: the same figures as the API's report, written to standard
output or a file, and mistakes refused with exit code 2 and a message."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from support.lab import ApiLab
from support.report_lab import ROAD, february
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.reports.pdf import find_chromium


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    lab = ApiLab(tmp_path)
    february(lab)
    return ["--store", lab.store_url, "--meta", lab.meta_url]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["report", *args])


def test_month_csv_to_stdout_has_the_figures(where: list[str]) -> None:
    """Lday as in tests/reports/test_report_figures.py: 58.31 dB; 7,200 s of weather."""
    done = run("--month", "2026-02", "--format", "csv", *where)
    assert done.exit_code == 0, done.output
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    row = next(r for r in table if r["sensor_id"] == ROAD and r["row"] == "total")
    assert (row["lday"], row["excluded_weather_s"]) == ("58.31", "7200.0")


def test_year_html_to_a_file_for_one_sensor(where: list[str], tmp_path: Path) -> None:
    out = tmp_path / "year.html"
    done = run("--year", "2026", "--sensor", ROAD, "--out", str(out), *where)
    assert done.exit_code == 0, done.output
    page = out.read_text(encoding="utf-8")
    assert f"Noise report 2026, sensor {ROAD}" in page
    assert "Lden per month" in page
    assert "wrote" in done.stderr


@pytest.mark.process
def test_pdf_follows_the_suffix(where: list[str], tmp_path: Path) -> None:
    if find_chromium() is None:
        pytest.fail("Chromium is installed by scripts/test; the PDF test needs it")
    out = tmp_path / "feb.pdf"
    done = run("--month", "2026-02", "--out", str(out), *where)
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give one of --month YYYY-MM or --year YYYY"),
        (("--month", "2026-02", "--year", "2026"), "give one of"),
        (("--month", "2026-13"), "month 13"),
        (("--year", "26"), "--year '26'"),
        (("--month", "2026-02", "--format", "docx"), "--format 'docx'"),
        (("--month", "2026-02", "--format", "pdf"), "give --out"),
        (("--month", "2026-02", "--sensor", "nope"), "'nope' is not registered"),
        (("--month", "2026-02", "--weather", "maybe"), "--weather 'maybe'"),
    ],
)
def test_mistakes_are_refused_with_a_message(
    where: list[str], args: tuple[str, ...], message: str
) -> None:
    done = run(*args, *where)
    assert done.exit_code == 2, done.output
    assert message in done.stderr
