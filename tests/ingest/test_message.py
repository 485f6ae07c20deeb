"""Tests of sensor message parsing (``noiselab.ingest.message``): the topic, the conversion of a
good reading, batches, whole-message failures, and fuzzing. The rules of each field of a reading
are tested in ``test_reading_rules.py``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.messages import (
    BANDS,
    LZEQ,
    NOW,
    TOPIC,
    accepted,
    encode,
    good,
    judge,
    parse,
    whole_rejection,
)

from noiselab.ingest.message import (
    RAW_CAP_BYTES,
    ParsedMessage,
    parse_message,
    sensor_id_from_topic,
)
from noiselab.ingest.reading_rules import ReadingContext, problems
from noiselab.model import Reading, Spectrum

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


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"nan", b"inf"])
def test_nan_and_infinity_tokens_are_not_json(token: bytes) -> None:
    payload = b'[{"ts": 1774744000, "laeq": ' + token + b'}, {"ts": 1774744000, "laeq": 50}]'
    rejection = whole_rejection(parse(payload))
    assert rejection.reason.startswith("payload is not valid JSON: ")
    assert "NaN and Infinity are not JSON numbers" in rejection.reason
    assert rejection.raw == payload


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
