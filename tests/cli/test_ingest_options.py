"""``noiselab ingest``'s compaction options, through typer's runner in this process: bad values
are refused with a message naming them, before anything connects or a file is created."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiselab.cli import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hot-window", "30m"], "must be at least 1h"),
        (["--hot-window", "two days"], "--hot-window 'two days': expected e.g. 90s"),
        (["--compact-every", "0"], "--compact-every 0s: must be more than 0"),
        (["--compact-every", "soon"], "--compact-every 'soon': expected"),
        (["--retention-days", "1"], "shorter than the hot window of 2 days"),
        (["--no-compact", "--retention-days", "30"], "--retention-days needs --compact"),
    ],
)
def test_the_ingest_refuses_bad_compaction_options_before_connecting(
    tmp_path: Path, args: list[str], message: str
) -> None:
    store = f"sqlite:///{tmp_path / 'readings.db'}"
    result = CliRunner().invoke(
        app, ["ingest", "--mqtt", "mqtt://127.0.0.1:1", "--store", store, *args]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "readings.db").exists()
