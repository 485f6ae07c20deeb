"""The in-memory InfluxDB stand-in of the protocol tests (``tests/support/influx_fake.py``)
against InfluxDB's documented behaviour and the canned answers of ``tests/data/influx``."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from support.http_fake import RecordingServer, Request
from support.influx_fake import FakeInflux
from support.paths import DATA

from noiselab.errors import StoreError
from noiselab.model import Reading
from noiselab.store.influx import InfluxStore
from noiselab.store.influx_flux import activity_query, raw_query

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
RAW = [  # what tests/data/influx/raw_rows.csv holds
    Reading("kbm-25m", T0, 60.0, 1.0, 63.5, 57.2),
    Reading("kbm-25m", T0 + 1, 70.0, 1.0, 74.1, 66.0),
    Reading("kbm-25m", T0 + 2.5, 65.0, 0.5),
]


def _write(db, body, precision="ms", bucket="noise"):
    query = {"org": "lab", "bucket": bucket, "precision": precision}
    return db.respond(Request("POST", "/api/v2/write", query, {}, body))


def _query(db, flux):
    return db.respond(
        Request("POST", "/api/v2/query", {}, {}, json.dumps({"query": flux}).encode())
    )


@pytest.fixture
def served():
    db = FakeInflux()
    server = RecordingServer(db.respond)
    with InfluxStore(url=server.url, token="t", org="lab", bucket="noise") as store:
        yield db, store
    server.close()


def test_the_fake_answers_raw_query_like_the_canned_csv(served):
    db, store = served
    store.write(RAW, received_at=T0 + 60)
    flux = raw_query("noise", "noise", ["kbm-25m"], T0, T0 + 3600)
    assert _query(db, flux).body == _canned_as_influxdb_writes_it()


def _canned_as_influxdb_writes_it():
    """raw_rows.csv (its rows, then the blank line ending a result) with InfluxDB's CRLF."""
    return (DATA / "influx" / "raw_rows.csv").read_bytes().replace(b"\n", b"\r\n")


def test_line_protocol_escapes_types_and_overwrites():
    db = FakeInflux()
    body = (
        b'm\\ x,site=a\\,b\\=c\\ d f\\ 1=1.5,n=3i,s="say \\"hi\\", \\\\ ok",b=t 1000\n'
        b"m\\ x,site=a\\,b\\=c\\ d n=4i 1000"
    )
    assert _write(db, body).status == 204
    (point,) = db.points("m x")
    assert point.tags == {"site": "a,b=c d"}
    assert point.ts_ns == 1000 * 1_000_000
    # The second line overwrote n and kept the fields it did not name.
    assert point.fields == {"f 1": 1.5, "n": 4, "s": 'say "hi", \\ ok', "b": True}


def test_write_errors_follow_influxdb():
    db = FakeInflux()
    assert _write(db, b"m v=1.0 1").status == 204
    conflict = _write(db, b"m v=2i 2\nm w=1.0 3")
    assert conflict.status == 422  # partial write: the other point is stored
    assert "field type conflict" in json.loads(conflict.body)["message"]
    assert [p.ts_ms for p in db.points("m")] == [1, 3]
    bad = _write(db, b"m w=2.0 4\nm w= 5")
    assert (bad.status, json.loads(bad.body)["code"]) == (400, "invalid")
    assert [p.ts_ms for p in db.points("m")] == [1, 3]  # nothing of a bad body
    assert _write(db, b"m w=2.0 4", bucket="other").status == 404


def test_pivot_gives_a_table_only_the_fields_it_has():
    db = FakeInflux()
    _write(
        db,
        b"noise,sensor_id=a,source=road duration=1.0,laeq=60.0 1000\n"
        b"noise,sensor_id=b,source=road duration=1.0,laeq=61.0,lafmax=65.0 1000",
    )
    text = _query(db, raw_query("noise", "noise", ["a", "b"], 0.0, 10.0)).body.decode()
    blocks = text.split("\r\n\r\n")
    assert ",result,table,sensor_id,_time,duration,laeq\r\n" in blocks[0]
    assert ",result,table,sensor_id,_time,duration,laeq,lafmax\r\n" in blocks[1]
    assert blocks[1].endswith("\r\n,,1,b,1970-01-01T00:00:01Z,1,61,65")


def test_flux_the_fake_does_not_interpret_fails_loudly(served):
    db, store = served
    answer = _query(db, activity_query("noise", "noise_activity"))
    assert answer.status == 400
    assert "fake InfluxDB" in json.loads(answer.body)["message"]
    with pytest.raises(StoreError, match="fake InfluxDB"):
        store.activity()


def test_the_fake_reads_strings_as_flux_does():
    """The escapes ``flux_string`` writes decode to the text; what Flux refuses or misreads
    (``\\$``, a ``${`` interpolation, a ``$`` before a backslash) is refused, not guessed at."""
    db = FakeInflux(bucket='b "${x}" $\\ ü')
    _write(db, b"noise,sensor_id=a laeq=60.0 1000", bucket=db.bucket)
    flux = raw_query(db.bucket, "noise", ["a"], 0.0, 2.0)
    answer = _query(db, flux)
    assert (answer.status, answer.body.count(b",a,1970-01-01T00:00:01Z,")) == (200, 1)
    for bad in ['"b \\$"', '"b ${x}"', '"b $\\\\"', '"b \\q"']:
        answer = _query(db, f"from(bucket: {bad}) |> range(start: 0)")
        assert answer.status == 400, bad
        assert "Flux cannot read" in json.loads(answer.body)["message"], bad
