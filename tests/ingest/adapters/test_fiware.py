"""FIWARE NoiseLevelObserved entities mapped onto readings (noiselab.ingest.adapters.fiware).

Expected values are read off the Smart Data Models example (tests/data/payloads/README.md):
LAeq 67.8 dB and LAmax 94.5 dB over [2016-12-28T11:00:00Z, 12:00:00Z), i.e. ts 1482922800
(date -u -d 2016-12-28T11:00:00Z +%s) and duration 3600 s.
"""

from __future__ import annotations

import json

import pytest
from support.paths import PAYLOADS

from noiselab.ingest.adapters import AdapterContext, AdapterOptions
from noiselab.ingest.adapters.fiware import parse_fiware
from noiselab.model import Reading

ENTITY_ID = "Vitoria-NoiseLevelObserved-2016-12-28T11:00:00_2016-12-28T12:00:00"
NOW = 1_800_000_000.0
MAPPED = AdapterOptions(ids={ENTITY_ID: "vitoria-1"})
EXPECTED = Reading("vitoria-1", 1_482_922_800.0, 67.8, 3600.0, lafmax=94.5)
ENCODINGS = [
    "fiware-keyvalues.json",
    "fiware-normalized.json",
    "fiware-ld-keyvalues.jsonld",
    "fiware-ld-normalized.jsonld",
]


@pytest.mark.parametrize("name", ENCODINGS)
def test_every_encoding_of_the_documented_example_gives_the_same_reading(name: str) -> None:
    """Key-values, NGSI v2 normalized, NGSI-LD key-values and normalized: one identical reading
    (LAS and LAeq_d are not readings and leave no trace)."""
    readings, rejections = parse_fiware(
        (PAYLOADS / name).read_bytes(), AdapterContext("t", NOW, MAPPED)
    )
    assert rejections == []
    assert readings == [EXPECTED]


def test_an_array_and_a_notification_carry_several_entities() -> None:
    entity = json.loads((PAYLOADS / "fiware-keyvalues.json").read_text())
    second = {**entity, "id": "urn:ngsi-ld:NoiseLevelObserved:kbm-2", "LAeq": 55.5}
    second.pop("LAmax")
    notification = {"subscriptionId": "57458eb60962ef754e7c0998", "data": [entity, second]}
    for body in ([entity, second], notification):
        readings, rejections = parse_fiware(
            json.dumps(body).encode(), AdapterContext("t", NOW, MAPPED)
        )
        assert rejections == []
        assert readings == [EXPECTED, Reading("kbm-2", 1_482_922_800.0, 55.5, 3600.0)]


def test_an_unmapped_id_that_is_not_a_sensor_id_is_quarantined_with_the_fix() -> None:
    readings, [rejection] = parse_fiware(
        (PAYLOADS / "fiware-keyvalues.json").read_bytes(), AdapterContext("fw/x", NOW)
    )
    assert readings == []
    assert rejection.reason.startswith("fiware: entity ")
    assert "cannot use device id" in rejection.reason
    assert "map it in [source.ids]" in rejection.reason
    assert rejection.topic == "fw/x"
    assert rejection.raw == (PAYLOADS / "fiware-keyvalues.json").read_bytes()


def test_missing_from_uses_the_configured_interval_ending_at_to() -> None:
    entity = {
        "id": "kbm-3",
        "type": "NoiseLevelObserved",
        "LAeq": 60.0,
        "dateObservedTo": "2016-12-28T12:00:00Z",
    }
    options = AdapterOptions(interval_s=900.0)
    readings, rejections = parse_fiware(
        json.dumps(entity).encode(), AdapterContext("t", NOW, options)
    )
    assert rejections == []
    assert readings == [Reading("kbm-3", 1_482_926_400.0 - 900.0, 60.0, 900.0)]
    _, [rejection] = parse_fiware(json.dumps(entity).encode(), AdapterContext("t", NOW))
    assert "no dateObservedFrom and the source sets no interval_s" in rejection.reason


def test_an_iso_interval_in_date_observed_is_read() -> None:
    entity = {
        "id": "kbm-4",
        "type": "NoiseLevelObserved",
        "LAeq": "61.25",
        "dateObserved": "2016-12-28T11:00:00Z/2016-12-28T11:15:00Z",
    }
    readings, rejections = parse_fiware(json.dumps(entity).encode(), AdapterContext("t", NOW))
    assert rejections == []
    assert readings == [Reading("kbm-4", 1_482_922_800.0, 61.25, 900.0)]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"type": "WeatherObserved"}, "has type 'WeatherObserved', expected NoiseLevelObserved"),
        ({"LAeq": "abc"}, "LAeq 'abc' is not a number"),
        ({"LAeq": True}, "LAeq must be a number, got boolean true"),
        ({"LAeq": 171.0}, "laeq: must be between 0 and 160 dB"),
        ({"LAeq": None}, "LAeq must be a number, got null"),
        ({"dateObservedFrom": "28/12/2016"}, "dateObservedFrom: '28/12/2016' is not an RFC 3339"),
        ({"dateObservedTo": "2016-12-28T10:00:00Z"}, "duration: must be more than 0"),
        (
            {"dateObservedFrom": "2016-12-28T08:00:00Z"},
            "duration: must be more than 0 and at most 3600",
        ),
        (
            {"dateObservedFrom": "2099-12-28T11:00:00Z", "dateObservedTo": "2099-12-28T12:00:00Z"},
            "in the future of the receive time",
        ),
    ],
)
def test_bad_entities_are_refused_with_a_readable_reason(
    change: dict[str, object], fragment: str
) -> None:
    entity = {**json.loads((PAYLOADS / "fiware-keyvalues.json").read_text()), **change}
    readings, [rejection] = parse_fiware(
        json.dumps(entity).encode(), AdapterContext("t", NOW, MAPPED)
    )
    assert readings == []
    assert rejection.reason.startswith("fiware: ")
    assert fragment in rejection.reason, rejection.reason


def test_one_bad_entity_does_not_sink_its_neighbours() -> None:
    good = json.loads((PAYLOADS / "fiware-keyvalues.json").read_text())
    bad = {**good, "LAeq": "loud"}
    readings, rejections = parse_fiware(
        json.dumps([bad, good, 17]).encode(), AdapterContext("t", NOW, MAPPED)
    )
    assert readings == [EXPECTED]
    assert [r.index for r in rejections] == [0, 2]
    assert "LAeq 'loud' is not a number" in rejections[0].reason
    assert "entity [2] must be an object, got number 17" in rejections[1].reason


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"", "payload is empty"),
        (b"{not json", "payload is not valid JSON"),
        (b"[]", "no entity in the payload"),
        (b'"text"', "payload must be an entity"),
        (b'{"subscriptionId": "x", "data": 3}', "notification data must be an array"),
    ],
)
def test_bad_messages_are_refused_whole(payload: bytes, fragment: str) -> None:
    readings, [rejection] = parse_fiware(payload, AdapterContext("t", NOW))
    assert readings == []
    assert rejection.index is None
    assert rejection.reason.startswith("fiware: ")
    assert fragment in rejection.reason
