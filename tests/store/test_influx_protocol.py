"""The InfluxDB adapter's HTTP protocol: exact requests, and parsing of documented responses.

Runs against ``tests/support/http_fake.py`` (see ``tests/data/influx/README.md`` for what the
canned answers are and are not); the hourly roll-up ``noise_1h``, which needs answers that follow
what was written, against the in-memory ``tests/support/influx_fake.py``. The store contract
suite and ``test_influx_live.py`` against a live InfluxDB are separate.
"""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.hour_rollup import (
    H0,
    Cell,
    assert_same_levels,
    by_key,
    hour_readings,
    hours_from_minutes,
    levels_from_minutes,
    live,
    write_all,
)
from support.http_fake import Answer, RecordingServer
from support.influx_fake import FakeInflux
from support.paths import DATA

from noiselab.analysis.corrections import RangeCorrection
from noiselab.config import parse_mqtt_url
from noiselab.errors import (
    ConfigError,
    QueryError,
    ReadingRejected,
    StoreError,
    StoreUnavailable,
)
from noiselab.ingest.worker import IngestSettings, IngestWorker
from noiselab.model import Reading, Sensor
from noiselab.store.influx import InfluxStore, open_influx_store
from noiselab.store.influx_flux import (
    flux_string,
    flux_time,
    raw_query,
    rollup_query,
    spectra_query,
    stored_query,
)
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore
from noiselab.store.sqlite_rollup import HIST_DTYPE

INFLUX = DATA / "influx"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()  # 1772366400
CSV = "text/csv; charset=utf-8"


def _csv(name: str) -> Answer:
    return Answer(200, (INFLUX / name).read_bytes(), CSV)


@pytest.fixture
def fake():
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture
def store(fake):
    s = InfluxStore(url=fake.url, token="s3cret-token", org="lab", bucket="noise")
    yield s
    s.close()


def _writes(fake):
    return [r for r in fake.requests if r.path == "/api/v2/write"]


def _queries(fake):
    return [json.loads(r.body)["query"] for r in fake.requests if r.path == "/api/v2/query"]


def _rows_at(name, *stamps):
    """The annotations and header of a canned CSV with only its rows at ``stamps``."""
    lines = (INFLUX / name).read_bytes().split(b"\n")
    rows = [line for line in lines[4:] if any(f",{s}Z,".encode() in line for s in stamps)]
    return Answer(200, b"\n".join(lines[:4] + rows) + b"\n\n", CSV)


