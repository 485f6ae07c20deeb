"""Tests of sensor message parsing and validation (``noiselab.ingest.message``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noiselab.ingest.message import (
    RAW_CAP_BYTES,
    ParsedMessage,
    parse_message,
    sensor_id_from_topic,
)
from noiselab.ingest.reading_rules import ReadingContext, problems
from noiselab.model import Reading, Rejection, Spectrum

TOPIC = "noiselab/vb-001/levels"
NOW = 1_774_744_200.0  # 2026-03-29T00:30:00Z, used as the receive time
BANDS = [63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]
LZEQ = [50.0, 48.5, 47.0, 45.0, 44.0, 40.0, 35.5, 30.0]


def encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def good(**fields: Any) -> dict[str, Any]:
    return {"ts": NOW - 10, "laeq": 55.0, **fields}


def parse(value: Any, topic: str = TOPIC, **options: Any) -> ParsedMessage:
    payload = value if isinstance(value, bytes) else encode(value)
    return parse_message(topic, payload, NOW, **options)


def judge(item: Any, **options: Any) -> Reading | str:
    """The one reading of a single-object message, or the reason it was refused."""
    parsed = parse(item, **options)
    assert len(parsed.readings) + len(parsed.rejections) == 1
    return parsed.readings[0] if parsed.readings else parsed.rejections[0].reason


def accepted(item: Any, **options: Any) -> Reading:
    verdict = judge(item, **options)
    assert isinstance(verdict, Reading), verdict
    return verdict


def refused(item: Any, **options: Any) -> str:
    verdict = judge(item, **options)
    assert isinstance(verdict, str), verdict
    return verdict


def whole_rejection(parsed: ParsedMessage) -> Rejection:
    assert parsed.readings == []
    assert len(parsed.rejections) == 1
    rejection = parsed.rejections[0]
    assert rejection.index is None
    return rejection


# --- topic ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("noiselab/vb-001/levels", "vb-001"),
        ("noiselab/ab/levels", "ab"),
        ("noiselab/0-/levels", "0-"),
        ("noiselab/" + "a" * 64 + "/levels", "a" * 64),
        ("noiselab/a/levels", None),
        ("noiselab/" + "a" * 65 + "/levels", None),
        ("noiselab/-ab/levels", None),
        ("noiselab/VB-001/levels", None),
        ("noiselab/vb_001/levels", None),
        ("noiselab/vb 001/levels", None),
        ("noiselab/vb-001/status", None),
        ("noiselab/vb-001/levels/x", None),
        ("noiselab/x/vb-001/levels", None),
        ("noiselab/vb-001\n/levels", None),
        ("other/vb-001/levels", None),
        ("noiselabx/vb-001/levels", None),
        ("/vb-001/levels", None),
        ("noiselab//levels", None),
        ("", None),
    ],
)
def test_sensor_id_from_topic(topic: str, expected: str | None) -> None:
    assert sensor_id_from_topic(topic) == expected


def test_sensor_id_from_a_very_long_topic_is_none() -> None:
    assert sensor_id_from_topic("noiselab/" + "a" * 100_000 + "/levels") is None


def test_sensor_id_from_topic_with_a_custom_multi_level_prefix() -> None:
    assert sensor_id_from_topic("city/noise/vb-001/levels", "city/noise") == "vb-001"
    assert sensor_id_from_topic(f"city/noise/{'a' * 64}/levels", "city/noise") == "a" * 64
    assert sensor_id_from_topic("noiselab/vb-001/levels", "city/noise") is None


def test_bad_topic_rejects_the_whole_message() -> None:
    parsed = parse([good(), good()], topic="noiselab/VB/levels")
    rejection = whole_rejection(parsed)
    assert rejection.reason.startswith("bad topic: expected noiselab/<sensor_id>/levels")
    assert rejection.sensor_id is None
    assert rejection.topic == "noiselab/VB/levels"


def test_custom_prefix_is_used_for_parsing_and_in_the_reason() -> None:
    assert parse(good(), topic="lab/vb-001/levels", prefix="lab").readings
    reason = whole_rejection(parse(good(), prefix="lab")).reason
    assert reason.startswith("bad topic: expected lab/<sensor_id>/levels")


# --- a good reading ---------------------------------------------------------------------------


def test_full_reading_is_converted_with_defaults_and_topic_sensor() -> None:
    item = good(
        ts=NOW - 60,
        laeq=55,
        duration=0.125,
        lafmax=70.5,
        lafmin=40,
        spectrum={"bands_hz": BANDS, "lzeq": LZEQ},
        seq=7,
        sensor_id="vb-001",
    )
    assert accepted(item) == Reading(
        sensor_id="vb-001",
        ts=NOW - 60,
        laeq=55.0,
        duration=0.125,
        lafmax=70.5,
        lafmin=40.0,
        spectrum=Spectrum(tuple(BANDS), tuple(LZEQ)),
        seq=7,
    )


def test_minimal_reading_gets_defaults() -> None:
    assert accepted({"ts": 1_774_744_000, "laeq": 55}) == Reading("vb-001", 1_774_744_000.0, 55.0)


def test_integers_become_floats() -> None:
    reading = accepted(good(ts=1_774_744_000, laeq=55, duration=2, lafmax=60))
    assert type(reading.ts) is float
    assert type(reading.laeq) is float
    assert type(reading.duration) is float
    assert type(reading.lafmax) is float


def test_null_optional_fields_mean_absent() -> None:
    item = good(duration=None, lafmax=None, lafmin=None, spectrum=None, seq=None, sensor_id=None)
    assert accepted(item) == Reading("vb-001", NOW - 10, 55.0)


def test_unknown_fields_are_ignored() -> None:
    item = good(LAEQ=999, firmware="1.2.3", extra={"nested": [1, 2, {"x": None}]}, big=1e999)
    assert accepted(item) == Reading("vb-001", NOW - 10, 55.0)


# --- ts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-29T01:30:00+01:00", 1_774_744_200.0),
        ("2026-03-29T00:30:00Z", 1_774_744_200.0),
        ("2026-03-29T00:30:00+00:00", 1_774_744_200.0),
        ("2026-03-28T19:30:00-05:00", 1_774_744_200.0),
        ("2026-03-29t00:30:00z", 1_774_744_200.0),
        ("2026-03-29 00:30:00Z", 1_774_744_200.0),
        ("2026-03-29T00:29:59.250Z", 1_774_744_199.25),
        ("2000-01-01T00:00:00Z", 946_684_800.0),
    ],
)
def test_ts_as_rfc3339_with_offset(text: str, expected: float) -> None:
    assert accepted(good(ts=text)).ts == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-03-29T01:30:00", "has no UTC offset"),
        ("2026-03-29T01:30:00.5", "has no UTC offset"),
        ("2026-03-29", "is not an RFC 3339 date-time"),
        ("2026-03-29T01:30Z", "is not an RFC 3339 date-time"),
        ("20260329T013000Z", "is not an RFC 3339 date-time"),
        ("2026-03-29T01:30:00+0100", "is not an RFC 3339 date-time"),
        ("2026-03-29T01:30:00+01:00:30", "is not an RFC 3339 date-time"),
        ("1774744200", "is not an RFC 3339 date-time"),
        ("yesterday", "is not an RFC 3339 date-time"),
        ("", "is not an RFC 3339 date-time"),
        ("2026-02-30T00:00:00Z", "is not a valid date-time (day is out of range for month)"),
        ("2026-03-29T24:00:00Z", "is not a valid date-time"),
        ("2016-12-31T23:59:60Z", "is not a valid date-time"),
        ("\uff12\uff10\uff12\uff16-03-29T01:30:00Z", "is not an RFC 3339 date-time"),
    ],
)
def test_ts_bad_strings(text: str, reason: str) -> None:
    verdict = refused(good(ts=text))
    assert verdict.startswith(f"ts: {text!r} ")
    assert reason in verdict


def test_ts_as_unix_seconds_int_or_float() -> None:
    assert accepted(good(ts=1_774_744_000)).ts == 1_774_744_000.0
    assert accepted(good(ts=1_774_744_000.125)).ts == 1_774_744_000.125


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "ts: must be Unix seconds (a number) or an RFC 3339 string, got boolean true"),
        (None, "ts: must be Unix seconds (a number) or an RFC 3339 string, got null"),
        ([NOW], "ts: must be Unix seconds (a number) or an RFC 3339 string, got an array"),
        ({"s": NOW}, "ts: must be Unix seconds (a number) or an RFC 3339 string, got an object"),
    ],
)
def test_ts_wrong_types(value: Any, reason: str) -> None:
    assert refused(good(ts=value)) == reason


def test_ts_is_required() -> None:
    assert refused({"laeq": 55}) == "ts: required (Unix seconds or an RFC 3339 string with offset)"


def test_ts_up_to_exactly_max_future_is_accepted() -> None:
    assert accepted(good(ts=NOW + 300.0)).ts == NOW + 300.0
    assert accepted(good(ts=NOW + 60.0), max_future_s=60.0).ts == NOW + 60.0
    assert accepted(good(ts=NOW), max_future_s=0.0).ts == NOW


def test_ts_beyond_max_future_is_refused() -> None:
    assert refused(good(ts=NOW + 412.0)) == (
        "ts: 412.0 s in the future of the receive time (limit 300 s)"
    )
    assert refused(good(ts=NOW + 300.001)).startswith("ts: 300.001 s in the future")
    assert refused(good(ts=NOW + 61), max_future_s=60.0) == (
        "ts: 61.0 s in the future of the receive time (limit 60 s)"
    )
    future = datetime.fromtimestamp(NOW + 3600, UTC).isoformat()
    assert refused(good(ts=future)).startswith("ts: 3600.0 s in the future")


def test_ts_old_but_plausible_is_accepted() -> None:
    assert accepted(good(ts=NOW - 90 * 86_400)).ts == NOW - 90 * 86_400
    assert accepted(good(ts=946_684_800)).ts == 946_684_800.0


@pytest.mark.parametrize("value", [946_684_799.999, 0, -1, 1_000_000, "1999-12-31T23:59:59Z"])
def test_ts_before_2000_is_implausible(value: Any) -> None:
    reason = refused(good(ts=value))
    assert reason.startswith("ts: ")
    assert reason.endswith("is before 2000-01-01T00:00:00Z, implausible")


# --- levels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["laeq", "lafmax", "lafmin"])
@pytest.mark.parametrize("value", [0, 0.0, -0.0, 160, 160.0, 55.5, 1e-300])
def test_level_in_range(field: str, value: float) -> None:
    item = good(**{field: value})
    if field == "lafmin":
        item["lafmax"] = 160
    assert getattr(accepted(item), field) == value


@pytest.mark.parametrize("field", ["laeq", "lafmax", "lafmin"])
@pytest.mark.parametrize("value", [-0.1, -1, 160.0001, 171.2, 200, 1e308, -1e308])
def test_level_out_of_range(field: str, value: float) -> None:
    assert refused(good(**{field: value})) == (
        f"{field}: must be between 0 and 160 dB, got {value!r}"
    )


@pytest.mark.parametrize("field", ["laeq", "lafmax", "lafmin"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "boolean true"), (False, "boolean false"), ("55", "string '55'"), ([55], "an array")],
)
def test_level_wrong_types(field: str, value: Any, shown: str) -> None:
    assert refused(good(**{field: value})) == f"{field}: must be a number, got {shown}"


def test_laeq_is_required_and_not_nullable() -> None:
    assert refused({"ts": NOW}) == "laeq: required (a level in dB)"
    assert refused({"ts": NOW, "laeq": None}) == "laeq: must be a number, got null"


def test_example_reason_for_laeq() -> None:
    assert refused(good(laeq=171.2)) == "laeq: must be between 0 and 160 dB, got 171.2"


def test_lafmin_above_lafmax_is_refused_but_equal_is_fine() -> None:
    assert refused(good(lafmin=60.5, lafmax=60)) == "lafmin 60.5 dB is above lafmax 60.0 dB"
    assert accepted(good(lafmin=60, lafmax=60)).lafmin == 60.0


def test_lafmax_below_laeq_is_accepted() -> None:
    reading = accepted(good(laeq=60, lafmax=59, lafmin=40))
    assert (reading.laeq, reading.lafmax) == (60.0, 59.0)


# --- duration ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3600, 3600.0, 1, 0.125, 1e-9])
def test_duration_in_range(value: float) -> None:
    assert accepted(good(duration=value)).duration == value


@pytest.mark.parametrize("value", [0, 0.0, -0.0, -1, 3600.001, 86_400])
def test_duration_out_of_range(value: float) -> None:
    assert refused(good(duration=value)) == (
        f"duration: must be more than 0 and at most 3600 s, got {value!r}"
    )


@pytest.mark.parametrize("value", [True, "1", [1], {}])
def test_duration_wrong_types(value: Any) -> None:
    assert refused(good(duration=value)).startswith("duration: must be a number, got ")


def test_duration_defaults_to_one_second() -> None:
    assert accepted(good()).duration == 1.0


# --- spectrum ----------------------------------------------------------------------------------


def spectrum(bands: Any = BANDS, lzeq: Any = LZEQ) -> dict[str, Any]:
    return good(spectrum={"bands_hz": bands, "lzeq": lzeq})


def test_spectrum_valid_including_bounds_and_64_bands() -> None:
    reading = accepted(spectrum([20, 25], [0, 160]))
    assert reading.spectrum == Spectrum((20.0, 25.0), (0.0, 160.0))
    bands = [10.0 * 1.1**i for i in range(64)]
    assert accepted(spectrum(bands, [40.0] * 64)).spectrum == Spectrum(tuple(bands), (40.0,) * 64)
    assert accepted(spectrum([1000], [40])).spectrum == Spectrum((1000.0,), (40.0,))


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (spectrum([100, 200], [40]), "spectrum: bands_hz has 2 values but lzeq has 1"),
        (spectrum([], []), "spectrum: must have 1 to 64 bands, got 0"),
        (spectrum([float(i + 1) for i in range(65)], [40.0] * 65), "must have 1 to 64 bands"),
        (
            spectrum([100, 80], [1, 2]),
            "spectrum.bands_hz: must be strictly increasing, but [1] = 80.0 follows [0] = 100.0",
        ),
        (spectrum([100, 100], [1, 2]), "spectrum.bands_hz: must be strictly increasing"),
        (spectrum([0, 100], [1, 2]), "spectrum.bands_hz[0]: must be a positive frequency in Hz"),
        (spectrum([-5, 100], [1, 2]), "spectrum.bands_hz[0]: must be a positive frequency"),
        (spectrum([50, 100], [1, 170]), "spectrum.lzeq[1]: must be between 0 and 160 dB, got 170"),
        (spectrum([50, 100], [-1, 2]), "spectrum.lzeq[0]: must be between 0 and 160 dB"),
        (spectrum([50, True], [1, 2]), "spectrum.bands_hz[1]: must be a number, got boolean true"),
        (spectrum([50, 100], [1, None]), "spectrum.lzeq[1]: must be a number, got null"),
        (spectrum("50,100", [1, 2]), "spectrum.bands_hz: must be an array of numbers, got string"),
        (good(spectrum={"bands_hz": [50]}), "spectrum.lzeq: required"),
        (good(spectrum={"lzeq": [50]}), "spectrum.bands_hz: required"),
        (good(spectrum=[[50], [40]]), "spectrum: must be an object with bands_hz and lzeq arrays"),
        (good(spectrum=True), "spectrum: must be an object with bands_hz and lzeq arrays"),
    ],
)
def test_spectrum_refused(item: dict[str, Any], reason: str) -> None:
    assert reason in refused(item)


# --- seq, sensor_id ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1])
def test_seq_valid(value: int) -> None:
    reading = accepted(good(seq=value))
    assert reading.seq == value
    assert type(reading.seq) is int


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "seq: must be an integer from 0 to 2**63 - 1, got -1"),
        (2**63, "seq: must be an integer from 0 to 2**63 - 1, got 9223372036854775808"),
        (1.0, "seq: must be an integer >= 0, got number 1.0"),
        (1.5, "seq: must be an integer >= 0, got number 1.5"),
        (True, "seq: must be an integer >= 0, got boolean true"),
        ("3", "seq: must be an integer >= 0, got string '3'"),
    ],
)
def test_seq_refused(value: Any, reason: str) -> None:
    assert refused(good(seq=value)) == reason


def test_sensor_id_matching_the_topic_is_accepted() -> None:
    assert accepted(good(sensor_id="vb-001")).sensor_id == "vb-001"


def test_sensor_id_differing_from_the_topic_is_refused() -> None:
    assert (
        refused(good(sensor_id="vb-002")) == "sensor_id 'vb-002' differs from the topic's 'vb-001'"
    )
    assert refused(good(sensor_id=1)) == "sensor_id: must be a string, got number 1"


# --- NaN, infinity, booleans, several problems at once -----------------------------------------


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"nan", b"inf"])
def test_nan_and_infinity_tokens_are_not_json(token: bytes) -> None:
    payload = b'[{"ts": 1774744000, "laeq": ' + token + b'}, {"ts": 1774744000, "laeq": 50}]'
    rejection = whole_rejection(parse(payload))
    assert rejection.reason.startswith("payload is not valid JSON: ")
    assert "NaN and Infinity are not JSON numbers" in rejection.reason
    assert rejection.raw == payload


@pytest.mark.parametrize("field", ["ts", "laeq", "duration", "lafmax", "lafmin"])
@pytest.mark.parametrize(("literal", "sign"), [(b"1e999", ""), (b"-1e999", "-"), (b"9e400", "")])
def test_numbers_beyond_the_float_range_are_refused_per_reading(
    field: str, literal: bytes, sign: str
) -> None:
    bad = b'{"ts": 1774744000, "laeq": 50, "' + field.encode() + b'": ' + literal + b"}"
    payload = b'[{"ts": 1774744000, "laeq": 50}, ' + bad + b"]"
    parsed = parse(payload)
    assert parsed.readings == [Reading("vb-001", 1_774_744_000.0, 50.0)]
    [rejection] = parsed.rejections
    assert rejection.index == 1
    assert rejection.raw == bad
    assert rejection.reason == (
        f"{field}: must be a finite number, got {sign}infinity "
        "(the JSON number is beyond the float range)"
    )


def test_infinity_inside_a_spectrum_is_refused() -> None:
    payload = b'{"ts": 1774744000, "laeq": 50, "spectrum": {"bands_hz": [1e999], "lzeq": [1]}}'
    assert refused(payload).startswith("spectrum.bands_hz[0]: must be a finite number")


def test_huge_integers_are_refused_not_crashing() -> None:
    assert refused(good(laeq=10**400)).startswith("laeq: must be a finite number")
    assert refused(good(seq=10**30)).startswith("seq: must be an integer from 0 to 2**63 - 1")
    payload = b'{"ts": 1774744000, "laeq": ' + b"9" * 5000 + b"}"
    assert refused(payload).startswith("reading could not be decoded")


@pytest.mark.parametrize("field", ["ts", "laeq", "duration", "lafmax", "lafmin", "seq"])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_never_numbers(field: str, value: bool) -> None:
    reason = refused(good(**{field: value}))
    assert reason.startswith(f"{field}: must be ")
    assert reason.endswith(f"boolean {'true' if value else 'false'}")


def test_every_problem_of_a_reading_is_named() -> None:
    reason = refused({"laeq": 200, "duration": 0, "seq": -1, "sensor_id": "zz"})
    assert reason.split("; ") == [
        "ts: required (Unix seconds or an RFC 3339 string with offset)",
        "laeq: must be between 0 and 160 dB, got 200",
        "duration: must be more than 0 and at most 3600 s, got 0",
        "seq: must be an integer from 0 to 2**63 - 1, got -1",
        "sensor_id 'zz' differs from the topic's 'vb-001'",
    ]


# --- batches -----------------------------------------------------------------------------------


def test_batch_of_good_readings_keeps_order() -> None:
    items = [good(ts=NOW - 100 + i, laeq=40 + i) for i in range(5)]
    parsed = parse(items)
    assert parsed.rejections == []
    assert [r.laeq for r in parsed.readings] == [40.0, 41.0, 42.0, 43.0, 44.0]


def test_batch_mixing_good_and_bad_readings() -> None:
    items = [
        good(ts=NOW - 3, seq=1),
        good(ts=NOW - 2, laeq=171.2),
        "not a reading",
        good(ts=NOW - 1, seq=3),
        good(ts=NOW + 412.0),
        None,
        good(ts=NOW, seq=6, sensor_id="other-1"),
    ]
    parsed = parse(items, topic=TOPIC)
    assert [r.seq for r in parsed.readings] == [1, 3]
    assert [(r.index, r.reason) for r in parsed.rejections] == [
        (1, "laeq: must be between 0 and 160 dB, got 171.2"),
        (2, "reading must be a JSON object, got string 'not a reading'"),
        (4, "ts: 412.0 s in the future of the receive time (limit 300 s)"),
        (5, "reading must be a JSON object, got null"),
        (6, "sensor_id 'other-1' differs from the topic's 'vb-001'"),
    ]
    for rejection in parsed.rejections:
        assert rejection.index is not None
        assert rejection.raw == encode(items[rejection.index])
        assert rejection.topic == TOPIC
        assert rejection.sensor_id == "vb-001"
        assert rejection.received_at == NOW


def test_rejected_reading_raw_is_its_json_as_sent() -> None:
    payload = b'[ {"ts": 1774744000, "laeq": 50},\n  {"ts": 1774744000,  "laeq": 500} ]'
    [rejection] = parse(payload).rejections
    assert rejection.raw == b'{"ts": 1774744000,  "laeq": 500}'


def test_single_object_rejection_has_no_index_and_the_payload_as_raw() -> None:
    payload = encode(good(laeq=-3))
    [rejection] = parse(payload).rejections
    assert rejection.index is None
    assert rejection.raw == payload


def test_batch_of_exactly_max_batch_is_accepted() -> None:
    items = [{"ts": NOW - 20_000 + i, "laeq": 50} for i in range(10_000)]
    parsed = parse(items)
    assert len(parsed.readings) == 10_000
    assert parsed.rejections == []


def test_batch_over_max_batch_is_refused_whole() -> None:
    items = [{"ts": NOW - 20_000 + i, "laeq": 50} for i in range(10_001)]
    rejection = whole_rejection(parse(items))
    assert rejection.reason == "batch has 10,001 readings, over the 10,000-reading limit"
    assert whole_rejection(parse([good()] * 3, max_batch=2)).reason == (
        "batch has 3 readings, over the 2-reading limit"
    )


def test_batch_over_max_batch_with_a_bad_reading_is_still_refused_whole() -> None:
    reason = whole_rejection(parse([good(), good(laeq=-1), good()], max_batch=2)).reason
    assert reason == "batch has 3 readings, over the 2-reading limit"


def test_empty_array_is_refused() -> None:
    rejection = whole_rejection(parse(b"[]"))
    assert rejection.reason == "payload is an empty array: a batch needs at least one reading"


def test_array_of_empty_objects_names_missing_fields() -> None:
    parsed = parse([{}, {}])
    assert [r.index for r in parsed.rejections] == [0, 1]
    assert parsed.rejections[0].reason == (
        "ts: required (Unix seconds or an RFC 3339 string with offset); "
        "laeq: required (a level in dB)"
    )


# --- whole-message failures --------------------------------------------------------------------


def test_empty_payload() -> None:
    rejection = whole_rejection(parse(b""))
    assert rejection.reason == "payload is empty"
    assert rejection.raw == b""
    assert rejection.sensor_id == "vb-001"


def test_payload_over_the_size_limit() -> None:
    payload = b"[" + b" " * 1_999_998 + b"]"
    rejection = whole_rejection(parse(payload))
    assert rejection.reason == "payload is 2,000,000 bytes, over the 1,048,576-byte limit"
    assert rejection.raw == payload[:RAW_CAP_BYTES]
    assert len(rejection.raw) == 65_536


def test_payload_of_exactly_the_size_limit_is_accepted() -> None:
    body = encode(good())
    payload = body + b" " * (1_048_576 - len(body))
    assert len(parse(payload).readings) == 1
    assert whole_rejection(parse(payload, max_payload_bytes=len(payload) - 1)).reason == (
        f"payload is {len(payload):,} bytes, over the {len(payload) - 1:,}-byte limit"
    )


@pytest.mark.parametrize(
    "payload",
    [b"{", b"hello", b'{"ts": 1, "laeq": 50,}', b"{'ts': 1}", b"   ", b'{"a":1} {"b":2}'],
)
def test_payload_that_is_not_json(payload: bytes) -> None:
    assert whole_rejection(parse(payload)).reason.startswith("payload is not valid JSON: ")


def test_payload_that_is_not_utf8() -> None:
    payload = b'{"ts": 1774744000, "laeq": 50, "note": "\xff"}'
    reason = whole_rejection(parse(payload)).reason
    assert reason == f"payload is not valid UTF-8: invalid start byte at byte {payload.index(0xFF)}"


def test_non_ascii_utf8_is_fine() -> None:
    payload = '{"ts": 1774744000, "laeq": 50, "note": "Vallensbæk ✓"}'.encode()
    assert len(parse(payload).readings) == 1


def test_deeply_nested_payload_is_refused_whole() -> None:
    payload = b'{"ts": 1774744000, "laeq": 50, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    assert whole_rejection(parse(payload)).reason == "payload is not valid JSON: nested too deeply"


@pytest.mark.parametrize(
    ("payload", "kind"),
    [(b'"x"', "a string"), (b"42", "a number"), (b" true", "a boolean"), (b"null", "null")],
)
def test_payload_that_is_not_an_object_or_array(payload: bytes, kind: str) -> None:
    assert whole_rejection(parse(payload)).reason == (
        f"payload must be a JSON object or an array of objects, got {kind}"
    )


def test_whole_message_raw_is_capped() -> None:
    payload = b'{"ts": 1, "laeq": "' + b"x" * 200_000 + b'"'
    rejection = whole_rejection(parse(payload))
    assert rejection.raw == payload[:RAW_CAP_BYTES]


def test_rejected_reading_raw_is_capped() -> None:
    items = [good(), good(laeq=-1, note="x" * 100_000)]
    [rejection] = parse(items).rejections
    assert len(rejection.raw) == RAW_CAP_BYTES
    assert rejection.raw == encode(items[1])[:RAW_CAP_BYTES]


def test_never_raises_even_for_arguments_of_the_wrong_type() -> None:
    parsed = parse_message(None, b"{}", NOW)  # type: ignore[arg-type]
    rejection = whole_rejection(parsed)
    assert rejection.reason.startswith("internal error while parsing")


# --- properties --------------------------------------------------------------------------------

FIELDS = ("ts", "laeq", "duration", "lafmax", "lafmin", "spectrum", "seq", "sensor_id")
texts = st.text(st.characters(codec="utf-8"), max_size=12)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
edge_numbers = st.sampled_from(
    [
        *(0, 0.0, -0.0, 1, 160, 160.0, 160.00001, 3600, 3600.5, -1, 1e-300),
        *(2**53 + 1, 2**63, 1e308, 10**400, -(10**400)),
    ]
)
levels = st.one_of(st.floats(-5, 165), st.integers(-5, 165), edge_numbers)
offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
rfc3339 = st.builds(
    lambda dt, sep, spec: dt.isoformat(sep=sep, timespec=spec),
    st.datetimes(datetime(1999, 12, 31), datetime(2026, 4, 1), timezones=offsets),
    st.sampled_from(["T", " "]),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
)
naive = st.datetimes(datetime(2020, 1, 1), datetime(2026, 4, 1)).map(datetime.isoformat)
timestamps = st.one_of(
    st.floats(NOW - 86_400 * 400, NOW + 600),
    st.integers(int(NOW) - 86_400, int(NOW) + 600),
    st.sampled_from([NOW + 300, NOW + 300.0001, 946_684_800, 946_684_799.5]),
    rfc3339,
    naive,
)
band_lists = st.lists(st.one_of(st.floats(-10, 25_000), st.integers(-10, 25_000)), max_size=70)
spectra = st.one_of(
    st.builds(
        lambda bands, data: {"bands_hz": bands, "lzeq": data},
        band_lists.map(lambda b: sorted(set(b))),
        st.lists(levels, max_size=70),
    ),
    st.integers(1, 66).flatmap(
        lambda n: st.fixed_dictionaries(
            {
                "bands_hz": st.lists(st.floats(1, 20_000), min_size=n, max_size=n).map(sorted),
                "lzeq": st.lists(st.floats(0, 160), min_size=n, max_size=n),
            }
        )
    ),
)
plausible = {
    "ts": timestamps,
    "laeq": levels,
    "duration": st.one_of(st.floats(-1, 4000), st.integers(-1, 4000), edge_numbers),
    "lafmax": levels,
    "lafmin": levels,
    "spectrum": spectra,
    "seq": st.one_of(st.integers(-2, 2**64), edge_numbers),
    "sensor_id": st.sampled_from(["vb-001", "vb-002", "", "VB-001"]),
}
field_values = {name: st.one_of(values, json_values) for name, values in plausible.items()}
mostly_valid = st.fixed_dictionaries(
    {"ts": st.floats(NOW - 86_400, NOW + 200), "laeq": st.floats(0, 160)},
    optional={name: plausible[name] for name in FIELDS[2:]},
)
readings_ish = st.one_of(
    mostly_valid,
    st.fixed_dictionaries({}, optional=field_values),
    st.builds(
        lambda known, unknown: {**unknown, **known},
        st.fixed_dictionaries({}, optional=field_values),
        st.dictionaries(texts, json_values, max_size=3),
    ),
    json_values,
)
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_accounted_for(items: list[Any], parsed: ParsedMessage) -> None:
    """Every item became exactly one reading or one rejection, in order."""
    indices = [r.index for r in parsed.rejections if r.index is not None]
    assert len(indices) == len(parsed.rejections)
    assert indices == sorted(set(indices))
    assert len(parsed.readings) + len(parsed.rejections) == len(items)
    for index, rejection in zip(indices, parsed.rejections, strict=True):
        assert rejection.raw == encode(items[index])[:RAW_CAP_BYTES]
        assert rejection.reason


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_never_raise(payload: bytes) -> None:
    parsed = parse_message(TOPIC, payload, NOW)
    assert parsed.readings or parsed.rejections
    assert not any("please report" in r.reason for r in parsed.rejections)


@FUZZ
@given(json_values)
def test_fuzz_random_json_never_raises(value: Any) -> None:
    parsed = parse(value)
    if isinstance(value, list) and value:
        assert_accounted_for(value, parsed)
    else:
        assert len(parsed.readings) + len(parsed.rejections) == 1


@FUZZ
@given(st.lists(readings_ish, min_size=1, max_size=8))
def test_fuzz_batches_account_for_every_reading(items: list[Any]) -> None:
    parsed = parse(items)
    assert_accounted_for(items, parsed)
    assert not any("please report" in r.reason for r in parsed.rejections)


@FUZZ
@given(readings_ish)
def test_a_readings_fate_does_not_depend_on_its_neighbours(item: Any) -> None:
    alone = parse([item])
    beside_a_bad_one = parse([item, "bad"])
    assert beside_a_bad_one.readings == alone.readings
    assert [r.reason for r in beside_a_bad_one.rejections[:-1]] == [
        r.reason for r in alone.rejections
    ]
    as_object = parse(item)
    if isinstance(item, dict):
        assert as_object.readings == alone.readings


@FUZZ
@given(readings_ish)
def test_the_explanation_agrees_with_the_decision(item: Any) -> None:
    decoded = msgspec.json.decode(encode(item))
    context = ReadingContext(TOPIC, "vb-001", NOW, 300.0)
    found = problems(decoded, context)
    verdict = judge([item]) if not isinstance(item, dict) else judge(item)
    if isinstance(verdict, Reading):
        assert found == []
    else:
        assert verdict == "; ".join(found)
