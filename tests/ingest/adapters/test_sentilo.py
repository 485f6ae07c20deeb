"""CESVA TA120 via Sentilo mapped onto readings (noiselab.ingest.adapters.sentilo).

The documented example is stamped 02/01/2018T11:22:59UTC, day first: 2 January 2018,
T = 1514892179 (date -u -d 2018-01-02T11:22:59Z +%s). Its sixty 1-s values are the seconds
T-59 ... T; their energetic mean 10*log10(mean(10^(L/10))) = 45.45 dB matches the -N value
45.4 dB of the same minute, which is why -N is read as the minute [T-59, T+1).
"""

from __future__ import annotations

import json
import math

import pytest
from support.paths import PAYLOADS

from noiselab.ingest.adapters import AdapterContext, AdapterOptions
from noiselab.ingest.adapters.sentilo import parse_sentilo, parse_sentilo_time
from noiselab.model import Reading

T = 1_514_892_179.0
NOW = 1_800_000_000.0


def ctx(topic: str = "cesva/data", ids: dict[str, str] | None = None) -> AdapterContext:
    return AdapterContext(topic, NOW, AdapterOptions(ids=ids or {}))


def test_the_s_channel_becomes_sixty_one_second_readings_ending_at_the_timestamp() -> None:
    readings, rejections = parse_sentilo((PAYLOADS / "sentilo-ta120.json").read_bytes(), ctx())
    assert rejections == []
    assert len(readings) == 60
    assert {r.sensor_id for r in readings} == {"ta120-t246177"}
    assert [r.ts for r in readings] == [T - 59 + k for k in range(60)]
    assert {r.duration for r in readings} == {1.0}
    assert readings[0].laeq == 44.0
    assert readings[26].laeq == 51.6
    assert readings[-1].ts == T
    assert readings[-1].laeq == 44.5
    mean = 10 * math.log10(sum(10 ** (r.laeq / 10) for r in readings) / 60)
    assert mean == pytest.approx(45.4, abs=0.06)


def test_a_lone_n_channel_is_one_minute_ending_with_the_stamped_second() -> None:
    body = json.loads((PAYLOADS / "sentilo-ta120.json").read_text())
    body["sensors"] = [s for s in body["sensors"] if not s["sensor"].endswith("-S")]
    readings, rejections = parse_sentilo(json.dumps(body).encode(), ctx())
    assert rejections == []
    assert readings == [Reading("ta120-t246177", T - 59, 45.4, 60.0)]


def test_thirty_values_of_the_2020_example_end_at_its_timestamp() -> None:
    """12/03/2020T12:26:58UTC is 12 March 2020: T = 1584016018; the ninth value is 50.0 dB."""
    t = 1_584_016_018.0
    readings, rejections = parse_sentilo((PAYLOADS / "sentilo-ta120-2020.json").read_bytes(), ctx())
    assert rejections == []
    assert len(readings) == 30
    assert readings[0] == Reading("ta120-t246174", t - 29, 29.9, 1.0)
    assert readings[8] == Reading("ta120-t246174", t - 21, 50.0, 1.0)
    assert readings[-1] == Reading("ta120-t246174", t, 29.9, 1.0)


def test_the_device_is_mapped_through_ids() -> None:
    ids = {"TA120-T246177": "vb-cesva-1"}
    readings, _ = parse_sentilo((PAYLOADS / "sentilo-ta120.json").read_bytes(), ctx(ids=ids))
    assert {r.sensor_id for r in readings} == {"vb-cesva-1"}


def test_the_single_sensor_shape_takes_the_code_from_the_topic() -> None:
    body = {"observations": [{"value": "52.1", "timestamp": "17/02/2016T11:43:45CET"}]}
    readings, rejections = parse_sentilo(
        json.dumps(body).encode(), ctx("sentilo/data/cesva/TA120-T246177-N")
    )
    assert rejections == []
    # 11:43:45 CET (UTC+1 in February) is 10:43:45Z = 1455705825.
    assert readings == [Reading("ta120-t246177", 1_455_705_825.0 - 59, 52.1, 60.0)]


@pytest.mark.parametrize(
    ("text", "unix"),
    [
        ("02/01/2018T11:22:59UTC", 1_514_892_179.0),
        ("02/01/2018T11:22:59", 1_514_892_179.0),
        ("02/01/2018T12:22:59+01:00", 1_514_892_179.0),
        ("02/01/2018T12:22:59CET", 1_514_892_179.0),
        ("02/07/2018T13:22:59CET", 1_530_530_579.0),
    ],
)
def test_sentilo_timestamps_are_day_first_with_an_optional_zone(text: str, unix: float) -> None:
    """2 July 2018 13:22:59 CEST (UTC+2) is 11:22:59Z = 1530530579."""
    assert parse_sentilo_time(text) == unix


def test_an_observation_without_timestamp_is_taken_at_the_receive_time() -> None:
    body = {"sensors": [{"sensor": "TA120-X1-N", "observations": [{"value": "40"}]}]}
    readings, _ = parse_sentilo(json.dumps(body).encode(), ctx())
    assert readings == [Reading("ta120-x1", NOW - 59, 40.0, 60.0)]


@pytest.mark.parametrize(
    ("sensor", "observation", "fragment"),
    [
        (
            "TA120-T1-N",
            {"value": "abc", "timestamp": "02/01/2018T11:22:59UTC"},
            "value 'abc' is not a number",
        ),
        (
            "TA120-T1-N",
            {"value": "45", "timestamp": "2018-01-02T11:22:59Z"},
            "is not dd/MM/yyyyTHH:mm:ss",
        ),
        (
            "TA120-T1-N",
            {"value": "45", "timestamp": "31/02/2018T11:22:59"},
            "is not a valid date-time",
        ),
        (
            "TA120-T1-N",
            {"value": "45", "timestamp": "02/01/2018T11:22:59Mars"},
            "unknown time zone",
        ),
        (
            "TA120-T1-S",
            {"value": "044.0,0,0;x,0,0", "timestamp": "02/01/2018T11:22:59"},
            "second [1] 'x'",
        ),
        ("TA120-T1-S", {"value": 44, "timestamp": "02/01/2018T11:22:59"}, "value must be a string"),
        ("TA120-T1-N", {"value": "200", "timestamp": "02/01/2018T11:22:59"}, "between 0 and 160"),
        ("TA120", {"value": "45"}, "has no -N/-S channel suffix"),
    ],
)
def test_bad_observations_are_refused_with_a_readable_reason(
    sensor: str, observation: dict[str, object], fragment: str
) -> None:
    payload = json.dumps({"sensors": [{"sensor": sensor, "observations": [observation]}]}).encode()
    readings, rejections = parse_sentilo(payload, ctx())
    assert rejections, readings
    assert all(r.reason.startswith("sentilo: ") for r in rejections)
    assert any(fragment in r.reason for r in rejections), [r.reason for r in rejections]


def test_status_channels_are_ignored_not_quarantined() -> None:
    body = {"sensors": [{"sensor": "TA120-T1-O", "observations": [{"value": "false"}]}]}
    assert parse_sentilo(json.dumps(body).encode(), ctx()) == ([], [])


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [(b"[]", "must be a JSON object"), (b"{}", "neither sensors nor observations"), (b"{", "JSON")],
)
def test_bad_messages_are_refused_whole(payload: bytes, fragment: str) -> None:
    readings, [rejection] = parse_sentilo(payload, ctx())
    assert readings == []
    assert fragment in rejection.reason
