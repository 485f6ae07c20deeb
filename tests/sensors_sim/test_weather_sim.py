"""The simulated weather station: reproducible, with windy and rainy spells in any week, its
observations valid under the contract, and the same wind and rain the noise model adds, so
the minutes the ISO 1996-2 rule excludes are the ones the weather made louder."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from noiselab.analysis.weather_validity import weather_validity
from noiselab.config import parse_mqtt_url
from noiselab.ingest.weather_message import parse_weather
from noiselab.sensors_sim.generate import generate
from noiselab.sensors_sim.publisher import Simulator, SimulatorSettings, _LiveDays
from noiselab.sensors_sim.site_specs import site_by_id
from noiselab.sensors_sim.weather import STATION_ID, day_weather, observations, weather_between

DAY = datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # a Monday
D = int(DAY // 86_400)


def test_the_same_seed_and_day_give_the_same_weather():
    a, b, other = day_weather(4, D), day_weather(4, D), day_weather(5, D)
    assert all(np.array_equal(a[k], b[k]) for k in a)  # type: ignore[literal-required]
    assert not np.array_equal(a["wind_ms"], other["wind_ms"])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_week_has_windy_and_rainy_minutes(seed: int):
    """Over 7 days some minutes are above 5 m/s at 4 m and some wet, and most are neither."""
    found = observations(seed, DAY, DAY + 7 * 86_400)
    wind = np.array([o["wind_speed"] for o in found])
    rain = np.array([o["precipitation"] for o in found])
    v = weather_validity(wind, rain)
    windy, wet = int((v.wind_ms > 5).sum()), int((rain > 0).sum())
    assert windy >= 60, windy
    assert wet >= 60, wet
    assert 0.7 < v.valid.mean() < 0.97


def test_observations_pass_the_parser():
    found = observations(0, DAY - 300, DAY + 3600)
    assert [o["ts"] for o in found[:2]] == [DAY - 300, DAY - 240]
    assert len(found) == 65
    parsed = parse_weather(f"noiselab/{STATION_ID}/weather", json.dumps(found).encode(), DAY + 4000)
    assert (len(parsed.observations), parsed.rejections) == (65, [])


def test_the_noise_model_gets_the_reported_wind_and_rain():
    """The model's series is the reported values, precipitation in mm per minute as mm/h."""
    series = weather_between(0, DAY, DAY + 600)
    found = observations(0, DAY, DAY + 86_400)
    assert series.ts.size == 1440
    np.testing.assert_array_equal(series.wind_ms, [o["wind_speed"] for o in found])
    np.testing.assert_allclose(series.rain_mm_h, [60 * o["precipitation"] for o in found])


def test_the_excluded_minutes_are_the_ones_the_weather_made_louder():
    """A quiet background site over one day, with and without the weather: the minutes the
    rule excludes are louder by several dB on average, the valid ones by little."""
    site = site_by_id("bg-vallensbaek-mose")
    weather = weather_between(0, DAY, DAY + 86_400)
    wet_day = generate(site, DAY, DAY + 86_400, 0, rate_hz=1 / 60, weather=weather)
    dry_day = generate(site, DAY, DAY + 86_400, 0, rate_hz=1 / 60)
    found = observations(0, DAY, DAY + 86_400)
    v = weather_validity([o["wind_speed"] for o in found], [o["precipitation"] for o in found])
    rise = wet_day.laeq - dry_day.laeq
    assert (~v.valid).sum() > 0
    assert rise[~v.valid].mean() > 3.0
    assert rise[v.valid].mean() < 1.0


def test_live_days_add_the_weather_noise_when_asked():
    site = site_by_id("bg-vallensbaek-mose")
    mqtt_url = parse_mqtt_url("mqtt://127.0.0.1")
    plain = _LiveDays(SimulatorSettings(mqtt=mqtt_url, sensors=[site]), barrier_at=DAY)
    windy = _LiveDays(SimulatorSettings(mqtt=mqtt_url, sensors=[site], weather=True), DAY)
    a = plain.rows(site, DAY, DAY + 86_400, 0)
    b = windy.rows(site, DAY, DAY + 86_400, 0)
    assert sum(y["laeq"] > x["laeq"] for x, y in zip(a, b, strict=True)) > 1000


@pytest.mark.process
def test_the_simulator_publishes_the_stations_minutes(broker):
    """Two hours of backfill with --weather: 120 observations on PREFIX/vb-weather/weather."""
    received: list[dict[str, float]] = []
    done = threading.Event()

    def on_message(_c, _u, msg):
        received.extend(json.loads(msg.payload))
        if len(received) >= 120:
            done.set()

    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect("127.0.0.1", broker.port)
    client.subscribe("simw/vb-weather/weather", qos=1)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        start = (int(datetime.now(UTC).timestamp()) // 3600 - 3) * 3600.0
        settings = SimulatorSettings(
            mqtt=parse_mqtt_url(broker.url),
            sensors=[site_by_id("kbm-25m")],
            rate_hz=1 / 60,
            backfill_s=7200,
            start=start,
            live=False,
            topic_prefix="simw",
            weather=True,
            client_id="simw",
        )
        Simulator(settings).run()
        assert done.wait(20)
    finally:
        client.loop_stop()
        client.disconnect()
    assert [o["ts"] for o in received] == [start + 60 * i for i in range(120)]
    assert received == observations(0, start, start + 7200)
