"""The InfluxDB adapter against a live InfluxDB 2, compared with the SQLite store on the same data.

Skipped unless ``NOISELAB_TEST_INFLUX_URL`` (e.g. ``http://127.0.0.1:8086``),
``NOISELAB_TEST_INFLUX_TOKEN`` (an all-access token) and ``NOISELAB_TEST_INFLUX_ORG`` are set;
see docs/deployment.md. Each test writes into a bucket of its own, deleted afterwards.

The ``noise_1h`` checks are those the protocol tests run against the in-memory stand-in
(``support.hour_rollup``), here with the points read back from the real server.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from support.hour_rollup import (
    H0,
    assert_same_levels,
    by_key,
    cells_of_records,
    hour_readings,
    hours_from_minutes,
    levels_from_minutes,
    live,
    write_all,
)

from noiselab.model import Reading
from noiselab.store.influx_flux import rollup_query
from noiselab.store.sqlite import SqliteStore

URL = os.environ.get("NOISELAB_TEST_INFLUX_URL")
TOKEN = os.environ.get("NOISELAB_TEST_INFLUX_TOKEN")
ORG = os.environ.get("NOISELAB_TEST_INFLUX_ORG")

pytestmark = pytest.mark.skipif(
    not (URL and TOKEN and ORG),
    reason="no live InfluxDB: set NOISELAB_TEST_INFLUX_URL, _TOKEN and _ORG (docs/deployment.md)",
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = (datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 2, 2, tzinfo=UTC))


@dataclass
class Live:
    store: Any
    client: Any
    bucket: str

    def cells(self, measurement):
        """Every point of ``measurement`` for kbm-25m, read back with the adapter's Flux."""
        flux = rollup_query(self.bucket, measurement, ["kbm-25m"], *DAY)
        tables = self.client.query_api().query(flux, org=ORG)
        return cells_of_records(dict(r.values) for table in tables for r in table.records)

    def hours(self):
        return by_key(live(self.cells("noise_1h")))


@pytest.fixture
def live_influx():
    from influxdb_client.client.influxdb_client import InfluxDBClient

    from noiselab.store.influx import InfluxStore

    assert URL
    assert TOKEN
    assert ORG
    name = f"noiselab-test-{uuid.uuid4().hex[:10]}"
    client = InfluxDBClient(url=URL, token=TOKEN, org=ORG)
    bucket = client.buckets_api().create_bucket(bucket_name=name, org=ORG)
    store = InfluxStore(url=URL, token=TOKEN, org=ORG, bucket=name)
    yield Live(store, client, name)
    store.close()
    client.buckets_api().delete_bucket(bucket)
    client.close()


@pytest.fixture
def influx(live_influx):
    return live_influx.store


@pytest.fixture
def sqlite(tmp_path):
    store = SqliteStore(tmp_path / "noise.db")
    yield store
    store.close()


def _readings() -> list[Reading]:
    rng = np.random.default_rng(7)
    levels = 55.0 + 10.0 * rng.random(600)
    start = T0.timestamp()
    readings = [
        Reading("kbm-25m", start + i, float(round(level, 1)), 1.0, float(round(level + 3, 1)))
        for i, level in enumerate(levels)
    ]
    # A late reading, a re-delivery with a new value and a long reading across minutes.
    readings.append(Reading("kbm-25m", start - 30.0, 61.0, 1.0))
    readings.append(Reading("kbm-25m", start + 10.0, 70.0, 1.0))
    readings.append(Reading("kbm-25m", start + 700.0, 64.0, 145.0))
    return readings


def test_influx_and_sqlite_agree(influx, sqlite):
    readings = _readings()
    for store in (influx, sqlite):
        for chunk in range(0, len(readings), 250):
            store.write(readings[chunk : chunk + 250], received_at=T0.timestamp() + 900)
    start, end = T0 - timedelta(minutes=5), T0 + timedelta(minutes=20)

    raw_i, raw_s = influx.series("kbm-25m", start, end), sqlite.series("kbm-25m", start, end)
    assert raw_i.ts.tolist() == raw_s.ts.tolist()
    np.testing.assert_allclose(raw_i.laeq, raw_s.laeq)
    np.testing.assert_allclose(raw_i.duration, raw_s.duration)

    min_i = influx.minute_series("kbm-25m", start, end)
    min_s = sqlite.minute_series("kbm-25m", start, end)
    energy_i = float(np.sum(min_i.duration * 10 ** (min_i.laeq / 10)))
    energy_s = float(np.sum(min_s.duration * 10 ** (min_s.laeq / 10)))
    assert energy_i == pytest.approx(energy_s, rel=1e-9)
    assert float(np.sum(min_i.duration)) == pytest.approx(float(np.sum(min_s.duration)))

    (activity,) = influx.activity()
    assert activity.sensor_id == "kbm-25m"
    assert activity.last_ts == pytest.approx(T0.timestamp() + 845.0)


