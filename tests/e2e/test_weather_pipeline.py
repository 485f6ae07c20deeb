"""Weather observations through the whole pipeline: a real Mosquitto, ``noiselab ingest`` as a
process, the observations in the SQLite store, their exclusion spans in the metadata database,
bad and conflicting ones in quarantine, and a repeat stored once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from support.pipeline import PipelineLab, publish_all

from noiselab.model import WeatherObservation
from noiselab.store.metadata import MetadataStore
from noiselab.store.sqlite import SqliteStore
from noiselab.weather import WeatherSpans

pytestmark = pytest.mark.process

T0 = (int(time.time()) // 3600 - 2) * 3600.0  # two hours ago, on the hour
START = datetime.fromtimestamp(T0, UTC)


def minutes() -> list[dict[str, float]]:
    """An hour of minutes: 10:20-10:30 windy (8.0 m/s at 10 m: 6.6 m/s at 4 m), 10:40-10:43
    rainy, the rest calm and dry."""
    rows = []
    for m in range(60):
        wind = 8.0 if 20 <= m < 30 else 3.0
        rain = 0.2 if 40 <= m < 43 else 0.0
        rows.append({"ts": T0 + 60 * m, "wind_speed": wind, "precipitation": rain})
    return rows


def stored(lab: PipelineLab) -> list[WeatherObservation]:
    with SqliteStore(lab.db) as store:
        return store.weather("vb-weather", START, START + timedelta(hours=1))


def wait_for(check, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_weather_is_stored_and_marks_the_noise_seconds_it_invalidates(
    tmp_path, broker, prefix, ingest_factory
):
    lab = PipelineLab(tmp_path, broker, prefix)
    lab.register("kbm-25m")
    with lab.meta() as meta:
        lab.weather_station("vb-weather")
        meta.weather.assign("kbm-25m", "vb-weather")
    ingest = ingest_factory(*lab.ingest_args())
    topic = f"{prefix}/vb-weather/weather"
    rows = minutes()
    bad = {"ts": T0 + 3600, "wind_speed": 80}
    publish_all(
        broker,
        [(topic, json.dumps(rows[:30]).encode()), (topic, json.dumps([*rows[30:], bad]).encode())],
    )
    publish_all(broker, [(f"{prefix}/nowhere-mast/weather", json.dumps(rows[0]).encode())])
    wait_for(lambda: len(stored(lab)) == 60)
    # the same again (a station re-sending), and one minute rewritten
    rewritten = rows[5] | {"wind_speed": 9.5}
    publish_all(
        broker, [(topic, json.dumps(rows).encode()), (topic, json.dumps(rewritten).encode())]
    )
    reasons = wait_for(
        lambda: [e.reason for e in lab.quarantine()] if len(lab.quarantine()) >= 3 else None
    )
    ingest.stop()

    observations = stored(lab)
    assert len(observations) == 60
    assert observations[5].wind_speed == 3.0  # never overwritten
    assert sorted(r.split(":")[0] for r in reasons) == [
        "conflicts with stored reading",
        "unknown weather station 'nowhere-mast'",
        "wind_speed",
    ]
    with MetadataStore(lab.meta_url) as meta:
        spans = WeatherSpans(meta).spans("kbm-25m", START, START + timedelta(hours=1))
    assert [(s.start - T0, s.end - T0, s.reason) for s in spans] == [
        (1200.0, 1800.0, "wind up to 6.6 m/s at 4 m (8.0 m/s at 10 m)"),
        (2400.0, 2580.0, "precipitation up to 0.2 mm per observation"),
    ]
