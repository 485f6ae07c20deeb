"""Milesight WS302 uplinks mapped onto readings (noiselab.ingest.adapters.ws302).

The decoded example (LAF 57.5, LAeq 47.4, LAFmax 61.8 dB) inside the documented TTN v3 and
ChirpStack v4 envelopes. LAeq is over the 600-s default reporting interval ending at the
uplink time: TTN received_at 2020-02-12T15:15:46.014773143Z = 1581520546.014773 s
(date -u -d 2020-02-12T15:15:46Z +%s, plus the fraction to the microsecond), so ts =
1581519946.014773; ChirpStack time 2022-07-18T09:34:15.775023242+00:00 = 1658136855.775023.
"""

from __future__ import annotations

import json

import pytest
from support.paths import PAYLOADS

from noiselab.ingest.adapters import AdapterContext, AdapterOptions
from noiselab.ingest.adapters.base import FixedId, PointerId
from noiselab.ingest.adapters.ws302 import parse_ws302

NOW = 1_800_000_000.0


def one(
    name: str, options: AdapterOptions | None = None
) -> tuple[str, float, float, float, float | None]:
    readings, rejections = parse_ws302(
        (PAYLOADS / name).read_bytes(), AdapterContext("up", NOW, options or AdapterOptions())
    )
    assert rejections == []
    [r] = readings
    return r.sensor_id, r.ts, r.laeq, r.duration, r.lafmax


def test_ttn_v3_uplink() -> None:
    sensor, ts, laeq, duration, lafmax = one("ws302-ttn-v3.json")
    assert sensor == "dev1"
    assert ts == pytest.approx(1_581_520_546.014773 - 600.0, abs=1e-6)
    assert (laeq, duration, lafmax) == (47.4, 600.0, 61.8)


def test_chirpstack_v4_uplink() -> None:
    sensor, ts, laeq, duration, lafmax = one("ws302-chirpstack-v4.json")
    assert sensor == "0101010101010101"
    assert ts == pytest.approx(1_658_136_855.775023 - 600.0, abs=1e-6)
    assert (laeq, duration, lafmax) == (47.4, 600.0, 61.8)


def test_the_bare_decoded_object_is_timed_by_its_receive_time() -> None:
    options = AdapterOptions(sensor_id=FixedId("vb-ws302-1"), interval_s=300.0)
    assert one("ws302-decoded.json", options) == ("vb-ws302-1", NOW - 300.0, 47.4, 300.0, 61.8)


def test_device_ids_are_mapped_and_rules_override() -> None:
    mapped = AdapterOptions(ids={"dev1": "vb-roof"})
    assert one("ws302-ttn-v3.json", mapped)[0] == "vb-roof"
    by_pointer = AdapterOptions(sensor_id=PointerId("/end_device_ids/dev_eui"))
    assert one("ws302-ttn-v3.json", by_pointer)[0] == "0004a30b001c0530"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda b: b["uplink_message"].pop("decoded_payload"), "add the WS302 payload decoder"),
        (
            lambda b: b["uplink_message"]["decoded_payload"].pop("LAeq"),
            "decoded payload has no LAeq",
        ),
        (
            lambda b: b["uplink_message"]["decoded_payload"].update(LAeq="x"),
            "LAeq 'x' is not a number",
        ),
        (
            lambda b: b["uplink_message"]["decoded_payload"].update(LAFmax=-3),
            "lafmax: must be between",
        ),
        (
            lambda b: b.update(received_at="yesterday"),
            "received_at: 'yesterday' is not an RFC 3339",
        ),
        (
            lambda b: b.update(received_at="2099-01-01T00:00:00Z"),
            "in the future of the receive time",
        ),
        (lambda b: b["end_device_ids"].update(device_id="Dev 1"), "cannot use device id 'Dev 1'"),
    ],
)
def test_bad_uplinks_are_refused_with_a_readable_reason(change: object, fragment: str) -> None:
    body = json.loads((PAYLOADS / "ws302-ttn-v3.json").read_text())
    change(body)  # type: ignore[operator]
    payload = json.dumps(body).encode()
    readings, [rejection] = parse_ws302(payload, AdapterContext("v3/app1@ttn/devices/dev1/up", NOW))
    assert readings == []
    assert rejection.reason.startswith("ws302: ")
    assert fragment in rejection.reason, rejection.reason
    assert rejection.raw == payload
    assert rejection.topic == "v3/app1@ttn/devices/dev1/up"


def test_a_bare_object_without_a_sensor_rule_is_refused() -> None:
    readings, [rejection] = parse_ws302(
        (PAYLOADS / "ws302-decoded.json").read_bytes(), AdapterContext("t", NOW)
    )
    assert readings == []
    assert "no device id in the payload: set sensor_id for this source" in rejection.reason