def test_noise_1h_is_exactly_the_sum_of_noise_1m(live_influx):
    write_all([live_influx.store], hour_readings(), order=[3, 0, 5, 1, 4, 2, 6])
    hours = live_influx.hours()
    assert hours == hours_from_minutes(live_influx.cells("noise_1m"))  # bit for bit
    assert sorted(ts for _, ts in hours) == [
        round((H0 + 3600 * h) * 1000) for h in (0, 1, 2, 3, 6, 7)
    ]


def test_redelivery_keeps_noise_1h_and_an_emptied_hour_is_dropped(live_influx, sqlite):
    readings = hour_readings()
    write_all([live_influx.store, sqlite], readings)
    minutes, hours = live_influx.cells("noise_1m"), live_influx.cells("noise_1h")
    write_all([live_influx.store], readings)
    assert live_influx.cells("noise_1m") == minutes
    assert live_influx.cells("noise_1h") == hours

    # Half a second in 21:00, an hour without other data, then re-delivered shorter.
    reading = Reading("kbm-25m", H0 + 5 * 3600 - 0.5, 60.0, 1.0, 64.0, 55.0)
    shorter = Reading("kbm-25m", H0 + 5 * 3600 - 0.5, 60.0, 0.5, 64.0, 55.0)
    hour_21 = ("kbm-25m", round((H0 + 5 * 3600) * 1000))
    for store in (live_influx.store, sqlite):
        store.write([reading], received_at=H0 + 30000)
    assert live_influx.hours()[hour_21]["seconds"] == 0.5
    for store in (live_influx.store, sqlite):
        store.write([shorter], received_at=H0 + 30005)
    emptied = by_key(live_influx.cells("noise_1h"))[hour_21]
    assert (emptied["energy"], emptied["seconds"], emptied["hist"]) == (0.0, 0.0, "")
    assert live_influx.hours() == hours_from_minutes(live_influx.cells("noise_1m"))
    start, end = DAY
    ts = live_influx.store.hour_series("kbm-25m", start, end).ts
    assert hour_21[1] / 1000 not in ts.tolist()
    assert_same_levels(
        live_influx.store.levels("kbm-25m", start, end, "1h"),
        sqlite.levels("kbm-25m", start, end, "1h"),
    )


@pytest.mark.parametrize(
    ("every", "zone"),
    [("1h", "Europe/Copenhagen"), ("1d", "Europe/Copenhagen"), ("1d", "Asia/Kolkata")],
)
def test_hour_levels_and_series_equal_the_minutes(live_influx, sqlite, every, zone):
    write_all([live_influx.store, sqlite], hour_readings(), order=[2, 0, 1, 6, 3, 5, 4])
    start, end = datetime(2026, 3, 1, 14, 10, tzinfo=UTC), datetime(2026, 3, 2, 1, tzinfo=UTC)
    got = live_influx.store.levels("kbm-25m", start, end, every, ZoneInfo(zone))
    minutes = live_influx.cells("noise_1m")
    assert_same_levels(got, levels_from_minutes(minutes, start, end, every, ZoneInfo(zone)))
    assert_same_levels(got, sqlite.levels("kbm-25m", start, end, every, ZoneInfo(zone)))
    assert len(got) >= 2

    hours = live_influx.store.hour_series("kbm-25m", start, end)
    expected = sqlite.hour_series("kbm-25m", start, end)
    assert hours.ts.tolist() == expected.ts.tolist()
    np.testing.assert_allclose(hours.laeq, expected.laeq, rtol=0, atol=1e-9)
    np.testing.assert_allclose(hours.duration, expected.duration, rtol=1e-12)
    np.testing.assert_array_equal(hours.lafmax, expected.lafmax)


def test_rebuilding_noise_1h_rewrites_the_same_hours(live_influx):
    write_all([live_influx.store], hour_readings())
    hours = live_influx.cells("noise_1h")
    assert live_influx.store.rebuild_hour_rollup("kbm-25m", *DAY) == len(hours)
    assert live_influx.cells("noise_1h") == hours