def test_write_sends_line_protocol_then_the_exact_rollup(fake, store):
    # Stored already: 60 dB over [12:00:00, 12:00:01) and the 70 dB second the batch
    # re-delivers unchanged (raw_rows.csv). First every field of the readings stored in the
    # batch's own range is read (the 70 dB second), then their spectra (none), so that the
    # re-delivery is not written again; after the raw write of the new reading, every reading
    # that may overlap its minute; no minute of hour 12:00 is visible yet when the minutes are
    # read back for the hourly roll-up.
    fake.answer(
        "/api/v2/query",
        _rows_at("raw_rows.csv", "2026-03-01T12:00:01"),
        Answer(200, b"\r\n", CSV),
        _csv("raw_rows.csv"),
        Answer(200, b"\r\n", CSV),
    )
    # The batch re-delivers the 70 dB second and a new 65 dB half second.
    batch = [
        Reading("kbm-25m", T0 + 1, 70.0, 1.0, 74.1, 66.0),
        Reading("kbm-25m", T0 + 2.5, 65.0, 0.5),
    ]
    result = store.write(batch, received_at=T0 + 30)
    assert (result.inserted, result.unchanged, result.conflicts) == (1, 1, ())

    raw, rollup, hourly = _writes(fake)
    assert raw.query == {"org": "lab", "bucket": "noise", "precision": "ms"}
    assert raw.headers["authorization"] == "Token s3cret-token"
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.body.decode().split("\n") == [
        "noise,sensor_id=kbm-25m,source=unknown duration=0.5,energy=1581138.8300841898,"
        "laeq=65.0 1772366402500",
        "noise_activity,sensor_id=kbm-25m last_ts=1772366403.0 1772366430000",
    ]

    stored_at_keys, spectra, query, minute_query = _queries(fake)
    assert stored_at_keys == stored_query("noise", "noise", ["kbm-25m"], T0 + 1, T0 + 2.501)
    assert spectra == spectra_query("noise", "noise_spectrum", ["kbm-25m"], T0 + 1, T0 + 2.501)
    assert [r.path for r in fake.requests[:2]] == ["/api/v2/query"] * 2  # before the raw write
    # Minute 12:00 touched; readings up to MAX_DURATION_S (3600 s) earlier may overlap it.
    assert query == raw_query("noise", "noise", ["kbm-25m"], T0 - 3600, T0 + 60)
    assert "range(start: 2026-03-01T11:00:00.000Z, stop: 2026-03-01T12:01:00.000Z)" in query

    # Hand computation of minute 12:00 from 60 dB·1 s + 70 dB·1 s + 65 dB·0.5 s:
    # energy = 1e6 + 1e7 + 0.5·10^6.5 = 12,581,138.83; seconds = 2.5;
    # LAFmax = max(63.5, 74.1) = 74.1; LAFmin = min(57.2, 66.0) = 57.2;
    # histogram: 1000 ms at bin 600, 500 ms at 650, 1000 ms at 700.
    (line,) = rollup.body.decode().split("\n")
    head, fields, ts = line.split(" ")
    assert head == "noise_1m,sensor_id=kbm-25m"
    assert ts == "1772366400000"
    values = dict(field.split("=", 1) for field in fields.split(","))
    assert float(values["energy"]) == pytest.approx(12_581_138.83, abs=0.01)
    assert float(values["seconds"]) == 2.5
    assert (float(values["lafmax"]), float(values["lafmin"])) == (74.1, 57.2)
    hist = np.frombuffer(base64.b64decode(values["hist"].strip('"')), HIST_DTYPE)
    assert hist.tolist() == [(600, 1000), (650, 500), (700, 1000)]
    assert round(10 * math.log10(float(values["energy"]) / 2.5), 2) == 67.02

    # Then every minute of hour 12:00 is read back and merged with the minute just computed,
    # which is the hour's only one: the hour has its fields exactly, at the hour's start.
    assert minute_query == rollup_query("noise", "noise_1m", ["kbm-25m"], T0, T0 + 3600)
    assert hourly.query == raw.query
    assert hourly.body.decode() == line.replace("noise_1m,", "noise_1h,", 1)


def test_rollup_does_not_depend_on_reading_its_own_write(fake, store):
    # The read-back finds nothing (eventually consistent storage): the batch alone counts.
    empty = b"\r\n"
    fake.answer("/api/v2/query", *[Answer(200, empty, CSV)] * 3)
    store.write([Reading("kbm-25m", T0 + 59.5, 60.0, 1.0)], received_at=T0 + 61)
    _, rollup, hourly = _writes(fake)
    lines = rollup.body.decode().split("\n")
    # The reading spans 12:00:59.5-12:01:00.5: half a second in each minute.
    assert [line.split(" ")[2] for line in lines] == ["1772366400000", "1772366460000"]
    assert all("seconds=0.5" in line and "energy=500000.0" in line for line in lines)
    # Nor does the hour read its minutes back: both are summed from what was just computed,
    # their histograms (500 ms at bin 600 each) merged into one record of 1000 ms.
    hist = base64.b64encode(np.array([(600, 1000)], HIST_DTYPE).tobytes()).decode()
    assert hourly.body.decode() == (
        f'noise_1h,sensor_id=kbm-25m energy=1000000.0,hist="{hist}",seconds=1.0 1772366400000'
    )


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (400, "write_400.json", ReadingRejected, "HTTP 400 (invalid): unable to parse"),
        (401, "write_401.json", StoreError, "HTTP 401 (unauthorized): unauthorized access"),
        (404, "write_404.json", StoreError, 'HTTP 404 (not found): bucket "noise" not found'),
        (503, "write_503.json", StoreUnavailable, "HTTP 503 (unavailable)"),
    ],
)
def test_write_errors_are_classified(fake, store, status, body, error, message):
    fake.answer("/api/v2/write", Answer(status, (INFLUX / body).read_bytes()))
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        store.write([Reading("kbm-25m", T0, 60.0)], received_at=T0)
    assert caught.type is error
    assert caught.value.retryable is (status == 503)
    # The readings stored at the batch's keys are read first; no roll-up after a failed raw
    # write.
    assert [r.path for r in fake.requests] == ["/api/v2/query", "/api/v2/write"]


