"""The InfluxDB adapter against a live InfluxDB 2, compared with the SQLite store on the same data.

Skipped unless ``NOISELAB_TEST_INFLUX_URL`` (e.g. ``http://127.0.0.1:8086``),
``NOISELAB_TEST_INFLUX_TOKEN`` (an all-access token) and ``NOISELAB_TEST_INFLUX_ORG`` are set;
see docs/deployment.md. Each test writes into a bucket of its own, deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from noiselab.model import Reading
from noiselab.store.sqlite import SqliteStore

URL = os.environ.get("NOISELAB_TEST_INFLUX_URL")
TOKEN = os.environ.get("NOISELAB_TEST_INFLUX_TOKEN")
ORG = os.environ.get("NOISELAB_TEST_INFLUX_ORG")

pytestmark = pytest.mark.skipif(
    not (URL and TOKEN and ORG),
    reason="no live InfluxDB: set NOISELAB_TEST_INFLUX_URL, _TOKEN and _ORG (docs/deployment.md)",
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def influx():
    from influxdb_client.client.influxdb_client import InfluxDBClient

    from noiselab.store.influx import InfluxStore

    assert URL
    assert TOKEN
    assert ORG
    name = f"noiselab-test-{uuid.uuid4().hex[:10]}"
    client = InfluxDBClient(url=URL, token=TOKEN, org=ORG)
    bucket = client.buckets_api().create_bucket(bucket_name=name, org=ORG)
    store = InfluxStore(url=URL, token=TOKEN, org=ORG, bucket=name)
    yield store
    store.close()
    client.buckets_api().delete_bucket(bucket)
    client.close()


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
