"""``noiselab weather stations add|list`` and ``noiselab weather assign`` on a real SQLite
metadata file, through typer's runner in this process."""

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
    return CliRunner().invoke(app, ["weather", *args])


def test_add_assign_and_list(where: list[str]) -> None:
    added = run("stations", "add", "vb-weather", "--name", "Mast", "--lat", "55.6235",
                "--lon", "12.384", "--height-m", "12", *where)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout == "vb-weather\tMast\t12 m\n"
    assert run("stations", "add", "area", "--name", "DMI area", *where).exit_code == 0
    assigned = run("assign", "kbm-25m", "vb-weather", *where)
    assert (assigned.exit_code, assigned.stdout) == (0, "kbm-25m\tvb-weather\n")
    listed = run("stations", "list", *where)
    assert listed.stdout.splitlines() == [
        "area\tDMI area\t-\t-\t10 m\t-",
        "vb-weather\tMast\t55.623500\t12.384000\t12 m\tkbm-25m",
    ]
    cleared = run("assign", "kbm-25m", "--clear", *where)
    assert (cleared.exit_code, cleared.stdout) == (0, "kbm-25m\t-\n")
    assert run("stations", "list", *where).stdout.splitlines()[1].endswith("\t-")


def test_a_station_is_updated_only_with_replace(where: list[str]) -> None:
    assert run("stations", "add", "vb-weather", "--name", "Mast", *where).exit_code == 0
    again = run("stations", "add", "vb-weather", "--name", "Other", *where)
    assert again.exit_code == 2
    assert "already registered" in again.stderr
    replaced = run("stations", "add", "vb-weather", "--name", "Other", "--height-m", "6",
                   "--replace", *where)  # fmt: skip
    assert replaced.stdout == "vb-weather\tOther\t6 m\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stations", "add", "Bad Id", "--name", "x"], "station id 'Bad Id'"),
        (["stations", "add", "s1", "--name", "x", "--height-m", "0"], "height_m must be"),
        (["stations", "add", "s1", "--name", "x", "--lat", "55"], "both lat and lon"),
        (["assign", "kbm-25m", "nowhere"], "weather station 'nowhere' is not registered"),
        (["assign", "ghost", "--clear"], "sensor 'ghost' is not registered"),
        (["assign", "kbm-25m"], "give a STATION, or --clear"),
    ],
)
def test_mistakes_exit_2_with_a_message(where: list[str], args: list[str], message: str) -> None:
    result = run(*args, *where)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