def test_too_many_requests_is_retryable(fake, store):
    fake.answer("/api/v2/write", Answer(429, b"", headers={"Retry-After": "5"}))
    with pytest.raises(StoreUnavailable, match="HTTP 429"):
        store.write([Reading("kbm-25m", T0, 60.0)], received_at=T0)


def test_unreachable_server_is_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = InfluxStore(url=f"http://127.0.0.1:{port}", token="t", org="o", bucket="b")
    try:
        with pytest.raises(StoreUnavailable, match="InfluxDB: cannot read the stored readings"):
            store.write([Reading("kbm-25m", T0, 60.0)], received_at=T0)
    finally:
        store.close()


def test_series_parses_annotated_csv(fake, store):
    fake.answer("/api/v2/query", _csv("raw_rows.csv"))
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    series = store.series("kbm-25m", start, datetime(2026, 3, 1, 13, 0, tzinfo=UTC))
    assert series.ts.tolist() == [T0, T0 + 1, T0 + 2.5]
    assert series.laeq.tolist() == [60.0, 70.0, 65.0]
    assert series.duration.tolist() == [1.0, 1.0, 0.5]
    assert series.lafmax[:2].tolist() == [63.5, 74.1]
    assert math.isnan(series.lafmax[2])
    (query,) = _queries(fake)
    assert "range(start: 2026-03-01T12:00:00.000Z, stop: 2026-03-01T13:00:00.000Z)" in query


def test_minute_series_skips_empty_minutes(fake, store):
    fake.answer("/api/v2/query", _csv("minutes.csv"))
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    minutes = store.minute_series("kbm-25m", start, datetime(2026, 3, 1, 12, 2, tzinfo=UTC))
    assert minutes.ts.tolist() == [T0]
    # 10·log10(11e6 / 2) = 67.40 dB
    assert round(float(minutes.laeq[0]), 2) == 67.40
    assert minutes.duration.tolist() == [2.0]
    (query,) = _queries(fake)
    assert 'r._measurement == "noise_1m"' in query


def _sqlite_with(tmp_path, readings):
    sqlite = SqliteStore(tmp_path / "noise.db")
    sqlite.write(readings, received_at=T0 + 60)
    return sqlite


RAW = [  # what raw_rows.csv holds
    Reading("kbm-25m", T0, 60.0, 1.0, 63.5, 57.2),
    Reading("kbm-25m", T0 + 1, 70.0, 1.0, 74.1, 66.0),
    Reading("kbm-25m", T0 + 2.5, 65.0, 0.5),
]


def test_minute_levels_equal_the_sqlite_store_on_the_same_data(fake, store, tmp_path):
    # minutes.csv holds the roll-up of the first two RAW readings (60 and 70 dB, 1 s each).
    fake.answer("/api/v2/query", _csv("minutes.csv"))
    start, end = datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    points = store.levels("kbm-25m", start, end, "15m")
    sqlite = _sqlite_with(tmp_path, RAW[:2])
    try:
        assert points == sqlite.levels("kbm-25m", start, end, "15m")
    finally:
        sqlite.close()
    (point,) = points
    assert (round(point.laeq, 2), point.lafmax, point.l10) == (67.40, 74.1, 70.0)
    assert point.coverage == pytest.approx(2 / 900)
    (query,) = _queries(fake)
    assert "range(start: 2026-03-01T12:00:00.000Z, stop: 2026-03-01T12:30:00.000Z)" in query


