"""`noiselab demo` as a newcomer runs it: live levels over HTTP, and Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from noiselab.broker import free_port
from noiselab.demo import DEMO_REPORT_TEXT

MEASURED = "as_measured=true"


def _get(url: str, headers: dict[str, str] | None = None) -> object:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _wait_for(predicate: object, timeout_s: float) -> object:
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = predicate()  # type: ignore[operator]
            if last:
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"condition not met in {timeout_s} s (last: {last!r})")


@pytest.mark.process
def test_demo_serves_backfilled_and_live_levels_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noiselab",
            "demo",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--backfill",
            "30m",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        sensors = _wait_for(lambda: _get(f"{base}/api/v1/sensors"), 60)
        ids = [s["id"] for s in sensors]  # type: ignore[attr-defined]
        assert "kbm-25m" in ids
        assert len(ids) == 12
        # The demo made a staff and a vendor key (printed, and kept in demo-keys.json).
        keys = json.loads((data / "demo-keys.json").read_text())
        assert (data / "demo-keys.json").stat().st_mode & 0o077 == 0
        staff = {"Authorization": f"Bearer {keys['staff']}"}
        vendor = {"Authorization": f"Bearer {keys['vendor']}"}
        # ... and a trial of the simulated barrier that the vendor key can read.
        (trial,) = _get(f"{base}/api/v1/trials", vendor)  # type: ignore[misc]
        assert trial["treated"] == ["trial-blade-treated"]
        (summary,) = _get(f"{base}/api/v1/trials/{trial['id']}/summary", vendor)  # type: ignore[misc]
        # ... and a staff annotation of roadworks at the Køge Bugt sensors, in the feed.
        (roadworks,) = _get(f"{base}/api/v1/annotations/feed", staff)  # type: ignore[misc]
        assert roadworks["sensors"] == "kbm-150m,kbm-25m,kbm-50m"
        assert roadworks["title"] == "Roadworks (excluded)"
        assert summary["vendor"] == "blade-barriers"
        assert summary["verdict"]  # half an hour of data each side: says it is too little
        with urllib.request.urlopen(f"{base}/", timeout=5) as page:
            assert b"<html" in page.read().lower()

        # The living surface, fitted to the sensors, answers within a minute of start (503
        # while it is prepared; before the backfill is stored no sensor has measured "now").
        def surface() -> dict[str, object] | None:
            try:
                found = _get(f"{base}/api/v1/map/surface?period=now")
            except urllib.error.HTTPError as exc:
                if exc.code != 503:
                    raise
                return None
            measured = found["accuracy"]["n"] >= 1  # type: ignore[call-overload, index]
            return found if measured else None  # type: ignore[return-value]

        living = _wait_for(surface, 60 - (time.monotonic() - started))
        assert living["indicator"] == "laeq"  # type: ignore[index]
        assert living["accuracy"]["n"] >= 1  # type: ignore[index]
        with urllib.request.urlopen(base + living["image_url"], timeout=5) as image:  # type: ignore[index, operator]
            assert image.read(8) == b"\x89PNG\r\n\x1a\n"
        assert (data / "noisemap").is_dir()

        def minutes() -> list[dict[str, object]]:
            # As measured: the demo's roadworks annotation excludes the Køge Bugt sensors'
            # last 22 minutes of a 30-minute backfill (and its first live hours).
            body = _get(f"{base}/api/v1/sensors/kbm-25m/levels?every=1m&{MEASURED}", staff)
            points: list[dict[str, object]] = body["points"]  # type: ignore[index]
            return points if len(points) >= 30 else []

        points = _wait_for(minutes, 60)
        assert all(20 <= p["laeq"] <= 130 for p in points)  # type: ignore[index, operator]
        first_live = _get(f"{base}/api/v1/sensors/kbm-25m/levels?every=1s&{MEASURED}", staff)
        time.sleep(3)
        later = _get(f"{base}/api/v1/sensors/kbm-25m/levels?every=1s&{MEASURED}", staff)
        assert len(later["points"]) > len(first_live["points"])  # type: ignore[index]
        status = {s["id"]: s["status"] for s in _get(f"{base}/api/v1/sensors")}  # type: ignore[attr-defined]
        assert status["kbm-25m"] == "online"
        # The weather station runs too, every sensor assigned to it, its backfill stored.
        (station,) = _get(f"{base}/api/v1/weather/stations", staff)  # type: ignore[misc]
        assert (station["id"], len(station["sensors"])) == ("vb-weather", 12)
        url = f"{base}/api/v1/weather/stations/vb-weather/observations"
        observed = _wait_for(lambda: _get(url, staff)["observations"], 30)  # type: ignore[index]
        assert len(observed) >= 30  # type: ignore[arg-type]
        # Once the backfill is stored, the staff report of each month it covers is written
        # for a browser: weather left out, the calibration history, the roadworks and the
        # sample citizen's report (40 minutes ago: in one of the written months).
        reports = _wait_for(lambda: sorted((data / "reports").glob("*.html")), 60)
        pages = "".join(p.read_text(encoding="utf-8") for p in reports)  # type: ignore[attr-defined]
        for shown in ("Weather (h)", "Calibration history", "Demo technician", DEMO_REPORT_TEXT):
            assert shown in pages, shown
        assert "Roadworks on Køge Bugt Motorvejen" in pages
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert "noiselab demo is running" in output
    assert "noiselab demo stopped" in output
    alerts_log = (data / "alerts.log").read_text()
    assert "alerts evaluated" in alerts_log, alerts_log[-2000:]
    assert "alert evaluator stopped" in alerts_log
    leftover = subprocess.run(
        ["pgrep", "-f", str(data)], capture_output=True, text=True, check=False
    ).stdout
    assert leftover.strip() == "", f"processes left running: {leftover}"


def test_demo_keys_are_reused_until_revoked_and_a_zero_backfill_still_gets_a_trial_and_roadworks(
    tmp_path: Path,
) -> None:
    from noiselab.citizens.nearby import nearest_public
    from noiselab.demo import DEMO_REPORT_TEXT, DEMO_TRIAL_ID, Demo
    from noiselab.sensors_sim.register import register_sim_sensors
    from noiselab.store.metadata import MetadataStore

    def prepared() -> Demo:
        demo = Demo(data_dir=tmp_path, api_port=0, backfill="0", rate=1.0, sensors="default")
        demo.data_dir.mkdir(exist_ok=True)
        register_sim_sensors(demo.meta_url, demo.sensors)
        demo._prepare_users()
        return demo

    first = prepared()
    assert first.annotation is not None
    assert first.annotation.sensor_ids == ("kbm-150m", "kbm-25m", "kbm-50m")
    assert (first.annotation.category, first.annotation.exclude) == ("roadworks", True)
    assert first.annotation.end - first.annotation.start == timedelta(hours=3)
    assert first.trial is not None
    assert first.trial.id == DEMO_TRIAL_ID
    assert first.trial.before_end - first.trial.before_start == timedelta(hours=1)
    again = prepared()
    assert again.keys == first.keys  # reused from demo-keys.json
    assert again.annotation == first.annotation  # kept, not repeated
    with MetadataStore(first.meta_url) as meta:
        meta.keys.revoke(first.keys["staff"].split("_")[1])
    fresh = prepared()
    assert fresh.keys["staff"] != first.keys["staff"]  # a revoked key is replaced
    assert json.loads((tmp_path / "demo-keys.json").read_text()) == fresh.keys
    # One sample citizen's report, made on the first start only.
    assert first.report is not None
    assert (first.report.category, first.report.text) == ("road", DEMO_REPORT_TEXT)
    assert again.report is None
    assert fresh.report is None
    with MetadataStore(first.meta_url) as meta:
        [stored] = meta.citizen_reports.find()
        [sensor] = [s for s in meta.sensors.all() if s.id == "kbm-25m"]
    assert stored == first.report
    assert sensor.lat is not None
    assert sensor.lon is not None
    [(nearest, metres)] = nearest_public([sensor], stored.lat, stored.lon)
    assert (nearest.id, round(metres)) == ("kbm-25m", 161)
