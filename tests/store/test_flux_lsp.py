"""Every Flux query the InfluxDB adapter sends, checked by InfluxData's Flux language server
(``support.flux_lsp``): syntax, identifiers, argument names and types, with zero diagnostics.

Two ways in, so no query path is missed: every builder of ``noiselab.store.influx_flux`` called
with ordinary and hostile names and times, and every query the adapter actually posts during a
realistic session against the in-memory InfluxDB (``support.influx_fake``). Hostile names also
go through Flux's parser, which must read each back as the same text and never as a ``${...}``
interpolation. What this cannot show is what a query returns: that needs a live InfluxDB
(``test_influx_live.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.flux_lsp import assert_clean, check_flux, describe, string_literals
from support.hour_rollup import H0, hour_readings, write_all
from support.http_fake import Answer, RecordingServer
from support.influx_fake import FakeInflux
from support.paths import DATA

from noiselab.model import Reading, Spectrum, WeatherObservation
from noiselab.store import influx, influx_flux, influx_weather
from noiselab.store.influx import InfluxStore
from noiselab.store.influx_flux import flux_string

pytestmark = pytest.mark.process  # every test here runs node

CPH = ZoneInfo("Europe/Copenhagen")
KOLKATA = ZoneInfo("Asia/Kolkata")
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
BUILDERS: dict[str, Callable[..., str]] = {
    name: getattr(influx_flux, name) for name in influx_flux.__all__ if name.endswith("_query")
}
"""Every query builder the module exports; a new one is checked without editing this file."""
ADAPTER = (influx, influx_weather)
"""The adapter's modules that call the builders (the store and its weather part)."""

HOSTILE = [
    "kbm-25m",
    'quote"inside',
    '"',
    '""',
    "back\\slash",
    "\\",
    "trailing\\",
    '\\"',
    "new\nline",
    "carriage\rreturn\r\n",
    "tab\tbed",
    "${sensor}",
    "${data}",  # a name activity_query defines: an interpolation of it would type-check
    '${r._measurement}"',  # r is in scope inside filter: the same
    "$${x}",
    "\\${x}",
    "$",
    "${",
    "a$",
    "$\\{",
    "{}",
    "}",
    "ünïcødé 日本語 🎵",
    "\u2028\u2029\u00a0",
    "nul\x00byte",
    "bell\x07del\x7f",
    "",
    " ",
    '") |> drop(columns: ["_value"]) |> yield(name: "x',
    "// not a comment",
    "r.sensor_id",
]


def _times() -> dict[str, tuple[Any, Any]]:
    """Edge times as (start, stop): aware datetimes in several zones and Unix seconds."""
    spring = datetime(2026, 3, 29, 1, tzinfo=UTC)  # 02:00 -> 03:00 in Copenhagen
    autumn = datetime(2026, 10, 25, 2, 30, tzinfo=CPH)  # 02:30 happens twice
    return {
        "epoch": (0.0, 1.0),
        "epoch-datetime": (
            datetime(1970, 1, 1, tzinfo=UTC),
            datetime(1970, 1, 1, 0, 1, tzinfo=UTC),
        ),
        "before-epoch": (-86_400.5, -0.001),
        "dst-spring": (spring.astimezone(CPH) - timedelta(minutes=30), spring.astimezone(CPH)),
        "dst-autumn": (autumn, autumn.replace(fold=1)),
        "kolkata": (
            datetime(2026, 3, 1, 0, 0, tzinfo=KOLKATA),
            datetime(2026, 3, 2, tzinfo=KOLKATA),
        ),
        "microseconds": (
            datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
            datetime(2026, 3, 1, 12, 0, 59, 999999, tzinfo=UTC),  # rounds up to 12:01:00.000
        ),
        "float-seconds": (1772366400.0004999, 1772366400.0005),
        "leap-day": (datetime(2028, 2, 29, 23, 59, 59, 999000, tzinfo=UTC), 1835481600.0),
        "far-future": (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), 253402300799.999),
    }


