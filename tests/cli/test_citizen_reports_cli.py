"""``noiselab citizen-reports list|handle`` on a real SQLite metadata file, through typer's
runner in this process: reports as one line each, handled once, mistakes refused with exit
code 2 and a message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.store.metadata import CitizenReport, MetadataStore

T0 = datetime(2026, 3, 2, 6, 40, 5, tzinfo=UTC)


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    """``--store``/``--meta`` of a metadata database with two reports (one with a two-line
    text and markup)."""
    meta = f"sqlite:///{tmp_path / 'metadata.db'}"
    with MetadataStore(meta) as store:
        store.citizen_reports.add(
            CitizenReport(ts=T0, lat=55.6283, lon=12.3866, category="road",
                          text="Lastbiler\nhele <b>natten</b>")
        )  # fmt: skip
        store.citizen_reports.add(CitizenReport(ts=T0, lat=55.63, lon=12.38, category="rail"))
    return ["--store", f"sqlite:///{tmp_path / 'readings.db'}", "--meta", meta]


def run(*args: str):
    return CliRunner().invoke(app, ["citizen-reports", *args])


def test_list_and_handle(where: list[str]) -> None:
    listed = run("list", *where)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t") == [
        "1", "2026-03-02T06:40:05Z", "road", "new", "55.62830", "12.38660", "",
        "Lastbiler\\nhele <b>natten</b>",
    ]  # fmt: skip
    assert lines[1].split("\t")[:4] == ["2", "2026-03-02T06:40:05Z", "rail", "new"]
    done = run("handle", "2", "--note", "Checked kbm-25m: usual", "--by", "Anne (kommune)", *where)
    assert done.exit_code == 0, done.output
    fields = done.stdout.strip().split("\t")
    assert fields[3] == "handled"
    assert fields[6].startswith("Anne (kommune) ")
    assert fields[6].endswith(": Checked kbm-25m: usual")
    again = run("handle", "2", "--note", "again", "--by", "ops", *where)
    assert again.exit_code == 2
    assert "report 2 was handled at" in again.output
    assert [
        x.split("\t")[0] for x in run("list", "--status", "new", *where).stdout.splitlines()
    ] == ["1"]
    handled = run("list", "--status", "handled", *where).stdout.splitlines()
    assert [x.split("\t")[0] for x in handled] == ["2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--status", "done"], "--status 'done': must be new or handled"),
        (["handle", "7", "--note", "x", "--by", "ops"], "no report 7"),
        (["handle", "1", "--note", " ", "--by", "ops"], "note: must be 1-500 characters"),
        (["handle", "1", "--note", "ok", "--by", " "], "handled_by: must be 1-200 characters"),
    ],
)
def test_mistakes_are_refused(where: list[str], args: list[str], message: str) -> None:
    answer = run(*args, *where)
    assert answer.exit_code == 2
    assert message in answer.output
    assert "\tnew\t" in run("list", *where).stdout.splitlines()[0]
