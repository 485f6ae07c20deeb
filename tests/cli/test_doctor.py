"""``noiselab doctor`` run for real as a subprocess against a real Mosquitto and SQLite files:
a healthy setup prints one ok line per check and exits 0; a broken one prints FAIL lines with
their fixes and exits 1; bad settings exit 2 with one line naming the value, never a
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from noiselab.broker import MosquittoBroker, free_port
from noiselab.model import Reading
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore

pytestmark = pytest.mark.process


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NOISELAB_")}
    return subprocess.run(
        [sys.executable, "-m", "noiselab", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**clean, **(env or {})},
    )


def stores(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "readings.db"
    path.parent.mkdir()
    now = time.time()
    with SqliteStore(path) as store:
        store.write([Reading("kbm-a", now - 60 + i, 55.0) for i in range(30)], now)
    MetadataStore(f"sqlite:///{path.parent / 'metadata.db'}").close()
    return path


def test_a_healthy_setup_passes(broker: MosquittoBroker, tmp_path: Path):
    path = stores(tmp_path)
    result = doctor(env={"NOISELAB_MQTT": broker.url, "NOISELAB_STORE": f"sqlite:///{path}"})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * 6 + ["skip"]
    assert [line[6:42].strip() for line in lines[:-1]] == [
        "mqtt broker",
        "sqlite store",
        "sqlite reads",
        "sqlite write lock",
        "metadata database",
        "metadata reads",
        "grafana",
    ]
    assert "QoS 1 probe on noiselab/_doctor/" in lines[0]
    assert lines[-2].startswith("skip  grafana")
    assert lines[-1] == "every check passed"
    assert result.stderr == ""


def test_a_broken_setup_fails_with_fixes(tmp_path: Path):
    result = doctor(
        "--mqtt",
        f"mqtt://127.0.0.1:{free_port()}",
        "--store",
        f"sqlite:///{tmp_path / 'missing' / 'readings.db'}",
        "--timeout",
        "2",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "FAIL  mqtt broker" in out
    assert "fix: is the broker running and reachable there?" in out
    assert "FAIL  sqlite store" in out
    assert "fix: check the path in --store (NOISELAB_STORE)" in out
    assert "skip  sqlite reads" in out
    assert out.splitlines()[-1] == "3 of the checks failed"
    assert not (tmp_path / "missing").exists()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--mqtt", "http://broker"], {}, "scheme must be mqtt:// or mqtts://"),
        (
            ["--store", "influxdb://db:8086?org=o&bucket=b", "--meta", "sqlite:///m.db"],
            {},
            "NOISELAB_INFLUX_TOKEN",
        ),
        (
            ["--store", "influxdb://db:8086?org=o&bucket=b"],
            {"NOISELAB_INFLUX_TOKEN": "t"},
            "--meta (NOISELAB_META) is required",
        ),
        (["--grafana-url", "grafana:3000"], {}, "expected http(s)://"),
        (["--meta", "mysql://x/y"], {}, "expected sqlite:/// or postgresql://"),
    ],
)
def test_bad_settings_exit_2_without_a_traceback(tmp_path, args, env, message):
    result = doctor(*args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("noiselab: ")
    assert "Traceback" not in result.stderr
