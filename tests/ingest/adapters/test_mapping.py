"""The generic JSON-pointer mapping and its RFC 6901 resolver.

Pointer cases are those of RFC 6901, section 5 (the document below is its example).
"""

from __future__ import annotations

import json

import pytest

from noiselab.ingest.adapters import AdapterContext, AdapterOptions
from noiselab.ingest.adapters.base import MappingFields, TopicLevel
from noiselab.ingest.adapters.mapping import parse_mapping, parse_timestamp
from noiselab.ingest.adapters.pointer import PointerError, parse_pointer, resolve
from noiselab.ingest.message import ParsedMessage
from noiselab.model import Reading

RFC6901 = {
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\j": 5,
    'k"l': 6,
    " ": 7,
    "m~n": 8,
}
NOW = 1_795_600_800.0  # 2026-11-25T10:00:00Z


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("", RFC6901),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ('/k"l', 6),
        ("/ ", 7),
        ("/m~0n", 8),
    ],
)
def test_rfc6901_examples_resolve(pointer: str, value: object) -> None:
    assert resolve(RFC6901, pointer) == value


def test_tilde_one_is_decoded_before_tilde_zero() -> None:
    """RFC 6901 section 4: '~01' is '~1', not '/'."""
    assert parse_pointer("/~01") == ("~1",)
    assert resolve({"~1": "x", "/": "y"}, "/~01") == "x"


@pytest.mark.parametrize(
    ("pointer", "fragment"),
    [
        ("foo", "must be empty or start with '/'"),
        ("/m~2n", "'~' not followed by 0 or 1"),
        ("/foo/2", "past the end"),
        ("/foo/01", "not an array index"),
        ("/foo/-", "not an array index"),
        ("/nope", "no member 'nope'"),
        ("/foo/0/x", "is not an object or array"),
    ],
)
def test_bad_pointers_raise_pointer_error(pointer: str, fragment: str) -> None:
    with pytest.raises(PointerError, match=None) as caught:
        resolve(RFC6901, pointer)
    assert fragment in str(caught.value)


def parse(body: object, fields: MappingFields, topic: str = "acme/dev-7/data") -> ParsedMessage:
    options = AdapterOptions(sensor_id=TopicLevel(1), fields=fields)
    return parse_mapping(json.dumps(body).encode(), AdapterContext(topic, NOW, options))


def test_items_with_rfc3339_times_string_numbers_and_a_duration_pointer() -> None:
    body = {
        "station": {"id": "X"},
        "rows": [
            {"t": "2026-11-25T10:00:00+01:00", "noise": {"leq": "55.5", "max": 70}, "len": 60},
            {"t": "2026-11-25T09:01:00Z", "noise": {"leq": 56, "min": "40.5"}, "len": "60"},
        ],
    }
    fields = MappingFields(
        laeq="/noise/leq",
        ts="/t",
        ts_format="rfc3339",
        duration="/len",
        lafmax="/noise/max",
        lafmin="/noise/min",
        items="/rows",
    )
    readings, rejections = parse(body, fields)
    assert rejections == []
    t0 = NOW - 3600  # 10:00+01:00 is 09:00Z
    assert readings == [
        Reading("dev-7", t0, 55.5, 60.0, lafmax=70.0),
        Reading("dev-7", t0 + 60, 56.0, 60.0, lafmin=40.5),
    ]


def test_unix_ms_and_a_constant_duration() -> None:
    fields = MappingFields(laeq="/l", ts="/ms", ts_format="unix_ms", duration=10.0)
    readings, _ = parse({"l": 50, "ms": int(NOW * 1000) - 10_000}, fields)
    assert readings == [Reading("dev-7", NOW - 10, 50.0, 10.0)]


def test_without_ts_the_reading_ends_at_the_receive_time() -> None:
    readings, _ = parse({"l": 50}, MappingFields(laeq="/l", duration=30.0))
    assert readings == [Reading("dev-7", NOW - 30, 50.0, 30.0)]
    readings, _ = parse({"l": 50}, MappingFields(laeq="/l"))
    assert readings == [Reading("dev-7", NOW - 1, 50.0, 1.0)]


def test_a_strptime_pattern_with_a_zone() -> None:
    assert parse_timestamp("25.11.2026 11:00:00 +0100", "%d.%m.%Y %H:%M:%S %z") == NOW
    with pytest.raises(ValueError, match="does not match"):
        parse_timestamp("2026-11-25", "%d.%m.%Y %H:%M:%S %z")


def test_sensor_id_from_a_pointer_per_item() -> None:
    body = {"rows": [{"id": "A-1", "l": 50}, {"id": 42, "l": 51}]}
    fields = MappingFields(laeq="/l", sensor_id="/id", items="/rows", duration=5.0)
    options = AdapterOptions(fields=fields, ids={"A-1": "vb-a1"})
    readings, _ = parse_mapping(json.dumps(body).encode(), AdapterContext("t", NOW, options))
    assert [r.sensor_id for r in readings] == ["vb-a1", "42"]


@pytest.mark.parametrize(
    ("body", "fields", "fragment"),
    [
        ({"x": 1}, MappingFields(laeq="/l"), "laeq '/l': no member 'l'"),
        ({"l": "loud"}, MappingFields(laeq="/l"), "laeq 'loud' is not a number"),
        ({"l": None}, MappingFields(laeq="/l"), "laeq '/l' is null"),
        (
            {"l": 50, "t": "noon"},
            MappingFields(laeq="/l", ts="/t", ts_format="rfc3339"),
            "'noon' is not",
        ),
        ({"l": 50, "t": 1e30}, MappingFields(laeq="/l", ts="/t"), "in the future"),
        ({"l": 50}, MappingFields(laeq="/l", duration="/d"), "duration '/d': no member 'd'"),
        ({"l": 50}, MappingFields(laeq="/l", items="/rows"), "items '/rows': no member 'rows'"),
        ({"rows": []}, MappingFields(laeq="/l", items="/rows"), "must be a non-empty array"),
    ],
)
def test_bad_input_is_refused_with_a_readable_reason(
    body: object, fields: MappingFields, fragment: str
) -> None:
    readings, rejections = parse(body, fields)
    assert readings == []
    [rejection] = rejections
    assert rejection.reason.startswith("mapping: ")
    assert fragment in rejection.reason, rejection.reason


def test_one_bad_item_does_not_sink_its_neighbours() -> None:
    body = {"rows": [{"l": 50}, {"l": 500}, {"l": 52}]}
    readings, rejections = parse(body, MappingFields(laeq="/l", items="/rows", duration=1.0))
    assert [r.laeq for r in readings] == [50.0, 52.0]
    assert [(r.index, r.sensor_id) for r in rejections] == [(1, "dev-7")]
    assert "laeq: must be between 0 and 160 dB" in rejections[0].reason
