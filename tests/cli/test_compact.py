"""``noiselab compact`` on real SQLite files, through typer's runner in this process: old hours
become chunks and every reading stays; retention; an InfluxDB store is left alone; bad
durations and a retention shorter than the hot window are refused before anything is touched."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.compaction import HOUR, PER_HOUR, fill, hour_of
from typer.testing import CliRunner

from noiselab.cli import app
from noiselab.store.sqlite import SqliteStore

NOW = hour_of(time.time())
OLD = NOW - 100 * HOUR
"""4 hours of 2 sensors from 100 h ago and ..."""
LATER = NOW - 93 * HOUR
"""... 2 hours from 93 h ago: older than the 48-h hot window, and on either side of a retention
of 4 days, with 3 hours to spare (the command's clock is the real one) ..."""
RECENT = NOW - 2 * HOUR
"""... and 2 recent hours, which stay hot."""
SENSORS = ["kbm-25m", "hbm-50m"]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "readings.db"
    with SqliteStore(path) as store:
        fill(store, SENSORS, OLD, 4, received=OLD + 4 * HOUR)
        fill(store, SENSORS, LATER, 2, received=LATER + 2 * HOUR)
        fill(store, SENSORS, RECENT, 2, received=NOW)
    return path


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["compact", *args], env=env)


def chunk_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM chunks").fetchone()[0])


def count(path: Path) -> int:
    with SqliteStore(path) as store:
        return store.count_readings()


def test_compact_moves_old_hours_into_chunks_and_keeps_every_reading(db: Path) -> None:
    with SqliteStore(db) as store:
        before = store.readings("kbm-25m", OLD, NOW)
    total = count(db)
    result = run("--store", f"sqlite:///{db}")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"compacted 12 sensor-hours, {12 * PER_HOUR:,} readings: ")
    assert " MB → " in lines[0]
    assert lines[0].endswith(" s")
    assert lines[-1].startswith(f"done: 12 sensor-hours, {12 * PER_HOUR:,} readings older than 48h")
    assert chunk_rows(db) == 12
    assert count(db) == total
    with SqliteStore(db) as store:
        assert store.readings("kbm-25m", OLD, NOW) == before
    again = run("--store", f"sqlite:///{db}")
    assert again.exit_code == 0, again.output
    assert again.output == "nothing to compact: every sensor-hour older than 48h is compacted\n"
    assert chunk_rows(db) == 12


def test_the_hot_window_is_an_option_and_an_environment_variable(db: Path) -> None:
    """Data 100 to 91 h old: nothing is older than 5 days; all of it is older than 90 h."""
    result = run("--store", f"sqlite:///{db}", env={"NOISELAB_HOT_WINDOW": "5d"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("nothing to compact: every sensor-hour older than 5d")
    assert chunk_rows(db) == 0
    result = run("--store", f"sqlite:///{db}", "--older-than", "90h")
    assert result.exit_code == 0, result.output
    assert chunk_rows(db) == 12


def test_retention_removes_old_raw_readings_and_says_so(db: Path) -> None:
    """Retention of 4 days: the 4 oldest hours of each sensor lose their raw readings, the
    roll-ups stay."""
    with SqliteStore(db) as store:
        hours = store.hour_series("kbm-25m", *_range(OLD, NOW))
    result = run("--store", f"sqlite:///{db}", "--retention-days", "4")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"retention 4 days: removed {2 * 4 * PER_HOUR:,} raw readings (roll-ups kept)"
    )
    with SqliteStore(db) as store:
        assert store.count_readings() == 2 * 4 * PER_HOUR
        assert store.readings("kbm-25m", OLD, LATER) == []
        assert len(store.readings("kbm-25m", LATER, NOW)) == 4 * PER_HOUR
        after = store.hour_series("kbm-25m", *_range(OLD, NOW))
    assert after.ts.tolist() == hours.ts.tolist()
    assert after.laeq.tolist() == hours.laeq.tolist()


def test_an_influxdb_store_is_left_alone(tmp_path: Path) -> None:
    result = run("--store", "influxdb://127.0.0.1:1?org=lab&bucket=noise", "--retention-days", "90")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("InfluxDB compresses its own storage")
    assert "nothing to do" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "48x"], "--older-than '48x': expected e.g. 90s, 15m, 24h or 7d"),
        (["--older-than", "-2h"], "--older-than '-2h': must be a finite, non-negative time"),
        (["--older-than", ""], "--older-than '': expected e.g. 90s"),
        (["--older-than", "30m"], "hot window 30m (--hot-window, --older-than): must be at"),
        (["--retention-days", "0"], "--retention-days 0: must be a positive number of days"),
        (["--retention-days", "1"], "--retention-days 1 is shorter than the hot window of 2 days"),
        (
            ["--older-than", "7d", "--retention-days", "5"],
            "--retention-days 5 is shorter than the hot window of 7 days",
        ),
    ],
)
def test_bad_input_is_refused_before_the_store_is_touched(
    db: Path, args: list[str], message: str
) -> None:
    result = run("--store", f"sqlite:///{db}", *args)
    assert result.exit_code == 2
    assert f"noiselab: {message}" in result.output
    assert chunk_rows(db) == 0


def test_bad_input_is_refused_for_an_influxdb_store_too() -> None:
    result = run("--store", "influxdb://127.0.0.1:1?org=lab&bucket=noise", "--older-than", "2")
    assert result.exit_code == 2
    assert "must be at least 1h" in result.output


def test_a_missing_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "readings.db"
    result = run("--store", f"sqlite:///{path}")
    assert result.exit_code == 2
    assert f"no SQLite file at {path}" in result.output
    assert not path.parent.exists()


def _range(first: float, end: float) -> tuple[datetime, datetime]:
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(end, UTC)