def test_second_levels_equal_the_sqlite_store_on_the_same_data(fake, store, tmp_path):
    fake.answer("/api/v2/query", _csv("raw_rows.csv"))
    start, end = datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    points = store.levels("kbm-25m", start, end, "1s")
    sqlite = _sqlite_with(tmp_path, RAW)
    try:
        assert points == sqlite.levels("kbm-25m", start, end, "1s")
    finally:
        sqlite.close()
    assert [round(p.laeq, 2) for p in points] == [60.0, 70.0, 65.0]
    (query,) = _queries(fake)
    # 1-s buckets read back MAX_DURATION_S for readings that start earlier and reach in.
    assert "range(start: 2026-03-01T11:00:00.000Z, stop: 2026-03-01T12:00:05.000Z)" in query


def test_too_many_buckets_fail_before_any_request(fake, store):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(QueryError, match="more than"):
        store.levels("kbm-25m", start, start + timedelta(days=3), "1s")
    assert fake.requests == []


def test_hourly_bands_are_energetic_means(fake, store):
    fake.answer("/api/v2/query", _csv("bands.csv"))
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    bands = store.hourly_bands("kbm-25m", start, start + timedelta(hours=2))
    assert bands.bands_hz.tolist() == [125.0, 1000.0]
    # 12:00: 3600 s at 10^5 and 10^6 -> 50 and 60 dB; 13:00: 1800 s, 10^5 and 10^7 -> 50, 70 dB
    assert np.round(bands.lzeq, 2).tolist() == [[50.0, 60.0], [50.0, 70.0]]
    assert bands.seconds.tolist() == [3600.0, 1800.0]
    assert bands.t.tolist() == [T0, T0 + 3600]
    (query,) = _queries(fake)
    assert query.startswith('import "strings"')
    assert 'r._measurement == "noise_spectrum"' in query


def test_activity_reads_both_results(fake, store):
    fake.answer("/api/v2/query", _csv("activity.csv"))
    found = {a.sensor_id: a for a in store.activity()}
    assert found["kbm-25m"].last_ts == 1772366403.0
    assert found["kbm-25m"].last_received == T0 + 330
    assert found["hbm-50m"].last_received == T0 - 3540


def test_flux_literals_escape():
    # Every $ as the byte escape \x24: no interpolation, no $ swallowing the next backslash.
    assert flux_string('a"b\\c${x}') == '"a\\"b\\\\c\\x24{x}"'
    assert flux_string("$\\{ $\n") == '"\\x24\\\\{ \\x24\\n"'
    assert flux_time(T0 + 0.25) == "2026-03-01T12:00:00.250Z"
    with pytest.raises(ValueError, match="aware"):
        flux_time(datetime(2026, 3, 1))


