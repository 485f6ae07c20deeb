"""Staff annotations in the metadata database, on a real SQLite file and a fresh PostgreSQL
database (``meta_url``): added with their sensors, a place resolved to the registered sensors
within its radius (distances worked by hand below), listed with filters, never edited or
deleted, withdrawn once with a reason; bad ones refused with a reason a person can read, by the
code and by the database's own constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from noiselab.analysis.geodesy import great_circle_m
from noiselab.model import Sensor
from noiselab.store.metadata import (
    AlreadyWithdrawnAnnotation,
    Annotation,
    MetadataStore,
    NoSensorsNearby,
    Place,
    UnknownSensor,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
LAT, LON = 55.626, 12.388
"""The place: beside Køge Bugt Motorvejen north-west of Vallensbæk station."""
M_PER_MILLIDEGREE_LAT = 111.195
"""0.001° of latitude on the sphere of radius 6,371,008.8 m: 6,371,008.8 · 0.001 · π/180
= 111.195 m."""
M_PER_MILLIDEGREE_LON = 62.780
"""0.001° of longitude at 55.626° N: 111.195 m · cos(55.626°) = 111.195 · 0.56460 = 62.780 m."""


@pytest.fixture
def meta(meta_url: str):
    """Sensors around the place: 0.001° north (111.2 m), 0.002° north (222.4 m), 0.003° east
    (188.3 m), 0.0015° south and 0.0015° west (the hypotenuse √(166.8² + 94.2²) = 191.5 m),
    one far away (0.1° north, 11.1 km) and one without a position."""
    store = MetadataStore(meta_url)
    store.sensors.add(
        [
            Sensor(id="n-111", name="n1", lat=LAT + 0.001, lon=LON),
            Sensor(id="n-222", name="n2", lat=LAT + 0.002, lon=LON),
            Sensor(id="e-188", name="e3", lat=LAT, lon=LON + 0.003),
            Sensor(id="sw-192", name="sw", lat=LAT - 0.0015, lon=LON - 0.0015),
            Sensor(id="far-1", name="far", lat=LAT + 0.1, lon=LON),
            Sensor(id="nowhere-1", name="nowhere"),
        ]
    )
    yield store
    store.close()


def annotation(**changes: Any) -> Annotation:
    fields: dict[str, Any] = {
        "start": T0,
        "end": T0 + 6 * HOUR,
        "category": "roadworks",
        "text": "Roadworks on Køge Bugt Motorvejen, lane closure",
        "exclude": True,
        "created_by": "kommune",
        "created_by_key": "82442cd1443e838b",
        "created_at": T0 - HOUR,
    }
    return Annotation(**(fields | changes))


def test_an_annotation_round_trips_with_its_id_and_sensors(meta: MetadataStore) -> None:
    made = meta.annotations.add(annotation(sensor_ids=("e-188", "n-111")))
    assert made.id is not None
    assert meta.annotations.get(made.id) == made
    assert made.sensor_ids == ("e-188", "n-111")
    assert made.active
    assert not made.all_sensors
    assert made.reason == "roadworks: Roadworks on Køge Bugt Motorvejen, lane closure"
    assert meta.annotations.get(made.id + 1000) is None


@pytest.mark.parametrize(
    ("radius_m", "expected"),
    [
        (111.0, None),  # 111.195 m to the nearest: none within
        (112.0, ("n-111",)),
        (189.0, ("e-188", "n-111")),  # 188.34 m east
        (192.0, ("e-188", "n-111", "sw-192")),  # 191.54 m south-west
        (223.0, ("e-188", "n-111", "n-222", "sw-192")),  # 222.39 m north
    ],
)
def test_a_place_becomes_the_sensors_within_its_radius(
    meta: MetadataStore, radius_m: float, expected: tuple[str, ...] | None
) -> None:
    """Distances from the place: n-111 111.195 m, e-188 3 · 62.780 = 188.34 m, sw-192
    √(166.79² + 94.17²) = 191.54 m (the west step at the mid latitude 55.62525°), n-222
    222.39 m, far-1 11,119.5 m; nowhere-1 has no position and is never found."""
    place = Place(lat=LAT, lon=LON, radius_m=radius_m)
    if expected is None:
        with pytest.raises(NoSensorsNearby, match=r"no registered sensor within 111 m"):
            meta.annotations.add(annotation(place=place))
        assert meta.annotations.find() == []
        return
    made = meta.annotations.add(annotation(place=place))
    assert made.sensor_ids == expected
    assert made.id is not None
    again = meta.annotations.get(made.id)
    assert again is not None
    assert again.place == place
    assert again.sensor_ids == expected


def test_the_distances_of_the_fixture_are_as_worked() -> None:
    assert great_circle_m(LAT, LON, LAT + 0.001, LON) == pytest.approx(
        M_PER_MILLIDEGREE_LAT, abs=0.001
    )
    assert great_circle_m(LAT, LON, LAT, LON + 0.003) == pytest.approx(
        3 * M_PER_MILLIDEGREE_LON, abs=0.01
    )
    assert great_circle_m(LAT, LON, LAT - 0.0015, LON - 0.0015) == pytest.approx(191.54, abs=0.01)


def test_a_place_is_resolved_once_when_saved(meta: MetadataStore) -> None:
    """A sensor registered near the place afterwards does not join it: the stored list is
    what it concerned (negative control: a new annotation at the same place finds it)."""
    place = Place(lat=LAT, lon=LON, radius_m=150.0)
    made = meta.annotations.add(annotation(place=place))
    meta.sensors.add([Sensor(id="new-10", name="new", lat=LAT + 0.0001, lon=LON)])
    assert made.id is not None
    stored = meta.annotations.get(made.id)
    assert stored is not None
    assert stored.sensor_ids == ("n-111",)
    assert meta.annotations.add(annotation(place=place)).sensor_ids == ("n-111", "new-10")


def test_bad_sensor_lists_are_refused(meta: MetadataStore) -> None:
    with pytest.raises(UnknownSensor, match="unknown sensor 'vb-nowhere'"):
        meta.annotations.add(annotation(sensor_ids=("n-111", "vb-nowhere")))
    place = Place(lat=LAT, lon=LON, radius_m=150.0)
    with pytest.raises(ValueError, match="sensors or a place, not both"):
        meta.annotations.add(annotation(sensor_ids=("n-111",), place=place))
    assert meta.annotations.find() == []


def test_the_list_filters_by_sensor_range_and_pages(meta: MetadataStore) -> None:
    """An annotation of every sensor concerns each; the range filter keeps the overlapping
    ones (half-open: one ending at the filter's start is out); pages follow ``after_id``."""
    a = meta.annotations.add(annotation(sensor_ids=("n-111",)))
    b = meta.annotations.add(annotation(category="event", text="Festival", exclude=False))
    c = meta.annotations.add(
        annotation(sensor_ids=("far-1",), start=T0 + 6 * HOUR, end=T0 + 8 * HOUR)
    )
    assert [x.id for x in meta.annotations.find()] == [a.id, b.id, c.id]
    assert [x.id for x in meta.annotations.find(sensor_id="n-111")] == [a.id, b.id]
    assert [x.id for x in meta.annotations.find(sensor_id="far-1")] == [b.id, c.id]
    assert [x.id for x in meta.annotations.find(start=T0 + 6 * HOUR)] == [c.id]
    assert [x.id for x in meta.annotations.find(end=T0 + 6 * HOUR)] == [a.id, b.id]
    first = meta.annotations.find(limit=2)
    assert [x.id for x in meta.annotations.find(after_id=first[-1].id)] == [c.id]


def test_for_sensor_gives_the_active_ones_by_start(meta: MetadataStore) -> None:
    late = meta.annotations.add(annotation(start=T0 + 2 * HOUR, sensor_ids=("n-111",)))
    early = meta.annotations.add(annotation())
    gone = meta.annotations.add(annotation(sensor_ids=("n-111",)))
    assert gone.id is not None
    meta.annotations.withdraw(gone.id, by="ops", reason="entered twice")
    found = meta.annotations.for_sensor("n-111", T0, T0 + HOUR * 3)
    assert [x.id for x in found] == [early.id, late.id]
    assert [x.id for x in meta.annotations.for_sensor("n-111", T0, T0 + 2 * HOUR)] == [early.id]
    assert [x.id for x in meta.annotations.for_sensor("e-188", None, None)] == [early.id]


def test_a_withdrawal_keeps_the_row_and_happens_once(meta: MetadataStore) -> None:
    made = meta.annotations.add(annotation(sensor_ids=("n-111",)))
    assert made.id is not None
    when = T0 + 5 * HOUR
    gone = meta.annotations.withdraw(
        made.id, by="ops", key_id="0123456789abcdef", reason="postponed", when=when
    )
    assert gone is not None
    assert not gone.active
    assert (gone.withdrawn_at, gone.withdrawn_by, gone.withdraw_reason) == (
        when,
        "ops",
        "postponed",
    )
    assert gone.text == made.text
    assert gone.sensor_ids == made.sensor_ids
    with pytest.raises(AlreadyWithdrawnAnnotation, match="was withdrawn at"):
        meta.annotations.withdraw(made.id, by="ops", reason="again")
    assert meta.annotations.get(made.id) == gone
    assert meta.annotations.withdraw(made.id + 99, by="ops", reason="x") is None
    with pytest.raises(ValueError, match="reason"):
        meta.annotations.withdraw(made.id, by="ops", reason="  ")
    assert [x.id for x in meta.annotations.find(include_withdrawn=False)] == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"end": T0}, "start: must be before end"),
        ({"start": T0 + timedelta(seconds=30)}, "whole minute"),
        ({"end": T0 + timedelta(days=367)}, "at most 366 days"),
        ({"start": datetime(2026, 3, 2, 8)}, "timezone-aware"),
        ({"category": "party"}, "category"),
        ({"text": " "}, "text"),
        ({"text": "x" * 501}, "text: must be 1-500"),
        ({"created_by": ""}, "created_by"),
        ({"sensor_ids": ("b-1", "a-1")}, "sorted and distinct"),
        ({"sensor_ids": ("Bad Id",)}, "not a sensor id"),
    ],
)
def test_bad_annotations_are_refused_with_a_reason(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        annotation(**changes)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"lat": 91.0, "lon": 0.0, "radius_m": 10.0}, "place.lat"),
        ({"lat": 0.0, "lon": float("nan"), "radius_m": 10.0}, "place.lon"),
        ({"lat": 0.0, "lon": 0.0, "radius_m": 0.0}, "place.radius_m"),
        ({"lat": 0.0, "lon": 0.0, "radius_m": 20_001.0}, "place.radius_m"),
    ],
)
def test_bad_places_are_refused(fields: dict[str, float], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Place(**fields)


def test_the_database_refuses_what_the_code_would(meta: MetadataStore) -> None:
    """The constraints hold without the code: an unknown category, an empty period, half a
    place, a link to an unregistered sensor."""
    from noiselab.store.metadata.tables import annotation_sensors_table, annotations_table

    row = {
        "start": T0,
        "end": T0 + HOUR,
        "category": "roadworks",
        "text": "x",
        "exclude": False,
        "created_by": "k",
        "created_at": T0,
    }
    bad_rows = [
        row | {"category": "party"},
        row | {"end": T0},
        row | {"place_lat": LAT},
        row | {"place_lat": LAT, "place_lon": LON, "place_radius_m": 0.0},
    ]
    for bad in bad_rows:
        with pytest.raises(sa.exc.IntegrityError), meta.engine.begin() as connection:
            connection.execute(sa.insert(annotations_table), [bad])
    made = meta.annotations.add(annotation())
    link = {"annotation_id": made.id, "sensor_id": "vb-nowhere"}
    with pytest.raises(sa.exc.IntegrityError), meta.engine.begin() as connection:
        connection.execute(sa.insert(annotation_sensors_table), [link])
