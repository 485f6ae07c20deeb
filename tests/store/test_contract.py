"""The time-series store contract, run on every adapter: SQLite always, InfluxDB 2 when
``NOISELAB_TEST_INFLUX_URL``, ``NOISELAB_TEST_INFLUX_TOKEN`` and ``NOISELAB_TEST_INFLUX_ORG``
are set (a fresh bucket per test; see docs/deployment.md). Expected values are computed by
hand in the comments, not by another store.

SQLite runs twice: as is, and compacting every hour it holds after each write (a hot window of
zero), so that every answer comes from compressed chunks and the tiers, and every later write
lands in compacted hours (thawed, rewritten, compacted again).

The immutable-history tests (``history_store``) also run on the InfluxDB adapter against the
in-memory ``tests/support/influx_fake.py``, which stores points as InfluxDB does (a point
written again at the same time overwrites the stored one), so they fail if the adapter writes
a conflicting reading at all.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from support.http_fake import RecordingServer
from support.influx_fake import FakeInflux

from noiselab.analysis.buckets import Every
from noiselab.analysis.corrections import RangeCorrection
from noiselab.errors import QueryError
from noiselab.model import Reading, Spectrum
from noiselab.store.base import ReadingStore, WriteResult
from noiselab.store.sqlite import SqliteStore

CPH = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
S = T0.timestamp()
INFLUX = (
    os.environ.get("NOISELAB_TEST_INFLUX_URL"),
    os.environ.get("NOISELAB_TEST_INFLUX_TOKEN"),
    os.environ.get("NOISELAB_TEST_INFLUX_ORG"),
)


class _CompactingStore(SqliteStore):
    """A SQLite store that compacts everything it holds after each write."""

    def write(self, readings: Sequence[Reading], received_at: float) -> WriteResult:
        result = super().write(readings, received_at)
        report = self.compact(older_than_s=0.0, now=_FAR_FUTURE)
        assert report.left_hot == 0
        assert report.pending == 0
        return result


_FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


@pytest.fixture(params=["sqlite", "sqlite-compacted", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    yield from _opened(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "sqlite-compacted", "influxdb-fake", "influxdb"])
def history_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    yield from _opened(request.param, tmp_path)


def _opened(kind: str, tmp_path: Path) -> Iterator[ReadingStore]:
    if kind == "influxdb-fake":
        from noiselab.store.influx import InfluxStore

        server = RecordingServer(FakeInflux().respond)
        with InfluxStore(url=server.url, token="t", org="lab", bucket="noise") as fake:
            yield fake
        server.close()
        return
    if kind == "sqlite":
        with SqliteStore(tmp_path / "noise.db") as sqlite:
            yield sqlite
        return
    if kind == "sqlite-compacted":
        with _CompactingStore(tmp_path / "noise.db") as compacting:
            yield compacting
            hot = compacting._conn.execute("SELECT count(*) FROM readings").fetchone()[0]
            assert hot == 0  # every answer came from chunks
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


def test_redelivery_changes_nothing_and_a_different_reading_is_refused(store):
    batch = [Reading("a", S + i, 60.0 + i, 1.0) for i in range(5)]
    store.write(batch, S + 10)
    store.write(batch, S + 11)  # re-delivered
    result = store.write([Reading("a", S + 4, 50.0, 1.0)], S + 12)  # a rewrite: refused
    (conflict,) = result.conflicts
    assert (conflict.stored.laeq, conflict.offered.laeq) == (64.0, 50.0)
    series = store.series("a", T0, T0 + timedelta(minutes=1))
    assert series.laeq.tolist() == [60.0, 61.0, 62.0, 63.0, 64.0]
    (point,) = store.levels("a", T0, T0 + timedelta(minutes=1), "1m")
    # 10·log10((10^6 + 10^6.1 + 10^6.2 + 10^6.3 + 10^6.4) / 5)
    #   = 10·log10(8,350,967 / 5) = 10·log10(1,670,193) = 62.23 dB, over 5 of 60 s
    assert round(point.laeq, 2) == round(_level((60, 1), (61, 1), (62, 1), (63, 1), (64, 1)), 2)
    assert round(point.laeq, 2) == 62.23
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


# -- roll-up tiers: hours and local days -------------------------------------------------------


def test_the_autumn_day_has_25_hours_from_the_hourly_tier(store):
    # 25 October 2026 in Copenhagen runs 22:00Z (24 Oct) to 23:00Z: 25 hours. One 60-s reading
    # at the start of each UTC hour, at 50 dB except 80 dB in the repeated 02:00 hour (01:00Z).
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    loud = datetime(2026, 10, 25, 1, tzinfo=UTC)
    readings = [
        Reading("a", (start + timedelta(hours=h)).timestamp(), 50.0, 60.0) for h in range(25)
    ]
    readings[3] = Reading("a", loud.timestamp(), 80.0, 60.0)
    store.write(readings, S)
    local = datetime(2026, 10, 25, tzinfo=CPH)
    (day,) = store.levels("a", local, local + timedelta(days=1), "1d", CPH)
    # 10·log10((24·10^5 + 10^8) / 25) = 10·log10(4,096,000) = 66.12 dB over 1,500 of 90,000 s
    assert round(day.laeq, 2) == round(_level((50, 24 * 60), (80, 60)), 2) == 66.12
    assert day.coverage == pytest.approx(1500 / 90_000)
    assert day.t == start
    hours = store.levels("a", local, local + timedelta(days=1), "1h", CPH)
    assert len(hours) == 25
    assert [round(p.laeq, 2) for p in hours] == [50.0] * 3 + [80.0] + [50.0] * 21
    series = store.hour_series("a", start, start + timedelta(hours=25))
    assert series.ts.tolist() == [(start + timedelta(hours=h)).timestamp() for h in range(25)]
    assert series.duration.tolist() == [60.0] * 25


def test_a_day_and_its_hours_agree_across_spring_forward(store):
    # 29 March 2026: 23 hours. Per hour ten 1-s readings at 40 + hour dB: the day is the
    # energetic mean of all 230 s, its L10/L90 come from the merged histograms.
    start = datetime(2026, 3, 28, 23, tzinfo=UTC)
    readings = [
        Reading("a", (start + timedelta(hours=h)).timestamp() + i, 40.0 + h, 1.0)
        for h in range(23)
        for i in range(10)
    ]
    store.write(readings, S)
    local = datetime(2026, 3, 29, tzinfo=CPH)
    (day,) = store.levels("a", local, local + timedelta(days=1), "1d", CPH)
    expected = _level(*[(40.0 + h, 10) for h in range(23)])
    assert round(day.laeq, 2) == round(expected, 2)
    assert day.coverage == pytest.approx(230 / (23 * 3600))
    # Exceeded 10 % of 230 s (23 s): the top two hours (62, 61 dB) hold 20 s, so L10 = 60 dB.
    assert day.l10 == 60.0
    # Exceeded 90 % (207 s): the lowest two hours (40, 41 dB) hold 20 s, so L90 = 42 dB.
    assert day.l90 == 42.0
    assert len(store.levels("a", local, local + timedelta(days=1), "1h", CPH)) == 23


def test_days_in_another_zone_come_out_exact(store):
    # A bucket of a UTC day spans parts of two Copenhagen days: 60 s at 70 dB just before
    # 00:00Z and 60 s at 50 dB just after, each in its own UTC day.
    midnight = datetime(2026, 6, 10, tzinfo=UTC)
    store.write(
        [
            Reading("a", midnight.timestamp() - 60, 70.0, 60.0),
            Reading("a", midnight.timestamp(), 50.0, 60.0),
        ],
        S,
    )
    utc_zone = ZoneInfo("UTC")
    days = store.levels(
        "a", midnight - timedelta(days=1), midnight + timedelta(days=1), "1d", utc_zone
    )
    assert [(p.t, round(p.laeq, 2)) for p in days] == [
        (midnight - timedelta(days=1), 70.0),
        (midnight, 50.0),
    ]
    # India is 5 h 30 min ahead: its midnights fall on half hours, so edges come from minutes.
    india = ZoneInfo("Asia/Kolkata")
    local = datetime(2026, 6, 10, tzinfo=india)
    (day,) = store.levels("a", local, local + timedelta(days=1), "1d", india)
    assert round(day.laeq, 2) == round(_level((70, 60), (50, 60)), 2)


def test_redelivery_into_old_hours_is_stored_once(store):
    batch = [Reading("a", S + i, 60.0 + (i % 7), 1.0) for i in range(600)]
    store.write(batch, S + 700)
    before = store.levels("a", T0, T0 + timedelta(hours=1), "1h")
    store.write(batch[100:200], S + 800)  # re-delivered
    assert store.levels("a", T0, T0 + timedelta(hours=1), "1h") == before
    assert len(store.series("a", T0, T0 + timedelta(hours=1))) == 600


# --------------------------------------------------------------------------- immutable history


def test_an_exact_redelivery_is_stored_once(history_store):
    batch = [Reading("a", S + i, 60.5 + i, 1.0, 63.0 + i, 58.0, seq=i) for i in range(3)]
    assert history_store.write(batch, S + 10) == WriteResult(inserted=3, unchanged=0)
    assert history_store.write(batch, S + 20) == WriteResult(inserted=0, unchanged=3)
    assert history_store.write(batch + batch, S + 30) == WriteResult(inserted=0, unchanged=6)
    series = history_store.series("a", T0, T0 + timedelta(minutes=1))
    assert series.laeq.tolist() == [60.5, 61.5, 62.5]


def test_a_different_reading_for_a_stored_second_is_refused_with_both_values(history_store):
    """The finding: 71.5 dB stored, 120 dB offered later for the same second."""
    history_store.write([Reading("a", S, 71.5, 1.0, 74.0)], S + 1)
    result = history_store.write([Reading("a", S, 120.0, 1.0, 74.0)], S + 60)
    assert (result.inserted, result.unchanged) == (0, 0)
    (conflict,) = result.conflicts
    assert conflict.stored == Reading("a", S, 71.5, 1.0, 74.0)
    assert conflict.offered == Reading("a", S, 120.0, 1.0, 74.0)
    assert conflict.detail() == "at 2026-03-02T12:00:00Z: laeq stored 71.5, offered 120.0"
    assert history_store.series("a", T0, T0 + timedelta(seconds=1)).laeq.tolist() == [71.5]
    (second,) = history_store.levels("a", T0, T0 + timedelta(seconds=1), "1s")
    (minute,) = history_store.levels("a", T0, T0 + timedelta(minutes=1), "1m")
    assert (second.laeq, minute.laeq, minute.lafmax) == (71.5, pytest.approx(71.5), 74.0)


def test_a_conflict_does_not_hold_back_the_rest_of_its_batch(history_store):
    history_store.write([Reading("a", S, 60.0)], S + 1)
    result = history_store.write([Reading("a", S, 61.0), Reading("a", S + 1, 62.0)], S + 2)
    assert (result.inserted, result.unchanged, len(result.conflicts)) == (1, 0, 1)
    series = history_store.series("a", T0, T0 + timedelta(minutes=1))
    assert series.laeq.tolist() == [60.0, 62.0]


def test_within_one_batch_the_first_reading_of_a_second_wins(history_store):
    batch = [Reading("a", S, 70.0), Reading("a", S, 80.0), Reading("a", S, 70.0)]
    result = history_store.write(batch, S + 1)
    assert (result.inserted, result.unchanged) == (1, 1)
    (conflict,) = result.conflicts
    assert (conflict.stored.laeq, conflict.offered.laeq) == (70.0, 80.0)
    assert history_store.series("a", T0, T0 + timedelta(minutes=1)).laeq.tolist() == [70.0]


@pytest.mark.parametrize(
    ("offered", "field"),
    [
        (Reading("a", S, 60.01, 1.0, 65.0, 55.0, seq=7), "laeq"),
        (Reading("a", S, 60.0, 2.0, 65.0, 55.0, seq=7), "duration"),
        (Reading("a", S, 60.0, 1.0, None, 55.0, seq=7), "lafmax"),
        (Reading("a", S, 60.0, 1.0, 65.0, 54.0, seq=7), "lafmin"),
        (Reading("a", S, 60.0, 1.0, 65.0, 55.0, seq=8), "seq"),
        (Reading("a", S, 60.0, 1.0, 65.0, 55.0, Spectrum((1000.0,), (50.0,)), 7), "spectrum"),
    ],
)
def test_every_field_of_a_reading_is_compared(history_store, offered, field):
    stored = Reading("a", S, 60.0, 1.0, 65.0, 55.0, seq=7)
    history_store.write([stored], S + 1)
    (conflict,) = history_store.write([offered], S + 2).conflicts
    assert conflict.detail().split(": ")[1].startswith(f"{field} stored ")
    assert history_store.series("a", T0, T0 + timedelta(minutes=1)).duration.tolist() == [1.0]


def test_spectra_and_levels_compare_at_the_stored_precision(history_store):
    """Levels within 0.005 dB (half the 0.01 dB a compacted hour keeps) are the same value."""
    spectrum = Spectrum((500.0, 1000.0), (48.25, 51.5))
    history_store.write([Reading("a", S, 60.123, 1.0, spectrum=spectrum)], S + 1)
    again = Reading("a", S, 60.12, 1.0, spectrum=Spectrum((500.0, 1000.0), (48.25, 51.5)))
    assert history_store.write([again], S + 2) == WriteResult(inserted=0, unchanged=1)
    louder = Reading("a", S, 60.12, 1.0, spectrum=Spectrum((500.0, 1000.0), (48.25, 51.6)))
    (conflict,) = history_store.write([louder], S + 3).conflicts
    assert "spectrum stored 2 bands, LZeq [48.25, 51.5]" in conflict.detail()


@pytest.fixture(params=["sqlite", "sqlite-compacted", "influxdb-fake", "influxdb"])
def sums_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    yield from _opened(request.param, tmp_path)


def test_minute_sums_add_the_minutes_starting_in_each_span(sums_store):
    """One-minute readings at 12:00, 12:01 and 12:02 (60, 70, 50 dB; LAFmax 65, 75, 55) and
    13:05 (80 dB, LAFmax 85). A minute counts in the span its start lies in:

    * [12:00:30, 12:02): the minute 12:01 only: 70 dB, 60 s, LAFmax 75;
    * [12:02, 13:06): 12:02 and 13:05: 10·log10((60·10^5 + 60·10^8) / 120) = 76.99 dB, 120 s,
      LAFmax 85;
    * [13:10, 13:20): nothing, so no row."""
    levels = [(0, 60.0), (1, 70.0), (2, 50.0), (65, 80.0)]
    sums_store.write(
        [Reading("a", S + 60 * m, level, 60.0, level + 5) for m, level in levels], S + 3 * 3600
    )
    spans = np.array([[S + 30, S + 120], [S + 120, S + 66 * 60], [S + 70 * 60, S + 80 * 60]])
    sums = sums_store.minute_sums("a", spans[:, 0], spans[:, 1])
    assert sums.ts.tolist() == [S + 30, S + 120]
    assert sums.duration.tolist() == [60.0, 120.0]
    assert [round(v, 2) for v in sums.laeq.tolist()] == [70.0, round(_level((50, 60), (80, 60)), 2)]
    assert round(sums.laeq[1], 2) == 76.99
    assert sums.lafmax.tolist() == [75.0, 85.0]
    assert len(sums_store.minute_sums("a", np.zeros(0), np.zeros(0))) == 0


def test_minute_sums_of_overlapping_readings_do_not_reach_past_their_span(sums_store):
    """60-s readings from 12:00:00 and 12:00:30 (both 60 dB): the minute 12:00 holds 90 s, the
    span [12:00, 12:01) gives two rows of 45 s from 12:00, the energy of all 90 s."""
    sums_store.write([Reading("a", S, 60.0, 60.0), Reading("a", S + 30, 60.0, 60.0)], S + 120)
    sums = sums_store.minute_sums("a", np.array([S]), np.array([S + 60]))
    assert sums.ts.tolist() == [S, S]
    assert sums.duration.tolist() == [45.0, 45.0]
    assert [round(v, 9) for v in sums.laeq.tolist()] == [60.0, 60.0]


@pytest.mark.parametrize(
    ("starts", "ends"),
    [([S, S + 30], [S + 60, S + 90]), ([S + 60], [S]), ([S], [S + 60, S + 120])],
    ids=["overlapping", "empty", "unequal"],
)
def test_minute_sums_refuse_spans_that_overlap_are_empty_or_unpaired(sums_store, starts, ends):
    with pytest.raises(QueryError):
        sums_store.minute_sums("a", np.array(starts), np.array(ends))


def _half_and_half(store: ReadingStore) -> None:
    """12:00-13:00 UTC in 1-s readings: 70 dB (LAFmax 75) for 30 minutes, then 60 dB (65)."""
    store.write(
        [
            Reading("a", S + i, 70.0 if i < 1800 else 60.0, 1.0, 75.0 if i < 1800 else 65.0)
            for i in range(3600)
        ],
        S + 3600,
    )


def test_valid_levels_leave_the_excluded_minutes_out_of_every_value(sums_store):
    """Weather excludes 12:00-12:30. The hour: 60.00 dB over the 1,800 s kept (coverage 0.5),
    LAFmax 65, L10 = L50 = L90 = 60.0, 1,800 s left out; as measured it is
    10·log10((10^7 + 10^6) / 2) = 67.40 dB, LAFmax 75, L10 70. In 15-minute buckets the first
    two are left out whole (counted, not returned)."""
    _half_and_half(sums_store)
    weather = (RangeCorrection(S, S + 1800, "exclude", cause="weather"),)
    end = T0 + timedelta(hours=1)
    (hour,) = sums_store.valid_levels("a", T0, end, Every.H1, CPH, ranges=weather).points
    assert (round(hour.laeq, 2), hour.coverage, hour.lafmax) == (60.0, 0.5, 65.0)
    assert (hour.l10, hour.l50, hour.l90, hour.excluded_s) == (60.0, 60.0, 60.0, 1800.0)
    (measured,) = sums_store.levels("a", T0, end, "1h")
    assert (round(measured.laeq, 2), measured.lafmax, measured.l10) == (67.40, 75.0, 70.0)
    assert measured.excluded_s == 0.0
    quarters = sums_store.valid_levels("a", T0, end, Every.M15, CPH, ranges=weather)
    assert [p.t for p in quarters.points] == [T0 + timedelta(minutes=m) for m in (30, 45)]
    assert [p.excluded_s for p in quarters.points] == [0.0, 0.0]
    assert quarters.excluded_s == {"correction": 0.0, "annotation": 0.0, "weather": 1800.0}
    seconds = sums_store.valid_levels(
        "a", T0 + timedelta(minutes=29), T0 + timedelta(minutes=31), Every.S1, CPH, ranges=weather
    )
    assert len(seconds.points) == 60
    assert seconds.points[0].t == T0 + timedelta(minutes=30)
    assert seconds.excluded_s["weather"] == 60.0


def test_valid_levels_shift_by_an_offset_and_drop_percentiles_where_it_begins(sums_store):
    """-3 dB on 12:00-12:30 (a correction found the microphone 3 dB high). The hour:
    10·log10((10^6.7 + 10^6) / 2) = 64.78 dB, LAFmax 72; the offset begins inside no bucket
    but ends inside the hour, so its L10/L50/L90 are left out (``offset_cut`` 1). The first
    15-minute bucket lies wholly under the offset: 67.00 dB, L10 = L90 = 67.0 exactly."""
    _half_and_half(sums_store)
    offset = (RangeCorrection(S, S + 1800, "offset", -3.0),)
    end = T0 + timedelta(hours=1)
    answer = sums_store.valid_levels("a", T0, end, Every.H1, CPH, ranges=offset)
    (hour,) = answer.points
    assert (round(hour.laeq, 2), hour.lafmax, hour.l10, hour.coverage) == (64.78, 72.0, None, 1.0)
    assert answer.offset_cut == 1
    quarters = sums_store.valid_levels("a", T0, end, Every.M15, CPH, ranges=offset).points
    assert (round(quarters[0].laeq, 2), quarters[0].l10, quarters[0].l90) == (67.0, 67.0, 67.0)
    assert (round(quarters[3].laeq, 2), quarters[3].l10) == (60.0, 60.0)