def _call(name: str, *, bucket: str, measurement: str, sensor: str, start: Any, stop: Any) -> str:
    """Builder ``name`` with these arguments (each takes the ones it needs)."""
    build = BUILDERS[name]
    if name == "activity_query":
        return build(bucket, measurement)
    if name in ("raw_query", "rollup_query", "spectra_query", "stored_query", "weather_query"):
        return build(bucket, measurement, [sensor, "kbm-25m"], start, stop)
    return build(bucket, measurement, sensor, start, stop)


def _hostile_queries() -> dict[str, str]:
    queries = {}
    for name in BUILDERS:
        for i, text in enumerate(HOSTILE):
            common = {"start": T0, "stop": T0 + timedelta(hours=1)}
            queries[f"{name} bucket #{i} {text!r}"] = _call(
                name, bucket=text, measurement="noise", sensor="kbm-25m", **common
            )
            queries[f"{name} measurement #{i} {text!r}"] = _call(
                name, bucket="noise", measurement=text, sensor="kbm-25m", **common
            )
            queries[f"{name} sensor #{i} {text!r}"] = _call(
                name, bucket="noise", measurement="noise", sensor=text, **common
            )
    return queries


def _time_queries() -> dict[str, str]:
    return {
        f"{name} {label}": _call(
            name, bucket="noise", measurement="noise", sensor="kbm-25m", start=start, stop=stop
        )
        for name in BUILDERS
        for label, (start, stop) in _times().items()
    }


def test_the_builders_are_the_ones_the_adapter_uses():
    assert set(BUILDERS) == {
        "activity_query",
        "bands_query",
        "hour_query",
        "minute_query",
        "raw_query",
        "rollup_query",
        "spectra_query",
        "stored_query",
        "weather_query",
    }
    assert all(any(hasattr(m, name) for m in ADAPTER) for name in BUILDERS)


def test_every_builder_with_hostile_names_is_clean_flux():
    queries = _hostile_queries()
    started = time.perf_counter()
    assert_clean(queries)
    elapsed = time.perf_counter() - started
    # One node process for the whole batch: a few milliseconds a query.
    assert elapsed < 60, f"{len(queries)} queries took {elapsed:.1f} s"


def test_every_builder_with_edge_times_is_clean_flux():
    queries = _time_queries()
    raw = {label: queries[f"raw_query {label}"] for label in _times()}
    before_epoch = "range(start: 1969-12-30T23:59:59.500Z, stop: 1969-12-31T23:59:59.999Z)"
    assert before_epoch in raw["before-epoch"]
    assert "stop: 2026-03-01T12:01:00.000Z)" in raw["microseconds"]
    twice = "range(start: 2026-10-25T00:30:00.000Z, stop: 2026-10-25T01:30:00.000Z)"
    assert twice in raw["dst-autumn"]
    assert_clean(queries)


def test_flux_reads_every_hostile_name_back_as_the_same_text():
    """Flux's own parser decodes each literal ``flux_string`` makes to the text it was given:
    no escape is illegal or lost, and no ``${`` starts an interpolation."""
    literals = {f"#{i} {text!r}": f"x = {flux_string(text)}" for i, text in enumerate(HOSTILE)}
    read = string_literals(literals)
    for (name, _), text in zip(literals.items(), HOSTILE, strict=True):
        assert read[name].errors == [], (name, read[name].errors)
        assert read[name].interpolated == [], name
        assert read[name].literals == [text], name


def test_hostile_names_reach_whole_queries_as_plain_literals():
    queries = _hostile_queries()
    read = string_literals(queries)
    for name, found in read.items():
        assert found.errors == [], (name, found.errors)
        assert found.interpolated == [], (name, found.interpolated)
    for i, text in enumerate(HOSTILE):
        for name in BUILDERS:
            assert text in read[f"{name} bucket #{i} {text!r}"].literals, (name, text)