def test_open_needs_a_token(monkeypatch):
    monkeypatch.delenv("NOISELAB_INFLUX_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="NOISELAB_INFLUX_TOKEN"):
        open_influx_store("influxdb://localhost:8086?org=lab&bucket=noise")


# --------------------------------------------------------------------------- noise_1h
# Against FakeInflux (tests/support/influx_fake.py): an in-memory InfluxDB that stores the
# line protocol the adapter writes and answers its Flux, so what is read back is what was
# written. test_influx_live.py runs the same checks (support/hour_rollup.py) on a real server.


@dataclass
class Influx:
    db: FakeInflux
    server: RecordingServer
    store: InfluxStore

    def requests_since(self, count):
        return self.server.requests[count:]

    def cells(self, measurement):
        return [Cell(p.tags["sensor_id"], p.ts_ms, p.fields) for p in self.db.points(measurement)]

    def hours(self):
        """The stored noise_1h hours with measured seconds, by (sensor, start ms)."""
        return by_key(live(self.cells("noise_1h")))


@pytest.fixture
def influx():
    db = FakeInflux()
    server = RecordingServer(db.respond)
    store = InfluxStore(url=server.url, token="t", org="lab", bucket="noise")
    yield Influx(db, server, store)
    store.close()
    server.close()


def test_each_write_keeps_noise_1h_exactly_the_sum_of_its_minutes(influx):
    write_all([influx.store], hour_readings(), order=[3, 0, 5, 1, 4, 2, 6])  # late data too
    hours = influx.hours()
    assert hours == hours_from_minutes(influx.cells("noise_1m"))  # bit for bit
    assert sorted(ts for _, ts in hours) == [
        round((H0 + 3600 * h) * 1000) for h in (0, 1, 2, 3, 6, 7)
    ]


def test_a_late_reading_recomputes_its_hour_only(influx):
    write_all([influx.store], hour_readings())
    before = influx.hours()
    seen = len(influx.server.requests)
    influx.store.write([Reading("kbm-25m", H0 + 3600 + 1802.0, 88.0, 1.0)], received_at=H0)
    *_, hours = [r for r in influx.requests_since(seen) if r.path == "/api/v2/write"]
    hour = ("kbm-25m", round((H0 + 3600) * 1000))
    assert [line.split(b" ")[-1] for line in hours.body.split(b"\n")] == [str(hour[1]).encode()]
    after = influx.hours()
    assert after == hours_from_minutes(influx.cells("noise_1m"))
    assert after[hour]["lafmax"] == before[hour]["lafmax"]  # the late reading has no LAFmax
    assert after[hour]["energy"] > before[hour]["energy"]
    assert {k: v for k, v in after.items() if k != hour} == {
        k: v for k, v in before.items() if k != hour
    }


def test_redelivery_changes_nothing(influx):
    readings = hour_readings()
    write_all([influx.store], readings)
    minutes, hours = influx.cells("noise_1m"), influx.cells("noise_1h")
    for _ in range(2):
        seen = len(influx.server.requests)
        write_all([influx.store], readings)
        assert influx.cells("noise_1m") == minutes
        assert influx.cells("noise_1h") == hours
        # Each re-delivery is recognised from the stored fields and spectra: nothing written.
        assert [r.path for r in influx.requests_since(seen)] == ["/api/v2/query"] * 14


def test_the_hourly_rollup_does_not_depend_on_reading_its_own_writes(influx):
    influx.db.hidden_writes = 1  # every read misses the write just before it
    write_all([influx.store], hour_readings())
    assert influx.hours() == hours_from_minutes(influx.cells("noise_1m"))


def test_a_conflicting_shorter_reading_leaves_point_and_rollups_alone(influx, tmp_path):
    # 0.5 s of the reading falls in 13:00, the only data of that hour...
    reading = Reading("kbm-25m", T0 + 3599.5, 60.0, 1.0, 64.0, 55.0)
    influx.store.write([reading], received_at=T0)
    hour_13 = ("kbm-25m", round((T0 + 3600) * 1000))
    assert influx.hours()[hour_13]["seconds"] == 0.5
    points = influx.db.points("noise")
    # ... and a later reading of the same second as half a second, all in 12:59, is a conflict:
    # InfluxDB would overwrite the stored point, so the adapter does not write at all.
    shorter = Reading("kbm-25m", T0 + 3599.5, 60.0, 0.5, 64.0, 55.0)
    seen = len(influx.server.requests)
    (conflict,) = influx.store.write([shorter], received_at=T0 + 5).conflicts
    assert (conflict.stored, conflict.offered) == (reading, shorter)
    assert all(r.path == "/api/v2/query" for r in influx.requests_since(seen))
    assert influx.db.points("noise") == points
    assert influx.hours()[hour_13]["seconds"] == 0.5
    assert influx.hours() == hours_from_minutes(influx.cells("noise_1m"))

    start, end = datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 14, tzinfo=UTC)
    with SqliteStore(tmp_path / "noise.db") as sqlite:
        sqlite.write([reading], received_at=T0)
        assert sqlite.write([shorter], received_at=T0 + 5).conflicts == (conflict,)
        assert_same_levels(
            influx.store.levels("kbm-25m", start, end, "1h"),
            sqlite.levels("kbm-25m", start, end, "1h"),
        )
    assert [p.t.hour for p in influx.store.levels("kbm-25m", start, end, "1h")] == [12, 13]


