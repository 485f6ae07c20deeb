"""The simulator's readings obey the MQTT contract and follow local time."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import numpy as np

from noiselab.config import parse_mqtt_url
from noiselab.ingest.message import parse_message
from noiselab.sensors_sim.model import DiurnalModel, _local_hours
from noiselab.sensors_sim.publisher import SimulatorSettings, simulate_readings
from noiselab.sensors_sim.sites import DEFAULT_SITES, numbered_sensors, sensors_from_spec

SETTINGS = SimulatorSettings(mqtt=parse_mqtt_url("mqtt://127.0.0.1"))
DAY = datetime(2026, 6, 10, tzinfo=UTC).timestamp()


def test_every_simulated_reading_passes_the_parser() -> None:
    rng = np.random.default_rng(1)
    for sensor in DEFAULT_SITES:
        rows = simulate_readings(sensor, DAY, 600, SETTINGS, rng=rng, first_seq=0)
        payload = msgspec.json.encode(rows)
        parsed = parse_message(f"noiselab/{sensor.id}/levels", payload, DAY + 86400)
        assert parsed.rejections == []
        assert [r.seq for r in parsed.readings] == list(range(600))
        assert all(r.lafmin <= r.laeq <= r.lafmax for r in parsed.readings)  # type: ignore[operator]


def test_same_seed_same_readings() -> None:
    sensor = DEFAULT_SITES[0]
    a = simulate_readings(sensor, DAY, 100, SETTINGS, rng=np.random.default_rng(7), first_seq=0)
    b = simulate_readings(sensor, DAY, 100, SETTINGS, rng=np.random.default_rng(7), first_seq=0)
    assert a == b


def test_road_is_louder_at_the_morning_peak_than_at_night() -> None:
    """Copenhagen local 08:00 is 06:00Z in summer; 03:00 local is 01:00Z."""
    sensor = DEFAULT_SITES[0]
    model = DiurnalModel()
    rng = np.random.default_rng(3)
    peak = model.levels(sensor, DAY + 6 * 3600 + np.arange(600.0), 1.0, rng).laeq
    night = model.levels(sensor, DAY + 1 * 3600 + np.arange(600.0), 1.0, rng).laeq
    assert peak.mean() - night.mean() > 8.0


def test_local_hours_follow_daylight_saving() -> None:
    """2026-03-29 01:00Z is 03:00 CEST (clocks went 02:00 -> 03:00); 00:59Z is 01:59 CET."""
    t = datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp()
    assert list(_local_hours(np.array([t - 60.0, t]))) == [1, 3]


def test_sensor_specs() -> None:
    assert sensors_from_spec("default") == DEFAULT_SITES
    assert [s.id for s in sensors_from_spec("3")] == ["sim-0000", "sim-0001", "sim-0002"]
    assert len({s.id for s in numbered_sensors(50)}) == 50