def test_flux_string_writes_every_dollar_as_a_byte_escape():
    """Flux has ``\\${`` but no ``\\$``, and its lexer takes the character after a ``$`` as it
    stands: ``"$\\{"`` and ``"$\\${x}"`` break (the negative controls below). ``\\x24`` is a
    ``$`` wherever it stands."""
    assert flux_string("${x}") == '"\\x24{x}"'
    assert flux_string("$\\{") == '"\\x24\\\\{"'
    assert flux_string("$${x}") == '"\\x24\\x24{x}"'
    assert flux_string('tab\tline\ncr\r"q"') == '"tab\\tline\\ncr\\r\\"q\\""'
    text = "$\\{"
    found = string_literals({"former": 'x = "$\\\\{"', "now": f"x = {flux_string(text)}"})
    assert found["former"].errors  # what the former escaping made of it
    assert (found["now"].literals, found["now"].errors) == ([text], [])


# --------------------------------------------------------------------------- negative controls


def test_a_misspelled_argument_and_an_undefined_name_are_reported():
    queries = {
        "join": 'a = from(bucket: "noise") |> range(start: -1h)\n'
        'b = a\njoin(tables: {a: a, b: b}, onn: ["_time"])',
        "undefined": 'from(bucket: "noise") |> range(start: -1h) |> nosuch()',
        "bad-type": "from(bucket: 1) |> range(start: -1h)",
        "dollar-escape": 'x = "a\\$b"',  # Flux has no \$
        "dollar-backslash": 'x = "$\\${x}"',  # the $ swallows the backslash: ${x} interpolates
        "interpolated": 'x = "a${nosuch}"',
        "clean": 'from(bucket: "noise") |> range(start: -1h)',
    }
    found = check_flux(queries)
    assert [d.message for d in found["join"]] == [
        "found unexpected argument onn (Expected one of `method` or `on`)"
    ]
    assert (found["join"][0].line, found["join"][0].character) == (2, 32)
    assert any("undefined identifier nosuch" in d.message for d in found["undefined"])
    assert any("expected string but found int" in d.message for d in found["bad-type"])
    assert any("ILLEGAL" in d.message for d in found["dollar-escape"])
    assert found["dollar-backslash"]
    assert any("undefined identifier nosuch" in d.message for d in found["interpolated"])
    assert found["clean"] == []
    shown = describe("join", queries["join"], found["join"])
    assert shown.splitlines() == [
        "join:3:33: found unexpected argument onn (Expected one of `method` or `on`)",
        '    join(tables: {a: a, b: b}, onn: ["_time"])',
        "    " + " " * 32 + "^" * 9,
    ]
    with pytest.raises(AssertionError, match="onn"):
        assert_clean({"join": queries["join"], "clean": queries["clean"]})


def test_a_query_the_server_does_not_answer_fails_the_check():
    queries = {"answered": 'x = "a"', "silent": 'y = "b"'}
    with pytest.raises(pytest.fail.Exception, match="no publishDiagnostics for"):
        check_flux(queries, drop_diagnostics_of=["silent"], timeout_ms=500)


def test_a_query_defined_in_one_document_does_not_hide_an_error_in_another():
    """The server reads documents of one folder as one package; each query is opened alone,
    so a name one query defines is still undefined in the next."""
    found = check_flux({"defines": "nosuch = 1", "uses": "x = nosuch + 1"})
    assert found["defines"] == []
    assert [d.message for d in found["uses"]] == ["undefined identifier nosuch"]


# --------------------------------------------------------------------------- the adapter's own


class Recorder:
    """Wraps the builders the adapter calls, noting which built each query text."""

    def __init__(self) -> None:
        self.built: dict[str, set[str]] = {}

    def wrap(self, name: str, build: Callable[..., str]) -> Callable[..., str]:
        def recorded(*args: Any, **kwargs: Any) -> str:
            text = build(*args, **kwargs)
            self.built.setdefault(text, set()).add(name)
            return text

        return recorded


