"""``noiselab annotations add|list|withdraw`` on a real SQLite metadata file, through typer's
runner in this process: annotations of sensors, of a place (resolved to the sensors within its
radius) and of every sensor as lines, a withdrawal once, and mistakes refused with exit code 2
and a message before anything is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.model import Sensor
from noiselab.store.metadata import MetadataStore


@pytest.fixture
def where(tmp_path: Path) -> list[str]:
    """``--store``/``--meta`` of a metadata database with kbm-25m at 55.626 N 12.388 E,
    kbm-50m 0.0005° (55.6 m) north of it and hbm-50m 0.01° (1,112 m) north."""
    meta = f"sqlite:///{tmp_path / 'metadata.db'}"
    with MetadataStore(meta) as store:
        store.sensors.add(
            [
                Sensor(id="kbm-25m", name="KBM 25 m", lat=55.626, lon=12.388),
                Sensor(id="kbm-50m", name="KBM 50 m", lat=55.6265, lon=12.388),
                Sensor(id="hbm-50m", name="HBM 50 m", lat=55.636, lon=12.388),
            ]
        )
    return ["--store", f"sqlite:///{tmp_path / 'readings.db'}", "--meta", meta]


def run(*args: str):
    return CliRunner().invoke(app, ["annotations", *args])


PERIOD = ("--start", "2026-03-04T08:00Z", "--end", "2026-03-04T14:00Z")


def test_add_list_and_withdraw(where: list[str]) -> None:
    near = run(
        "add", *PERIOD, "--near", "55.626,12.388", "--radius", "100", "--category", "roadworks",
        "--text", "Roadworks on Køge Bugt Motorvejen, lane closure", "--exclude",
        "--by", "Anne (kommune)", *where,
    )  # fmt: skip
    assert near.exit_code == 0, near.output
    fields = near.stdout.strip().split("\t")
    assert fields[:7] == [
        "1",
        "2026-03-04T08:00Z",
        "2026-03-04T14:00Z",
        "kbm-25m,kbm-50m",
        "roadworks",
        "excluded",
        "active",
    ]
    assert fields[7].startswith("Anne (kommune) ")
    assert fields[8] == "Roadworks on Køge Bugt Motorvejen, lane closure"
    named = run(
        "add", "--start", "2026-03-05T00:00+01:00", "--end", "2026-03-05T01:00+01:00",
        "--sensor", "hbm-50m", "--category", "equipment", "--text", "Microphone faulty",
        "--by", "ops", *where,
    )  # fmt: skip
    assert named.exit_code == 0, named.output
    assert named.stdout.split("\t")[1:6] == [
        "2026-03-04T23:00Z",
        "2026-03-05T00:00Z",
        "hbm-50m",
        "equipment",
        "marked",
    ]
    everyone = run(*("add", *PERIOD, "--category", "event", "--text", "Festival"), *where)
    assert everyone.exit_code == 0, everyone.output
    assert everyone.stdout.split("\t")[3] == "all"
    gone = run("withdraw", "2", "--reason", "wrong sensor", "--by", "ops", *where)
    assert gone.exit_code == 0, gone.output
    assert "\twithdrawn " in gone.stdout
    assert " by ops: wrong sensor\t" in gone.stdout
    again = run("withdraw", "2", "--reason", "again", "--by", "ops", *where)
    assert again.exit_code == 2
    assert "annotation 2 was withdrawn at" in again.output
    listed = run("list", *where)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["1", "2", "3"]
    active = run("list", "--active", "--sensor", "hbm-50m", *where)
    assert [line.split("\t")[0] for line in active.stdout.splitlines()] == ["3"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--category", "party", "--text", "x"), "--category 'party'"),
        (("--category", "event", "--text", "x", "--near", "55.6,12.3"), "--near and --radius"),
        (("--category", "event", "--text", "x", "--near", "north", "--radius", "5"), "LAT,LON"),
        (
            (
                "--category",
                "event",
                "--text",
                "x",
                "--near",
                "55.626,12.388",
                "--radius",
                "5",
                "--sensor",
                "kbm-25m",
            ),
            "not both",
        ),
        (
            ("--category", "event", "--text", "x", "--near", "55,12", "--radius", "5"),
            "no registered",
        ),
        (("--category", "event", "--text", "x", "--sensor", "vb-nowhere"), "unknown sensor"),
        (("--category", "event", "--text", "x" * 501), "text"),
    ],
)
def test_mistakes_are_refused_before_anything_is_stored(
    where: list[str], args: tuple[str, ...], says: str
) -> None:
    refused = run("add", *PERIOD, *args, "--by", "ops", *where)
    assert refused.exit_code == 2, refused.output
    assert says in refused.output
    assert run("list", *where).stdout == ""


def test_a_bad_period_and_an_unknown_id_are_refused(where: list[str]) -> None:
    odd = run(
        "add", "--start", "2026-03-04T08:00:30Z", "--end", "2026-03-04T09:00Z",
        "--category", "other", "--text", "x", *where,
    )  # fmt: skip
    assert odd.exit_code == 2
    assert "whole minute" in odd.output
    assert run("withdraw", "7", "--reason", "x", *where).exit_code == 2
