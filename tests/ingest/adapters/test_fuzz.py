"""No payload ever makes an adapter raise: arbitrary JSON and arbitrary bytes (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.ingest.adapters import FORMATS, AdapterContext, AdapterOptions
from noiselab.ingest.adapters.base import MappingFields, PointerId
from noiselab.ingest.adapters.sensor_community import parse_sensor_community
from noiselab.ingest.message import ParsedMessage
from noiselab.model import Reading, Rejection

KEYS = st.sampled_from(
    [
        "id",
        "type",
        "LAeq",
        "LAmax",
        "value",
        "@value",
        "dateObservedFrom",
        "dateObservedTo",
        "dateObserved",
        "data",
        "sensors",
        "sensor",
        "observations",
        "timestamp",
        "sensordatavalues",
        "value_type",
        "uplink_message",
        "decoded_payload",
        "received_at",
        "deviceInfo",
        "devEui",
        "object",
        "time",
        "LAFmax",
        "rows",
        "l",
        "x",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "NoiseLevelObserved",
            "TA120-T1-S",
            "45.4",
            "044.0,0,0;x",
            "noise_LAeq",
            "2016-12-28T11:00:00Z",
            "02/01/2018T11:22:59UTC",
            "dev1",
            "",
        ]
    )
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)
OPTIONS = AdapterOptions(
    sensor_id=PointerId("/id"),
    interval_s=60.0,
    fields=MappingFields(laeq="/l", ts="/time", ts_format="rfc3339", items="/rows", lafmax="/x"),
)


def check(result: ParsedMessage) -> None:
    readings, rejections = result
    assert all(isinstance(r, Reading) for r in readings)
    assert all(isinstance(r, Rejection) and r.reason for r in rejections)
    # The never-raise guard must not be what saved us: no error may be unexpected.
    assert not any("internal error" in r.reason for r in rejections), rejections


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_arbitrary_json_never_raises(document: object) -> None:
    payload = json.dumps(document).encode()
    for parse in FORMATS.values():
        check(parse(payload, AdapterContext("a/b/c", 1.8e9, OPTIONS)))
        check(parse(payload, AdapterContext("a/b/c", 1.8e9)))
    check(parse_sensor_community(payload, sensor_id="s1", topic="t", received_at=1.8e9))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    for parse in FORMATS.values():
        check(parse(payload, AdapterContext("a", 1.8e9, OPTIONS)))
