"""The annual and monthly staff reports of a 12-sensor network: how long they take to build.

Usage::

    .venv/bin/python benchmarks/report_year.py            # --spans N --cache DIR

The network: one sensor's two years (2025 and 2026, local time) of one-minute readings
(1,051,200 rows, a diurnal road-traffic pattern with deterministic noise) written through the
store's own write path, so every roll-up tier is the one the ingest keeps; then its per-minute
and hourly tiers copied under 11 more sensor ids (8 road, 4 rail), the same work as 12 distinct
sensors. The metadata: one weather station for all, with ``--spans`` exclusion spans a year
(default 3,000, of 2 to 60 minutes: some 9 % of the time, a rainy Danish year), field
calibrations every three months with one drift over 0.5 dB, 20 annotations (5 excluding), 60
alerts with notes and 120 citizens' reports.

Timed in one run (median of 3 after a warm-up, the store freshly opened before each):

* the annual report of the network, built (``build_report``) and rendered to HTML and CSV;
* the monthly report of November 2026;
* the baseline: the bare daily indicators of the same 24 sensor-years (12 sensors, the year
  and the year before) without any validity, the least any such report must read;
* both reports again on a compacted copy of the store (every hour in its compressed chunk, as
  a past year is with the default 48-hour hot window), where the minutes of the hours an
  exclusion cuts come from the chunks.

Target (issue "The environment staff's year"): the year's report of 12 sensors in under 5 s.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import machine

from noiselab.model import Reading, Sensor
from noiselab.reports import ReportPeriod, build_report, render_csv, render_html
from noiselab.store.metadata import (
    AlertRule,
    Annotation,
    Calibration,
    CitizenReport,
    MetadataStore,
    WeatherExclusion,
    WeatherStation,
)
from noiselab.store.sqlite import SqliteStore
from noiselab.validity.daily import DailyPlan, daily_indicators
from noiselab.validity.deployment import deployment_validity

CPH = ZoneInfo("Europe/Copenhagen")
PLAN = DailyPlan(CPH)
FIRST = datetime(2025, 1, 1, tzinfo=CPH)
END = datetime(2027, 1, 1, tzinfo=CPH)
SENSORS = [f"road-{i:02d}" for i in range(8)] + [f"rail-{i:02d}" for i in range(4)]
STATION = "vb-weather"


def minute_levels(start: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """LAeq,1min of a road site: 52 dB at night to 68 dB by day, with 2 dB of noise."""
    t = start + 60.0 * np.arange(count)
    hour = ((t + 3600.0) % 86_400.0) / 3600.0
    diurnal = 60.0 + 8.0 * np.sin((hour - 9.0) / 24.0 * 2 * np.pi)
    return np.round(diurnal + rng.normal(0.0, 2.0, count), 1)


def build_store(path: Path) -> None:
    """Two years of minutes for the first sensor, its tiers copied to the other eleven."""
    rng = np.random.default_rng(7)
    first = SENSORS[0]
    with SqliteStore(path) as store:
        day = FIRST
        while day < END:
            nxt = (day + timedelta(days=1, hours=2)).replace(hour=0)
            t0, t1 = day.timestamp(), nxt.timestamp()
            count = int((t1 - t0) // 60)
            levels = minute_levels(t0, count, rng)
            store.write(
                [
                    Reading(first, t0 + 60.0 * i, float(levels[i]), duration=60.0)
                    for i in range(count)
                ],
                t1 + 60.0,
            )
            day = nxt
    db = sqlite3.connect(path)
    with db:
        for other in SENSORS[1:]:
            for table in ("rollup_1m", "rollup_1h", "hist_1h", "rollup_1d", "hist_1d"):
                columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                rest = ", ".join(c for c in columns if c != "sensor_id")
                db.execute(
                    f"INSERT INTO {table} (sensor_id, {rest}) SELECT ?, {rest} FROM {table} "
                    "WHERE sensor_id = ?",
                    (other, first),
                )
    db.close()


def compacted_copy(path: Path, target: Path) -> None:
    """``path`` copied to ``target`` with everything compacted, as a store holding a past
    year is (the SQLite default keeps 48 hours hot): the first sensor compacted by the store,
    its chunks copied under the other ids in place of their per-minute rows."""
    shutil.copy(path, target)
    with SqliteStore(target) as store:
        store.compact(now=END.timestamp() + 86_400.0)
    db = sqlite3.connect(target)
    with db:
        for other in SENSORS[1:]:
            db.execute("DELETE FROM rollup_1m WHERE sensor_id = ?", (other,))
            for table in ("chunks", "minute_sums"):
                columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                rest = ", ".join(c for c in columns if c != "sensor_id")
                db.execute(
                    f"INSERT INTO {table} (sensor_id, {rest}) SELECT ?, {rest} FROM {table} "
                    "WHERE sensor_id = ?",
                    (other, SENSORS[0]),
                )
    db.execute("VACUUM")
    db.close()


def build_metadata(url: str, spans_per_year: int) -> None:
    """Sensors, the weather station and its spans, calibrations, annotations, alerts and
    citizens' reports (module docstring)."""
    rng = random.Random(11)
    with MetadataStore(url) as meta:
        meta.sensors.add(
            Sensor(
                id=s,
                name=f"Sensor {s}",
                lat=55.62 + 0.001 * i,
                lon=12.38 + 0.001 * i,
                source="rail" if s.startswith("rail") else "road",
            )
            for i, s in enumerate(SENSORS)
        )
        meta.weather.add(WeatherStation(id=STATION, name="Vallensbæk", height_m=10.0))
        for s in SENSORS:
            meta.weather.assign(s, STATION)
        spans = []
        t0, t1 = FIRST.timestamp(), END.timestamp()
        for _ in range(2 * spans_per_year):
            start = t0 + rng.random() * (t1 - t0 - 3600)
            length = 60.0 * rng.randint(2, 60)
            spans.append(
                WeatherExclusion(
                    STATION,
                    datetime.fromtimestamp(start, UTC),
                    datetime.fromtimestamp(start + length, UTC),
                    6.0,
                    8.0,
                    None,
                    "wind 6.0 m/s at 4 m",
                )
            )
        meta.weather_exclusions.merge(STATION, spans, 60.0)
        for s in SENSORS:
            for month in range(1, 25, 3):
                when = FIRST.replace(year=2025 + (month - 1) // 12, month=(month - 1) % 12 + 1)
                drift = 0.8 if (s == SENSORS[3] and month == 19) else 0.1
                meta.calibrations.add(
                    Calibration(
                        sensor_id=s,
                        ts=(when + timedelta(days=14, hours=10)).astimezone(UTC),
                        kind="field",
                        reference_db=94.0,
                        before_db=94.0 + drift,
                        after_db=94.0,
                        by="J. Hansen",
                    )
                )
        for i in range(20):
            start = datetime(2026, 1 + i % 12, 3 + i, 9, tzinfo=CPH).astimezone(UTC)
            meta.annotations.add(
                Annotation(
                    start=start,
                    end=start + timedelta(hours=6),
                    category="roadworks" if i % 2 else "event",
                    text=f"Annotation {i}",
                    created_by="kommune",
                    sensor_ids=(SENSORS[i % 12],),
                    exclude=i % 4 == 0,
                )
            )
        rule = meta.alerts.add_rule(AlertRule(name="LAeq above 70", metric="laeq", threshold=70.0))
        for i in range(60):
            when = datetime(2026, 1 + i % 12, 1 + i % 27, 8, tzinfo=CPH).astimezone(UTC)
            alert = meta.alerts.open_new(
                rule, SENSORS[i % 12], now=when, value=71.0, unit="dB", evidence={}
            )
            assert alert is not None
            meta.alerts.resolve(
                alert.id, actor="kommune", key_id=None, note=f"checked {i}", now=when
            )
        for i in range(120):
            when = datetime(2026, 1 + i % 12, 1 + i % 27, 22, tzinfo=CPH).astimezone(UTC)
            meta.citizen_reports.add(
                CitizenReport(
                    ts=when, lat=55.62 + 0.0005 * (i % 20), lon=12.38, category="road",
                    text=f"Loud at night ({i})",
                )
            )  # fmt: skip


def timed(fn: Callable[[], object], runs: int = 3) -> float:
    """Median wall time of ``runs`` calls after a warm-up, s."""
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--spans", type=int, default=3000, help="weather spans a year")
    parser.add_argument("--cache", type=Path, default=None, help="keep the built store here")
    args = parser.parse_args()
    print(machine.describe())
    root = args.cache or Path(tempfile.mkdtemp(prefix="noiselab-report-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    store_path = root / "readings.db"
    meta_url = f"sqlite:///{root / f'metadata-{args.spans}.db'}"
    if not store_path.exists():
        t = time.perf_counter()
        build_store(store_path)
        print(f"built the store in {time.perf_counter() - t:.1f} s")
    if not (root / f"metadata-{args.spans}.db").exists():
        build_metadata(meta_url, args.spans)
    compacted = root / "compacted.db"
    if not compacted.exists():
        compacted_copy(store_path, compacted)
    year, month = ReportPeriod(2026), ReportPeriod(2026, 11)

    def report(period: ReportPeriod, path: Path = store_path) -> Callable[[], object]:
        def run() -> None:
            with SqliteStore(path) as store, MetadataStore(meta_url) as meta:
                validity = deployment_validity(meta, CPH, keep=True)
                built = build_report(store, meta, validity, period, PLAN)
                render_html(built)
                render_csv(built)

        return run

    def baseline() -> None:
        with SqliteStore(store_path) as store:
            for sensor in SENSORS:
                for y in (2025, 2026):
                    first = datetime(y, 1, 1).date()
                    daily_indicators(store, PLAN, sensor, first, first.replace(year=y + 1))

    with MetadataStore(meta_url) as meta:
        spans = len(meta.weather_exclusions.overlapping(STATION, FIRST, END))
    base = timed(baseline)
    print(f"weather exclusion spans (after merging): {spans:,}")
    print(f"baseline: bare daily indicators of 24 sensor-years   {base * 1000:8.0f} ms")
    for label, path in (("hot store", store_path), ("compacted store", compacted)):
        annual = timed(report(year, path))
        monthly = timed(report(month, path))
        print(
            f"{label:16s} annual report, 12 sensors     {annual * 1000:8.0f} ms"
            f"  ({annual / base:.1f} x baseline; target < 5,000 ms)"
        )
        print(f"{label:16s} monthly report (2026-11)      {monthly * 1000:8.0f} ms")
    if args.cache is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
