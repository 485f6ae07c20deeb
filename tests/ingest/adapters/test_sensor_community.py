"""Sensor.Community DNMS pushes mapped onto readings (parse_sensor_community, parse_dnms).

The payload carries no time: the values describe the interval that just ended, so a push
received at R with the 145 s DNMS interval is the reading [R - 145, R).
"""

from __future__ import annotations

import json

import pytest
from support.paths import PAYLOADS

from noiselab.ingest.adapters import AdapterContext, AdapterOptions
from noiselab.ingest.adapters.base import TopicLevel
from noiselab.ingest.adapters.sensor_community import parse_dnms, parse_sensor_community
from noiselab.ingest.message import ParsedMessage
from noiselab.model import Reading

R = 1_795_600_945.0  # 2026-11-25T10:02:25Z


def push(payload: bytes, interval_s: float = 145.0) -> ParsedMessage:
    return parse_sensor_community(
        payload,
        sensor_id="esp8266-1234567",
        topic="/sensor-community",
        received_at=R,
        interval_s=interval_s,
    )


@pytest.mark.parametrize("name", ["dnms-sensor-community.json", "dnms-prefixed.json"])
def test_string_values_of_both_forms_become_one_reading(name: str) -> None:
    """ "54.52" -> 54.52 dB LAeq, LA_min -> lafmin, LA_max -> lafmax; other values ignored."""
    readings, rejections = push((PAYLOADS / name).read_bytes())
    assert rejections == []
    assert readings == [
        Reading("esp8266-1234567", R - 145.0, 54.52, 145.0, lafmax=67.09, lafmin=48.31)
    ]


def test_numbers_are_accepted_and_the_interval_is_configurable() -> None:
    body = {"sensordatavalues": [{"value_type": "noise_LAeq", "value": 61}]}
    readings, rejections = push(json.dumps(body).encode(), interval_s=60.0)
    assert rejections == []
    assert readings == [Reading("esp8266-1234567", R - 60.0, 61.0, 60.0)]


def test_an_mqtt_source_names_the_sensor_by_its_rule() -> None:
    ctx = AdapterContext("lab/dnms/esp8266-99", R, AdapterOptions(sensor_id=TopicLevel(2)))
    readings, rejections = parse_dnms((PAYLOADS / "dnms-prefixed.json").read_bytes(), ctx)
    assert rejections == []
    assert [(r.sensor_id, r.ts, r.duration) for r in readings] == [("esp8266-99", R - 145.0, 145.0)]


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ([{"value_type": "noise_LAeq", "value": "abc"}], "dnms: noise_LAeq 'abc' is not a number"),
        ([{"value_type": "noise_LAeq", "value": "nan"}], "dnms: noise_LAeq 'nan' is not a finite"),
        ([{"value_type": "noise_LAeq", "value": "-1.00"}], "laeq: must be between 0 and 160 dB"),
        ([{"value_type": "noise_LA_max", "value": "60"}], "dnms: no noise_LAeq"),
        (
            [
                {"value_type": "noise_LAeq", "value": "50"},
                {"value_type": "noise_LA_min", "value": "58"},
                {"value_type": "noise_LA_max", "value": "55"},
            ],
            "lafmin 58.0 dB is above lafmax 55.0 dB",
        ),
        (
            [
                {"value_type": "noise_LAeq", "value": "50"},
                {"value_type": "DNMS_noise_LAeq", "value": "51"},
            ],
            "noise_LAeq is given more than once",
        ),
        ([{"value": "50"}], "sensordatavalues[0] must be an object with a value_type"),
    ],
)
def test_bad_values_are_refused_with_a_readable_reason(values: list[object], fragment: str) -> None:
    payload = json.dumps({"software_version": "x", "sensordatavalues": values}).encode()
    readings, [rejection] = push(payload)
    assert readings == []
    assert fragment in rejection.reason, rejection.reason
    assert rejection.raw == payload
    assert (rejection.topic, rejection.received_at) == ("/sensor-community", R)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "payload is empty"),
        (b"{", "not valid JSON"),
        (b"[1]", "payload must be a JSON object"),
        (b"{}", "sensordatavalues must be an array, got null"),
    ],
)
def test_bad_messages_are_refused_whole(payload: bytes, fragment: str) -> None:
    readings, [rejection] = push(payload)
    assert readings == []
    assert rejection.reason.startswith("dnms: ")
    assert fragment in rejection.reason


def test_a_sensor_id_that_is_not_one_is_refused() -> None:
    body = (PAYLOADS / "dnms-sensor-community.json").read_bytes()
    readings, [rejection] = parse_sensor_community(
        body, sensor_id="esp 1", topic="t", received_at=R
    )
    assert readings == []
    assert "cannot use device id 'esp 1' as a sensor id" in rejection.reason


def test_a_huge_payload_is_refused_and_the_evidence_capped() -> None:
    readings, [rejection] = push(b" " * 2_000_000)
    assert readings == []
    assert "over the 1,048,576 limit" in rejection.reason
    assert len(rejection.raw) == 64 * 1024
