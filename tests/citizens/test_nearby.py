"""The nearest public sensors of a report and their 15-minute LAeq, on a real SQLite store,
against values worked by hand.

The report is at (55.63 N, 12.38 E) at 12:00:30 UTC on 2026-03-02, so its window is the 15
whole minutes [11:53, 12:08). Distances (haversine, R = 6,371,008.8 m): 0.0045° south is
500.378 m, 0.01° east is 627.735 m, 0.009° north 1000.756 m, 0.02° north 2223.902 m.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.readings import minutes, steady

from noiselab.citizens.nearby import (
    level_around,
    nearby,
    nearest_public,
    window_around,
)
from noiselab.model import Sensor
from noiselab.store.sqlite import SqliteStore

LAT, LON = 55.63, 12.38
TS = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
START = datetime(2026, 3, 2, 11, 53, tzinfo=UTC).timestamp()


def place(sensor_id: str, dlat: float = 0.0, dlon: float = 0.0, **extra: object) -> Sensor:
    fields: dict[str, object] = {"lat": LAT + dlat, "lon": LON + dlon, "source": "road"} | extra
    return Sensor(id=sensor_id, name=f"Sensor {sensor_id}", **fields)  # type: ignore[arg-type]


SENSORS = [
    place("north-1km", dlat=0.009),
    place("south-500m", dlat=-0.0045),
    place("east-628m", dlon=0.01),
    place("north-2200m", dlat=0.02),  # beyond 2 km
    place("private-100m", dlat=0.0009, public=False),  # hidden from the public: never shown
    Sensor(id="nowhere", name="No position", source="road"),
]


def test_the_nearest_public_sensors_within_2_km_nearest_first() -> None:
    found = nearest_public(SENSORS, LAT, LON)
    assert [(s.id, round(d, 3)) for s, d in found] == [
        ("south-500m", 500.378),
        ("east-628m", 627.735),
        ("north-1km", 1000.756),
    ]
    assert [s.id for s, _ in nearest_public(SENSORS, LAT, LON, limit=2)] == [
        "south-500m",
        "east-628m",
    ]
    wider = nearest_public(SENSORS, LAT, LON, radius_m=2500, limit=10)
    assert [s.id for s, _ in wider][-1] == "north-2200m"
    assert nearest_public([], LAT, LON) == []


def test_equal_distances_are_ordered_by_id() -> None:
    twins = [place("b-twin", dlat=0.0045), place("a-twin", dlat=0.0045)]  # one mast, two mics
    assert [s.id for s, _ in nearest_public(twins, LAT, LON)] == ["a-twin", "b-twin"]


def test_the_window_is_the_15_whole_minutes_around_the_reports_minute() -> None:
    start, end = window_around(TS)
    assert (start, end) == (
        datetime(2026, 3, 2, 11, 53, tzinfo=UTC),
        datetime(2026, 3, 2, 12, 8, tzinfo=UTC),
    )
    assert (end - start).total_seconds() == 900


@pytest.fixture
def store(tmp_path: Path):
    with SqliteStore(tmp_path / "readings.db") as opened:
        yield opened


def test_the_level_is_the_energetic_mean_of_the_window(store: SqliteStore) -> None:
    """south-500m: 10 minutes at 60 dB and 5 at 70 dB inside the window:
    10·log10((600·10^6 + 300·10^7) / 900) = 10·log10(4.0e6) = 66.02 dB, coverage 900/900 = 1.
    Outside the window, 80 dB before 11:53 and 90 dB from 12:08 on must not count (with them
    the level would be far higher). east-628m: 450 one-second readings at 70 dB from 12:00:00,
    so 70.00 dB over 450/900 = 0.5 of the window. north-1km measured nothing: None, 0."""
    store.write(
        [
            *minutes("south-500m", START - 180, 3, 80.0),
            *minutes("south-500m", START, 10, 60.0),
            *minutes("south-500m", START + 600, 5, 70.0),
            *minutes("south-500m", START + 900, 2, 90.0),
            *steady("east-628m", START + 420, 450, 70.0),
        ],
        received_at=START + 3600,
    )
    level, coverage = level_around(store, "south-500m", TS)
    assert level == pytest.approx(66.0206, abs=1e-4)
    assert coverage == 1.0
    assert level_around(store, "east-628m", TS) == (pytest.approx(70.0), 0.5)
    assert level_around(store, "north-1km", TS) == (None, 0.0)

    found = nearby(store, SENSORS, LAT, LON, TS)
    assert [(n.sensor_id, n.laeq is None, n.coverage) for n in found] == [
        ("south-500m", False, 1.0),
        ("east-628m", False, 0.5),
        ("north-1km", True, 0.0),
    ]
    assert found[0].distance_m == pytest.approx(500.378, abs=1e-3)
    assert found[0].name == "Sensor south-500m"
    assert found[0].source == "road"
