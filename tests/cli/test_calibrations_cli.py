"""``noiselab calibrations add|list`` on a real SQLite metadata file, through typer's runner in
this process: entries as lines with deviation and drift, the drift alert, the uncertain span,
and mistakes refused with exit code 2 before anything is stored.

By hand: 94.6 on 94.0 adjusted to 94.0 (deviation +0.60, offset left 0.0); a week later 94.8
not adjusted (deviation +0.80, drift +0.80 > 0.5: alert, uncertain week)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    """``--store``/``--meta`` of a metadata database with the sensor ``bg-mose``."""
    meta = f"sqlite:///{tmp_path / 'metadata.db'}"
    with MetadataStore(meta) as store:
        store.sensors.add([Sensor(id="bg-mose", name="Mose", source="background")])
    return ["--store", f"sqlite:///{tmp_path / 'readings.db'}", "--meta", meta]


def run(*args: str):
    return CliRunner().invoke(app, ["calibrations", *args])


def test_add_then_list_with_drift_alert_and_span(where: list[str]) -> None:
    first = run(
        "add", "bg-mose", "--reference", "94.0", "--before", "94.6", "--after", "94.0",
        "--by", "J. Hansen", "--at", "2026-11-02T10:00Z", "--note", "serial 2712", *where,
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().split("\t") == [
        "1", "2026-11-02T10:00Z", "field", "94.00", "94.60", "94.00", "+0.60", "-",
        "J. Hansen", "active", "serial 2712",
    ]  # fmt: skip
    assert "drift alert" not in first.stderr
    second = run(
        "add", "bg-mose", "--reference", "94", "--before", "94.8", "--by", "J. Hansen",
        "--at", "2026-11-09T10:00+01:00", *where,
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    assert second.stdout.split("\t")[1:8] == [
        "2026-11-09T09:00Z", "field", "94.00", "94.80", "-", "+0.80", "+0.80 !",
    ]  # fmt: skip
    assert "drift alert 1 opened (Calibration drift above 0.5 dB): +0.80 dB" in second.stderr
    listed = run("list", "bg-mose", *where)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["1", "2", "uncertain"]
    assert lines[2] == (
        "uncertain\t2026-11-02T10:00Z\t2026-11-09T09:00Z\tcalibration uncertain: drift +0.80 dB "
        "between calibrations on 2026-11-02 and 2026-11-09"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bg-nowhere", "--reference", "94", "--before", "94", "--by", "x"], "unknown sensor"),
        (["bg-mose", "--reference", "94", "--before", "170", "--by", "x"], "before_db"),
        (["bg-mose", "--reference", "94", "--before", "94", "--by", " "], "by: must be"),
        (["bg-mose", "--reference", "94", "--before", "94", "--by", "x", "--at", "soon"], "--at"),
    ],
)
def test_mistakes_are_refused_before_anything_is_stored(
    where: list[str], args: list[str], message: str
) -> None:
    result = run("add", *args, *where)
    assert result.exit_code == 2
    assert message in result.output
    assert run("list", "bg-mose", *where).stdout == ""


def test_list_of_an_unknown_sensor_fails(where: list[str]) -> None:
    result = run("list", "bg-nowhere", *where)
    assert result.exit_code == 2
    assert "unknown sensor 'bg-nowhere'" in result.output
