"""URLs and durations are validated up front, and errors name the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from noiselab.config import (
    default_meta_url,
    parse_duration,
    parse_hours,
    parse_mqtt_url,
    parse_store_url,
)
from noiselab.errors import ConfigError


def test_mqtt_url_with_credentials_and_default_ports() -> None:
    url = parse_mqtt_url("mqtt://ingest:s%40cret@broker.local")
    assert (url.host, url.port, url.username, url.password, url.tls) == (
        "broker.local",
        1883,
        "ingest",
        "s@cret",
        False,
    )
    assert "s@cret" not in str(url)
    assert parse_mqtt_url("mqtts://broker:9000").port == 9000
    assert parse_mqtt_url("mqtts://broker").port == 8883


@pytest.mark.parametrize("bad", ["http://x", "mqtt://", "mqtt://host:notaport", "broker:1883"])
def test_bad_mqtt_urls_are_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="MQTT URL"):
        parse_mqtt_url(bad)


def test_store_urls() -> None:
    assert parse_store_url("sqlite:///data/x.db").path == Path("data/x.db")
    assert parse_store_url("sqlite:////abs/x.db").path == Path("/abs/x.db")
    influx = parse_store_url("influxdb://influx:8086?org=gate21&bucket=noise")
    assert (influx.kind, influx.host, influx.port, influx.org, influx.bucket) == (
        "influxdb",
        "influx",
        8086,
        "gate21",
        "noise",
    )
    assert default_meta_url(parse_store_url("sqlite:///d/readings.db")) == "sqlite:///d/metadata.db"


@pytest.mark.parametrize(
    "bad", ["sqlite://relative.db", "sqlite:///", "postgres://x", "influxdb://h?org=o"]
)
def test_bad_store_urls_are_named(bad: str) -> None:
    with pytest.raises(ConfigError, match="store URL"):
        parse_store_url(bad)


def test_influx_store_needs_an_explicit_meta_url() -> None:
    with pytest.raises(ConfigError, match="--meta"):
        default_meta_url(parse_store_url("influxdb://h?org=o&bucket=b"))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("24h", 86400),
        ("7d", 604800),
        ("2w", 1209600),
        ("1.5h", 5400),
        ("0", 0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "h", "-5m", "inf", "nan", "3x"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(bad)


def test_period_hours() -> None:
    assert parse_hours("--day", "7-19") == (7, 19)
    assert parse_hours("--evening", " 19-23 ") == (19, 23)
    for bad in ("7", "19-7", "7-25", "a-b", "7-19-22"):
        with pytest.raises(ConfigError, match="--day"):
            parse_hours("--day", bad)