def _answer(db: FakeInflux) -> Callable[[Any], Answer]:
    """The fake InfluxDB; the spectra and activity queries (which it does not interpret) get
    the canned answers of the protocol tests."""
    canned = {"noise_spectrum": "bands.csv", "noise_activity": "activity.csv"}

    def respond(request: Any) -> Answer:
        if request.path == "/api/v2/query":
            query = json.loads(request.body)["query"]
            for measurement, name in canned.items():
                if f"r._measurement == {flux_string(measurement)}" in query:
                    body = (DATA / "influx" / name).read_bytes()
                    return Answer(200, body, "text/csv; charset=utf-8")
        return db.respond(request)

    return respond


def _session(store: InfluxStore) -> None:
    """Writes (new, late, re-delivered with another duration, with spectra) and every read."""
    readings = hour_readings()
    write_all([store], readings, order=[3, 0, 5, 1, 4, 2, 6])
    store.write([Reading("kbm-25m", H0 + 3600 + 1802.0, 88.0, 1.0)], received_at=H0 + 1)
    first = readings[0]
    store.write([Reading(first.sensor_id, first.ts, first.laeq, 0.5)], received_at=H0 + 2)
    spectrum = Spectrum((125.0, 1000.0), (50.0, 60.0))
    spectra = [Reading("hbm-50m", H0 + 60.0 * i, 55.0, 60.0, spectrum=spectrum) for i in range(5)]
    store.write(spectra, received_at=H0 + 400)
    store.write(spectra[:1], received_at=H0 + 401)  # re-delivered: compared with the stored one
    start = datetime.fromtimestamp(H0, UTC) - timedelta(hours=1)
    end = start + timedelta(hours=12)
    store.series("kbm-25m", start, start + timedelta(hours=2))
    store.minute_series("kbm-25m", start, end)
    store.hour_series("kbm-25m", start, end)
    for every, zone in [("1s", CPH), ("1m", CPH), ("15m", CPH), ("1h", CPH), ("1d", KOLKATA)]:
        stop = start + timedelta(minutes=10) if every == "1s" else end
        store.levels("kbm-25m", start, stop, every, zone)
    store.levels("kbm-25m", start, end, "1d", CPH)
    store.hourly_bands("hbm-50m", start, end)
    store.activity()
    store.rebuild_hour_rollup("kbm-25m", start, end)
    weather = [WeatherObservation("vb-weather", H0 + 60.0 * i, 60.0, 7.0, 9.0) for i in range(3)]
    store.write_weather(weather, received_at=H0 + 500)
    store.write_weather(weather[:1], received_at=H0 + 501)  # re-delivered: read back first
    store.weather("vb-weather", start, end)


@pytest.fixture(
    params=["noise", 'lab "${bucket}" $\\ $${x} ü'], ids=["plain-bucket", "hostile-bucket"]
)
def recorded(request, monkeypatch) -> tuple[Recorder, list[str]]:
    """The builder of each query text and every query the adapter posted in a session."""
    recorder = Recorder()
    for name in BUILDERS:
        for module in ADAPTER:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, recorder.wrap(name, getattr(module, name)))
    db = FakeInflux(bucket=request.param)
    server = RecordingServer(_answer(db))
    store = InfluxStore(url=server.url, token="t", org="lab", bucket=request.param)
    try:
        _session(store)
    finally:
        store.close()
        server.close()
    sent = [json.loads(r.body)["query"] for r in server.requests if r.path == "/api/v2/query"]
    return recorder, sent


def test_every_query_the_adapter_sends_is_clean_flux(recorded):
    recorder, sent = recorded
    unique = list(dict.fromkeys(sent))
    # Every posted query is a builder's text, and every builder was used.
    assert all(text in recorder.built for text in unique)
    used = set().union(*(recorder.built[text] for text in unique))
    assert used == set(BUILDERS), f"builders the session never used: {set(BUILDERS) - used}"
    names = {f"{i} {'/'.join(sorted(recorder.built[t]))}": t for i, t in enumerate(unique)}
    assert len(names) >= 20
    assert_clean(names)