@pytest.mark.parametrize(
    ("every", "zone", "measurements"),
    [
        ("1h", "Europe/Copenhagen", ["noise_1h"]),
        ("1d", "Europe/Copenhagen", ["noise_1h"]),
        # Each local midnight (18:30 UTC) splits an hour: the minutes of the three such hours
        # of the buckets are read range by range, not the days of minutes between them.
        ("1d", "Asia/Kolkata", ["noise_1h", "noise_1m", "noise_1m", "noise_1m"]),
        ("15m", "Europe/Copenhagen", ["noise_1m"]),
    ],
)
def test_levels_from_hours_equal_levels_from_minutes(influx, tmp_path, every, zone, measurements):
    start, end = datetime(2026, 3, 1, 14, 10, tzinfo=UTC), datetime(2026, 3, 2, 1, tzinfo=UTC)
    with SqliteStore(tmp_path / "noise.db") as sqlite:
        write_all([influx.store, sqlite], hour_readings(), order=[2, 0, 1, 6, 3, 5, 4])
        seen = len(influx.server.requests)
        got = influx.store.levels("kbm-25m", start, end, every, ZoneInfo(zone))
        minutes = influx.cells("noise_1m")
        assert_same_levels(got, levels_from_minutes(minutes, start, end, every, ZoneInfo(zone)))
        assert_same_levels(got, sqlite.levels("kbm-25m", start, end, every, ZoneInfo(zone)))
    assert len(got) >= 2
    read = [
        re.search(r'r._measurement == "(\w+)"', json.loads(r.body)["query"]).group(1)
        for r in influx.requests_since(seen)
    ]
    assert read == measurements


def test_levels_with_spans_far_apart_read_only_the_minutes_of_the_hours_they_cut(influx):
    """Hourly 60-s readings over eight days and two weather spans a week apart, each inside
    one hour: a week of ``1d`` levels reads ``noise_1h`` and then the minutes of the two cut
    hours, one hour each, not the week of minutes between them (nor the hull of the runs),
    and ``minute_sums`` of the same two hours reads the same two ranges."""
    t0 = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    influx.store.write([Reading("a", t0 + 3600 * h, 60.0, 60.0) for h in range(8 * 24)], t0)
    cut = (t0 + 3600, t0 + 7 * 86_400 + 3600)
    ranges = [RangeCorrection(h + 600, h + 1200, "exclude", cause="weather") for h in cut]
    start, end = datetime.fromtimestamp(t0, UTC), datetime.fromtimestamp(t0 + 8 * 86_400, UTC)
    seen = len(influx.server.requests)
    found = influx.store.valid_levels("a", start, end, "1d", ZoneInfo("UTC"), ranges=ranges)
    assert [p.excluded_s for p in found.points][:2] == [0.0, 0.0]  # the readings start at :00
    read = [json.loads(r.body)["query"] for r in influx.requests_since(seen)]
    assert ['"noise_1h"' in q for q in read] == [True, False, False]
    spans = [re.search(r"range\(start: (\S+), stop: (\S+)\)", q).groups() for q in read[1:]]
    expected = [tuple(flux_time(h + d) for d in (0, 3600)) for h in cut]
    assert spans == expected
    seen = len(influx.server.requests)
    influx.store.minute_sums("a", np.array(cut), np.array(cut) + 3600)
    read = [json.loads(r.body)["query"] for r in influx.requests_since(seen)]
    assert [re.search(r"range\(start: (\S+), stop: (\S+)\)", q).groups() for q in read] == expected


