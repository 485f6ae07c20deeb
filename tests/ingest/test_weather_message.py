"""The weather-station parser: every field good and bad, message-level failures, and that it
never raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noiselab.ingest.weather_message import (
    WeatherContext,
    judge_observations,
    parse_weather,
    station_id_from_topic,
)
from noiselab.model import WeatherObservation

TOPIC = "noiselab/vb-weather/weather"
NOW = 1_795_600_800.0  # 2026-11-25T10:00:00Z


def parse(payload: object, **kwargs: object):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_weather(TOPIC, body, NOW, **kwargs)  # type: ignore[arg-type]


def reason_of(item: dict[str, object]) -> str:
    parsed = parse(item)
    assert parsed.observations == [], parsed.observations
    [rejection] = parsed.rejections
    assert (rejection.sensor_id, rejection.topic, rejection.index) == ("vb-weather", TOPIC, None)
    return rejection.reason


def test_a_full_observation():
    item = {
        "ts": NOW - 60,
        "duration": 60,
        "wind_speed": 7.0,
        "wind_gust": 11.2,
        "wind_direction": 250,
        "precipitation": 0.4,
        "temperature": -3.5,
        "station_id": "vb-weather",
        "unknown": "ignored",
    }
    assert parse(item).observations == [
        WeatherObservation("vb-weather", NOW - 60, 60.0, 7.0, 11.2, 250.0, 0.4, -3.5)
    ]


def test_only_ts_is_required_and_duration_defaults_to_a_minute():
    [o] = parse({"ts": "2026-11-25T09:59:00Z", "wind_speed": None}).observations
    assert o == WeatherObservation("vb-weather", NOW - 60, 60.0)


def test_an_array_judges_each_observation_alone():
    parsed = parse([{"ts": NOW - 120, "wind_speed": 3}, {"ts": NOW - 60, "wind_speed": 99}])
    assert [o.ts for o in parsed.observations] == [NOW - 120]
    [bad] = parsed.rejections
    assert bad.index == 1
    assert bad.reason == "wind_speed: must be between 0 and 75 m/s, got 99"
    assert json.loads(bad.raw) == {"ts": NOW - 60, "wind_speed": 99}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("wind_speed", -0.1, "wind_speed: must be between 0 and 75 m/s, got -0.1"),
        ("wind_speed", 75.1, "wind_speed: must be between 0 and 75 m/s, got 75.1"),
        ("wind_speed", True, "wind_speed: must be a number, got boolean true"),
        ("wind_speed", "5", "wind_speed: must be a number, got string '5'"),
        ("wind_gust", 121, "wind_gust: must be between 0 and 120 m/s, got 121"),
        ("wind_gust", [1], "wind_gust: must be a number, got an array"),
        (
            "wind_direction",
            360,
            "wind_direction: must be at least 0 and below 360 degrees, got 360",
        ),
        ("wind_direction", -1, "wind_direction: must be at least 0 and below 360 degrees, got -1"),
        ("precipitation", -0.01, "precipitation: must be between 0 and 500 mm, got -0.01"),
        ("precipitation", 500.5, "precipitation: must be between 0 and 500 mm, got 500.5"),
        ("temperature", -60.5, "temperature: must be between -60 and 60 °C, got -60.5"),
        ("temperature", 61, "temperature: must be between -60 and 60 °C, got 61"),
        ("temperature", {}, "temperature: must be a number, got an object"),
        ("duration", 0, "duration: must be more than 0 and at most 3600 s, got 0"),
        ("duration", 3600.5, "duration: must be more than 0 and at most 3600 s, got 3600.5"),
        ("duration", False, "duration: must be a number, got boolean false"),
        ("station_id", "other", "station_id 'other' differs from the topic's 'vb-weather'"),
        ("station_id", 7, "station_id: must be a string, got number 7"),
    ],
)
def test_each_bad_field_is_named_with_its_value(field: str, value: object, reason: str):
    assert reason_of({"ts": NOW, "wind_speed": 3.0} | {field: value}) == reason


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        (None, "ts: required (Unix seconds or an RFC 3339 string with offset)"),
        ("2026-11-25T10:00:00", "ts: '2026-11-25T10:00:00' has no UTC offset: add Z or +hh:mm"),
        (
            "yesterday",
            "ts: 'yesterday' is not an RFC 3339 date-time (e.g. 2026-03-29T01:30:00+01:00)",
        ),
        (True, "ts: must be Unix seconds (a number) or an RFC 3339 string, got boolean true"),
        (900_000_000, "ts: 900000000.0 is before 2000-01-01T00:00:00Z, implausible"),
        (NOW + 301, "ts: 301.0 s in the future of the receive time (limit 300 s)"),
    ],
)
def test_bad_times(ts: object, reason: str):
    assert reason_of({"ts": ts}) == reason


def test_a_missing_ts_is_required():
    assert reason_of({"wind_speed": 2.0}).startswith("ts: required")


def test_the_gust_is_not_below_the_mean():
    reason = reason_of({"ts": NOW, "wind_speed": 8.0, "wind_gust": 7.5})
    assert reason == "wind_gust 7.5 m/s is below wind_speed 8.0 m/s"
    assert parse({"ts": NOW, "wind_speed": 8.0, "wind_gust": 8.0}).observations


def test_every_problem_of_an_observation_is_listed():
    reason = reason_of({"ts": NOW, "wind_speed": -1, "precipitation": 900})
    assert reason == (
        "wind_speed: must be between 0 and 75 m/s, got -1; "
        "precipitation: must be between 0 and 500 mm, got 900"
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "payload is empty"),
        (b"{not json", "payload is not valid JSON"),
        (b'{"ts": NaN}', "payload is not valid JSON"),
        (b"[]", "payload is an empty array: a batch needs at least one observation"),
        (b"42", "payload must be a JSON object or an array of objects"),
        (b"\xff\xfe", "payload is not valid UTF-8"),
    ],
)
def test_bad_messages_are_refused_whole(payload: bytes, reason: str):
    parsed = parse(payload)
    assert parsed.observations == []
    [rejection] = parsed.rejections
    assert rejection.reason.startswith(reason), rejection.reason
    assert (rejection.index, rejection.raw) == (None, payload)


def test_too_large_and_too_many():
    assert parse(b"[" + b" " * 2000 + b"]", max_payload_bytes=1000).rejections[0].reason == (
        "payload is 2,002 bytes, over the 1,000-byte limit"
    )
    many = [{"ts": NOW - 60 * i} for i in range(4)]
    assert parse(many, max_batch=3).rejections[0].reason == (
        "batch has 4 observations, over the 3 limit"
    )


def test_an_array_item_that_is_not_an_object():
    [rejection] = parse([{"ts": NOW}, "x"]).rejections
    assert (rejection.index, rejection.reason) == (
        1,
        "observation must be a JSON object, got string 'x'",
    )


def test_topics():
    assert station_id_from_topic(TOPIC) == "vb-weather"
    assert station_id_from_topic("lab/site/vb-weather/weather", "lab/site") == "vb-weather"
    assert station_id_from_topic("noiselab/vb-weather/levels") is None
    assert station_id_from_topic("noiselab/Bad_Id/weather") is None
    [rejection] = parse_weather("noiselab/Bad_Id/weather", b"{}", NOW).rejections
    assert rejection.reason == (
        "bad topic: expected noiselab/<station_id>/weather, got 'noiselab/Bad_Id/weather'"
    )
    assert rejection.sensor_id is None


def test_the_http_entry_names_its_route():
    ctx = WeatherContext("http:/api/v1/push/weather", "vb-weather", NOW)
    parsed = judge_observations(b'{"ts": 1795600740, "temperature": 4.5}', ctx)
    assert parsed.observations == [
        WeatherObservation("vb-weather", NOW - 60, 60.0, temperature=4.5)
    ]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        name: JSON | st.floats(-1e3, 1e10)
        for name in (
            "ts",
            "duration",
            "wind_speed",
            "wind_gust",
            "wind_direction",
            "precipitation",
            "temperature",
            "station_id",
        )
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(FIELDS, st.lists(FIELDS, max_size=5), JSON))
def test_it_never_raises_and_accounts_for_every_observation(value: object):
    parsed = parse(value)
    count = len(value) if isinstance(value, list) and value else 1
    assert len(parsed.observations) + len(parsed.rejections) == count
    for o in parsed.observations:
        assert o.station_id == "vb-weather"
        assert 0 < o.duration <= 3600


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(payload: bytes):
    parsed = parse_weather(TOPIC, payload, NOW)
    assert parsed.observations or parsed.rejections
