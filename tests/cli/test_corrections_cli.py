"""``noiselab corrections add|list|withdraw`` on a real SQLite metadata file, through typer's
runner in this process: the audit log as lines, a withdrawal once, and mistakes refused with
exit code 2 and a message before anything is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    """``--store``/``--meta`` of a metadata database with the sensor ``kbm-25m``."""
    meta = f"sqlite:///{tmp_path / 'metadata.db'}"
    with MetadataStore(meta) as store:
        store.sensors.add([Sensor(id="kbm-25m", name="KBM 25 m", source="road")])
    return ["--store", f"sqlite:///{tmp_path / 'readings.db'}", "--meta", meta]


def run(*args: str):
    return CliRunner().invoke(app, ["corrections", *args])


def test_add_list_and_withdraw(where: list[str]) -> None:
    added = run(
        "add", "kbm-25m", "--start", "2026-03-04T08:00Z", "--end", "2026-03-04T11:30Z",
        "--kind", "offset", "--offset-db", "-1.6", "--reason", "calibrator check",
        "--by", "Anne (kommune)", *where,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    fields = added.stdout.strip().split("\t")
    assert fields[:6] == [
        "1",
        "kbm-25m",
        "2026-03-04T08:00Z",
        "2026-03-04T11:30Z",
        "offset -1.6 dB",
        "active",
    ]
    assert fields[6].startswith("Anne (kommune) ")
    assert fields[7] == "calibrator check"
    excluded = run(
        "add", "kbm-25m", "--start", "2026-03-05T00:00+01:00", "--end", "2026-03-05T01:00+01:00",
        "--kind", "exclude", "--reason", "mower", "--by", "ops", *where,
    )  # fmt: skip
    assert excluded.exit_code == 0, excluded.output
    assert excluded.stdout.split("\t")[2:5] == ["2026-03-04T23:00Z", "2026-03-05T00:00Z", "exclude"]
    gone = run("withdraw", "1", "--reason", "wrong day", "--by", "ops", *where)
    assert gone.exit_code == 0, gone.output
    assert "\twithdrawn " in gone.stdout
    assert " by ops: wrong day\t" in gone.stdout
    again = run("withdraw", "1", "--reason", "again", "--by", "ops", *where)
    assert again.exit_code == 2
    assert "correction 1 was withdrawn at" in again.output
    everything = run("list", *where).stdout.splitlines()
    assert [line.split("\t")[0] for line in everything] == ["1", "2"]
    assert "withdrawn" in everything[0]
    active = run("list", "--active", *where).stdout.splitlines()
    assert [line.split("\t")[0] for line in active] == ["2"]
    assert run("list", "--sensor", "other", *where).stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-03-04T08:00:30Z"], "must be on a whole minute"),
        (["--start", "yesterday"], "--start 'yesterday': expected an RFC 3339 time"),
        (["--kind", "shift"], "--kind 'shift': must be exclude or offset"),
        (["--kind", "offset"], "an offset correction needs a number of dB"),
        (["--kind", "offset", "--offset-db", "25"], "within ±20 dB"),
        (["--reason", " "], "reason: must be 1-2000 characters"),
    ],
)
def test_mistakes_are_refused_and_nothing_is_stored(
    where: list[str], args: list[str], message: str
) -> None:
    defaults = {
        "--start": "2026-03-04T08:00Z",
        "--end": "2026-03-04T09:00Z",
        "--kind": "exclude",
        "--reason": "why",
        "--by": "ops",
    }
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = [part for name, value in (defaults | given).items() for part in (name, value)]
    result = run("add", "kbm-25m", *options, *where)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert run("list", *where).stdout == ""


def test_an_unknown_sensor_or_correction_is_named(where: list[str]) -> None:
    unknown = run(
        "add", "vb-nowhere", "--start", "2026-03-04T08:00Z", "--end", "2026-03-04T09:00Z",
        "--kind", "exclude", "--reason", "why", "--by", "ops", *where,
    )  # fmt: skip
    assert unknown.exit_code == 2
    assert "unknown sensor 'vb-nowhere'" in unknown.output
    missing = run("withdraw", "7", "--reason", "why", "--by", "ops", *where)
    assert missing.exit_code == 2
    assert "no correction 7" in missing.output