def test_hour_series_reads_noise_1h_and_equals_the_minutes(influx, tmp_path):
    start, end = datetime(2026, 3, 1, 16, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    with SqliteStore(tmp_path / "noise.db") as sqlite:
        write_all([influx.store, sqlite], hour_readings())
        seen = len(influx.server.requests)
        hours = influx.store.hour_series("kbm-25m", start, end)
        expected = sqlite.hour_series("kbm-25m", start, end)
    (query,) = [json.loads(r.body)["query"] for r in influx.requests_since(seen)]
    assert 'r._measurement == "noise_1h"' in query
    assert hours.ts.tolist() == expected.ts.tolist()
    np.testing.assert_allclose(hours.laeq, expected.laeq, rtol=0, atol=1e-9)
    np.testing.assert_allclose(hours.duration, expected.duration, rtol=1e-12)
    np.testing.assert_array_equal(hours.lafmax, expected.lafmax)
    minutes = influx.store.minute_series("kbm-25m", start, end)
    energy = minutes.duration * 10 ** (minutes.laeq / 10)
    per_hour = [float(energy[(minutes.ts // 3600) * 3600 == t].sum()) for t in hours.ts.tolist()]
    np.testing.assert_allclose(hours.duration * 10 ** (hours.laeq / 10), per_hour, rtol=1e-12)


def test_rebuild_writes_the_hours_the_writes_would_have(influx):
    write_all([influx.store], hour_readings())
    hours = influx.cells("noise_1h")
    influx.db.log = [[p for p in batch if p.measurement != "noise_1h"] for batch in influx.db.log]
    start, end = datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    assert influx.store.rebuild_hour_rollup("kbm-25m", start, end) == len(hours)
    assert influx.cells("noise_1h") == hours


@pytest.mark.process
def test_the_ingest_quarantines_what_influxdb_refuses_and_acks_the_rest(tmp_path, broker, prefix):
    """A real worker on a real broker over the InfluxDB adapter: InfluxDB refuses one point
    (422, a field type conflict), so the batch is written reading by reading; the refused one is
    quarantined with InfluxDB's reason and every message is acknowledged (no redelivery loop)."""
    bad_ts = b" 1772366405000"  # the point InfluxDB refuses, by its timestamp
    conflict = json.dumps(
        {"code": "unprocessable entity", "message": "partial write: field type conflict"}
    ).encode()

    def respond(request):
        if request.path == "/api/v2/query":
            return Answer(200, b"\r\n", CSV)
        lines = request.body.split(b"\n")
        if any(line.startswith(b"noise,") and line.endswith(bad_ts) for line in lines):
            return Answer(422, conflict)
        return Answer(204)

    server = RecordingServer(respond)
    influx = InfluxStore(url=server.url, token="t", org="lab", bucket="noise")
    meta = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    meta.sensors.add([Sensor(id="s1", name="s1", source="road")])
    settings = IngestSettings(
        mqtt=parse_mqtt_url(broker.url),
        client_id=f"{prefix}-influx",
        topic_prefix=prefix,
        share_group=None,
        flush_interval_s=0.2,
        max_future_s=1e12,
    )
    worker = IngestWorker(settings, influx, meta)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.wait_connected(20)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        for i in range(10):
            body = json.dumps({"ts": T0 + i, "laeq": 60.0 + i}).encode()
            client.publish(f"{prefix}/s1/levels", body, qos=1).wait_for_publish(10)
        client.disconnect()
        client.loop_stop()
        deadline = time.monotonic() + 30
        while worker.metrics.acked._value.get() < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.metrics.acked._value.get() == 10
        (entry,) = meta.quarantine.newest()
        assert "HTTP 422" in entry.reason
        assert "field type conflict" in entry.reason
        assert json.loads(entry.raw)["laeq"] == 65.0
        written = [
            line
            for r in server.requests
            if r.path == "/api/v2/write"
            for line in r.body.split(b"\n")
            if line.startswith(b"noise,") and not line.endswith(bad_ts)
        ]
        stamps = {line.rsplit(b" ", 1)[1] for line in written}
        assert len(stamps) == 9  # every other reading reached InfluxDB
    finally:
        worker.request_stop()
        thread.join(30)
        influx.close()
        meta.close()
        server.close()
