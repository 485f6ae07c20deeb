"""The time-series store contract, run on every adapter: SQLite always, InfluxDB 2 when
``NOISELAB_TEST_INFLUX_URL``, ``NOISELAB_TEST_INFLUX_TOKEN`` and ``NOISELAB_TEST_INFLUX_ORG``
are set (a fresh bucket per test; see docs/deployment.md). Expected values are computed by
hand in the comments, not by another store.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from noiselab.model import Reading, Spectrum
from noiselab.store.base import ReadingStore
from noiselab.store.sqlite import SqliteStore

CPH = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
S = T0.timestamp()
INFLUX = (
    os.environ.get("NOISELAB_TEST_INFLUX_URL"),
    os.environ.get("NOISELAB_TEST_INFLUX_TOKEN"),
    os.environ.get("NOISELAB_TEST_INFLUX_ORG"),
)


@pytest.fixture(params=["sqlite", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "noise.db") as sqlite:
            yield sqlite
        return
    url, token, org = INFLUX
    if not (url and token and org):
        pytest.skip("no live InfluxDB: set NOISELAB_TEST_INFLUX_URL, _TOKEN and _ORG")
    from influxdb_client.client.influxdb_client import InfluxDBClient

    from noiselab.store.influx import InfluxStore

    client = InfluxDBClient(url=url, token=token, org=org)
    name = f"noiselab-contract-{uuid.uuid4().hex[:10]}"
    bucket = client.buckets_api().create_bucket(bucket_name=name, org=org)
    influx = InfluxStore(url=url, token=token, org=org, bucket=name)
    yield influx
    influx.close()
    client.buckets_api().delete_bucket(bucket)
    client.close()


def _level(*pairs: tuple[float, float]) -> float:
    """Energetic mean of (level dB, seconds) pairs, by hand."""
    energy = sum(seconds * 10 ** (level / 10) for level, seconds in pairs)
    return 10 * math.log10(energy / sum(seconds for _, seconds in pairs))


def test_series_round_trip_in_time_order(store):
    store.write([Reading("a", S + 2, 62.0), Reading("a", S, 60.0, 1.0, 65.0)], S + 10)
    series = store.series("a", T0, T0 + timedelta(minutes=1))
    assert series.ts.tolist() == [S, S + 2]
    assert series.laeq.tolist() == [60.0, 62.0]
    assert series.lafmax[0] == 65.0
    assert math.isnan(series.lafmax[1])


def test_redelivery_changes_nothing_and_last_write_wins(store):
    batch = [Reading("a", S + i, 60.0 + i, 1.0) for i in range(5)]
    store.write(batch, S + 10)
    store.write(batch, S + 11)  # re-delivered
    store.write([Reading("a", S + 4, 50.0, 1.0)], S + 12)  # a corrected value
    series = store.series("a", T0, T0 + timedelta(minutes=1))
    assert series.laeq.tolist() == [60.0, 61.0, 62.0, 63.0, 50.0]
    (point,) = store.levels("a", T0, T0 + timedelta(minutes=1), "1m")
    # 10·log10((10^6 + 10^6.1 + 10^6.2 + 10^6.3 + 10^5) / 5)
    #   = 10·log10(5,939,081 / 5) = 10·log10(1,187,816) = 60.75 dB, over 5 of 60 s
    assert round(point.laeq, 2) == round(_level((60, 1), (61, 1), (62, 1), (63, 1), (50, 1)), 2)
    assert round(point.laeq, 2) == 60.75
    assert point.coverage == pytest.approx(5 / 60)


def test_minute_levels_are_energetic_with_lafmax_and_coverage(store):
    store.write([Reading("a", S, 60.0, 1.0, 63.0), Reading("a", S + 1, 70.0, 1.0, 74.0)], S + 5)
    (point,) = store.levels("a", T0, T0 + timedelta(minutes=15), "15m")
    # 10·log10((10^6 + 10^7) / 2) = 67.40 dB (not the arithmetic 65), 2 of 900 s
    assert round(point.laeq, 2) == 67.40
    assert point.lafmax == 74.0
    assert point.coverage == pytest.approx(2 / 900)
    assert point.t == T0


def test_exceedance_levels_within_a_tenth_of_a_db(store):
    # 60 one-second readings 40.0, 40.1, ..., 45.9 dB: exceeded 10 % of the time (6 s) is
    # between 45.3 and 45.4, 50 % between 42.9 and 43.0, 90 % between 40.5 and 40.6.
    store.write([Reading("a", S + i, round(40.0 + i / 10, 1), 1.0) for i in range(60)], S + 61)
    (point,) = store.levels("a", T0, T0 + timedelta(minutes=1), "1m")
    assert abs(point.l10 - 45.35) <= 0.1
    assert abs(point.l50 - 42.95) <= 0.1
    assert abs(point.l90 - 40.55) <= 0.1


def test_second_buckets_spread_a_long_reading(store):
    # One 2.5-s reading at 60 dB from 12:00:00.5: seconds 0, 1, 2 get 0.5, 1 and 1 s.
    store.write([Reading("a", S + 0.5, 60.0, 2.5)], S + 5)
    points = store.levels("a", T0, T0 + timedelta(seconds=4), "1s")
    assert [(p.t, p.coverage) for p in points] == [
        (T0, 0.5),
        (T0 + timedelta(seconds=1), 1.0),
        (T0 + timedelta(seconds=2), 1.0),
    ]
    assert all(round(p.laeq, 2) == 60.0 for p in points)


def test_days_start_at_local_midnight_and_the_spring_day_has_23_hours(store):
    noon = datetime(2026, 3, 29, 10, tzinfo=UTC).timestamp()  # 12:00 CEST on 29 March
    store.write([Reading("a", noon, 55.0, 60.0)], noon + 60)
    start = datetime(2026, 3, 29, tzinfo=CPH)
    (day,) = store.levels("a", start, start + timedelta(days=1), "1d", CPH)
    assert day.t == datetime(2026, 3, 28, 23, tzinfo=UTC)  # local midnight, CET
    assert day.coverage == pytest.approx(60 / (23 * 3600))


def test_minute_series_keeps_the_energy_of_the_readings(store):
    readings = [Reading("a", S + 50 + i, 60.0 + i, 1.0) for i in range(20)]  # across a minute
    store.write(readings, S + 80)
    minutes = store.minute_series("a", T0, T0 + timedelta(minutes=2))
    assert minutes.ts.tolist() == [S, S + 60]
    assert minutes.duration.tolist() == [10.0, 10.0]
    energy = sum(
        d * 10 ** (level / 10) for d, level in zip(minutes.duration, minutes.laeq, strict=True)
    )
    assert energy == pytest.approx(sum(10 ** ((60.0 + i) / 10) for i in range(20)), rel=1e-12)


def test_activity_is_the_end_of_the_latest_reading(store):
    store.write([Reading("a", S, 60.0, 1.0), Reading("b", S + 30, 60.0, 5.0)], S + 40)
    store.write([Reading("a", S - 100, 60.0, 1.0)], S + 50)  # late data does not go back
    found = {a.sensor_id: a for a in store.activity()}
    assert found["a"].last_ts == S + 1
    assert found["b"].last_ts == S + 35


def test_hourly_bands_are_energetic_means(store):
    spectrum = [Spectrum((125.0, 1000.0), (40.0, 60.0)), Spectrum((125.0, 1000.0), (50.0, 70.0))]
    store.write([Reading("a", S + i, 65.0, 1.0, spectrum=s) for i, s in enumerate(spectrum)], S + 5)
    bands = store.hourly_bands("a", T0, T0 + timedelta(hours=1))
    assert bands.bands_hz.tolist() == [125.0, 1000.0]
    # 125 Hz: 10·log10((10^4 + 10^5) / 2) = 47.40; 1000 Hz: 67.40
    assert [round(x, 2) for x in bands.lzeq[0]] == [47.40, 67.40]
    assert bands.seconds.tolist() == [2.0]
    assert bands.t.tolist() == [S]
