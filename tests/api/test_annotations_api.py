"""``/api/v1/annotations`` on a real SQLite metadata file: staff add annotations of sensors, of a
place (resolved to the registered sensors within its radius) or of every sensor, list, read and
withdraw them once; bad requests answer 422 naming the value, never 500; the Grafana feed
answers the active annotations of a range as flat rows with epoch-millisecond times. Access
per role is in ``test_role_matrix.py``, the feed's Infinity query in ``test_infinity.py``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.lab import ApiLab, Key

from noiselab.api.schemas.annotations import AnnotationFeedRow, AnnotationOut
from noiselab.model import Sensor

URL = "/api/v1/annotations"
FEED = f"{URL}/feed"
LAT, LON = 55.626, 12.388


@dataclass
class Api:
    client: Any
    staff: dict[str, str]
    key: Key


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """Three sensors: kbm-25m at the place, kbm-50m 0.0005° (55.6 m) north of it, hbm-50m
    0.01° (1,112 m) north; now is 2026-03-10 00:00Z; a staff key named ``kommune``."""
    lab = ApiLab(tmp_path, now=datetime(2026, 3, 10, tzinfo=UTC).timestamp())
    lab.sensors(
        Sensor(id="kbm-25m", name="KBM 25 m", lat=LAT, lon=LON, source="road"),
        Sensor(id="kbm-50m", name="KBM 50 m", lat=LAT + 0.0005, lon=LON, source="road"),
        Sensor(id="hbm-50m", name="HBM 50 m", lat=LAT + 0.01, lon=LON, source="road"),
    )
    key = lab.key("staff", "kommune")
    with lab.client() as client:
        yield Api(client, key.headers, key)


def body(**changes: Any) -> dict[str, Any]:
    return {
        "start": "2026-03-04T08:00:00Z",
        "end": "2026-03-04T14:00:00Z",
        "sensor_ids": ["kbm-25m"],
        "category": "roadworks",
        "text": "Roadworks on Køge Bugt Motorvejen, lane closure",
        "exclude": True,
    } | changes


def add(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.client.post(URL, json=body(**changes), headers=api.staff)
    assert response.status_code == 201, response.text
    return response.json()


def test_staff_add_read_list_and_withdraw_once(api: Api) -> None:
    made = add(api)
    AnnotationOut.model_validate(made)
    assert made["created_by"] == "kommune"
    assert made["created_by_key"] == api.key.id
    assert made["created_at"] == "2026-03-10T00:00:00Z"  # the app's clock
    assert (made["sensor_ids"], made["place"], made["active"]) == (["kbm-25m"], None, True)
    one = api.client.get(f"{URL}/{made['id']}", headers=api.staff)
    assert one.json() == made
    assert one.headers["cache-control"] == "private, no-store"
    withdraw = f"{URL}/{made['id']}/withdraw"
    gone = api.client.post(withdraw, json={"reason": "postponed"}, headers=api.staff)
    assert gone.status_code == 200, gone.text
    assert gone.json() == made | {
        "active": False,
        "withdrawn_at": "2026-03-10T00:00:00Z",
        "withdrawn_by": "kommune",
        "withdrawn_by_key": api.key.id,
        "withdraw_reason": "postponed",
    }
    again = api.client.post(withdraw, json={"reason": "again"}, headers=api.staff)
    assert again.status_code == 409
    assert "was withdrawn at 2026-03-10T00:00Z by kommune" in again.json()["detail"]
    assert api.client.get(URL, headers=api.staff).json() == [gone.json()]  # nothing disappears
    active = api.client.get(URL, params={"include_withdrawn": "false"}, headers=api.staff)
    assert active.json() == []
    unknown = api.client.get(f"{URL}/999999", headers=api.staff)
    assert unknown.status_code == 404


def test_a_place_is_resolved_to_the_sensors_within_its_radius(api: Api) -> None:
    """Radius 100 m: kbm-25m (0 m) and kbm-50m (55.6 m), not hbm-50m (1,112 m)."""
    place = {"lat": LAT, "lon": LON, "radius_m": 100.0}
    made = add(api, sensor_ids=[], place=place)
    assert made["sensor_ids"] == ["kbm-25m", "kbm-50m"]
    assert made["place"] == place
    everyone = add(api, sensor_ids=[], category="other", text="Clock change", exclude=False)
    assert (everyone["sensor_ids"], everyone["place"]) == ([], None)


def test_the_list_filters_by_sensor_and_range_and_pages(api: Api) -> None:
    a = add(api)["id"]
    b = add(api, sensor_ids=["hbm-50m"], start="2026-03-05T08:00:00Z", end="2026-03-05T09:00:00Z")
    c = add(api, sensor_ids=[], category="event", text="Festival", exclude=False)["id"]
    ids = lambda **params: [  # noqa: E731 - a one-line helper
        x["id"] for x in api.client.get(URL, params=params, headers=api.staff).json()
    ]
    assert ids() == [a, b["id"], c]
    assert ids(sensor_id="kbm-25m") == [a, c]
    assert ids(start="2026-03-05T00:00:00Z") == [b["id"]]
    assert ids(end="2026-03-04T08:00:00Z") == []  # half-open: starting at end is out
    page = api.client.get(URL, params={"limit": 2}, headers=api.staff)
    assert page.headers["x-next-after-id"] == str(b["id"])
    assert ids(after_id=page.headers["x-next-after-id"]) == [c]


def test_the_feed_answers_active_annotations_as_grafana_rows(api: Api) -> None:
    """08:00-14:00Z on 2026-03-04: 1,772,611,200,000-1,772,632,800,000 ms. The range is given
    in epoch ms as Grafana sends ${__from}/${__to}; rows come by start; a withdrawn one and one
    of another sensor are left out; one of every sensor is in."""
    later = add(api, start="2026-03-04T10:00:00Z", end="2026-03-04T11:00:00Z", exclude=False)
    first = add(api)
    add(api, sensor_ids=["hbm-50m"])
    everyone = add(api, sensor_ids=[], category="equipment", text="Firmware update")
    gone = add(api)
    api.client.post(f"{URL}/{gone['id']}/withdraw", json={"reason": "x"}, headers=api.staff)
    day = {"start": "1772582400000", "end": "1772668800000"}  # 2026-03-04 00:00Z .. 03-05
    response = api.client.get(FEED, params=day | {"sensor_id": "kbm-25m"}, headers=api.staff)
    assert response.status_code == 200, response.text
    rows = response.json()
    for row in rows:
        AnnotationFeedRow.model_validate(row)
    assert [r["id"] for r in rows] == [first["id"], everyone["id"], later["id"]]
    assert rows[0] == {
        "time": 1_772_611_200_000,
        "timeEnd": 1_772_632_800_000,
        "title": "Roadworks (excluded)",
        "text": "Roadworks on Køge Bugt Motorvejen, lane closure",
        "tags": "annotation,roadworks,excluded",
        "id": first["id"],
        "category": "roadworks",
        "exclude": True,
        "sensors": "kbm-25m",
    }
    assert (rows[1]["sensors"], rows[2]["title"]) == ("all", "Roadworks")
    everything = api.client.get(FEED, params=day, headers=api.staff).json()
    assert len(everything) == 4
    next_day = {"start": "1772668800000", "end": "1772755200000"}
    assert api.client.get(FEED, params=next_day, headers=api.staff).json() == []


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"sensor_ids": ["vb-nowhere"]}, "sensor_ids: unknown sensor 'vb-nowhere'"),
        (
            {"place": {"lat": LAT, "lon": LON, "radius_m": 100.0}},
            "sensor_ids: give sensors or a place, not both",
        ),
        (
            {"sensor_ids": [], "place": {"lat": 55.0, "lon": 12.0, "radius_m": 100.0}},
            "place: no registered sensor within 100 m",
        ),
        ({"start": "2026-03-04T08:00:30Z"}, "must be on a whole minute"),
        ({"end": "2026-03-04T08:00:00Z"}, "start: must be before end"),
        ({"end": "2027-03-06T08:00:00Z"}, "at most 366 days"),
        ({"text": "x" * 501}, "text"),
        ({"text": "   "}, "text"),
        ({"category": "party"}, "category"),
        ({"sensor_ids": ["Bad Id"]}, "not a sensor id"),
        ({"start": "2026-03-04T08:00:00"}, "start"),
        ({"place": {"lat": 91, "lon": 0, "radius_m": 10}}, "lat"),
        ({"sensor_ids": [], "place": {"lat": LAT, "lon": LON, "radius_m": 0}}, "radius_m"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_annotations_answer_422_naming_the_value(
    api: Api, changes: dict[str, Any], detail: str
) -> None:
    response = api.client.post(URL, json=body(**changes), headers=api.staff)
    assert response.status_code == 422, response.text
    assert detail in str(response.json()["detail"])
    assert api.client.get(URL, headers=api.staff).json() == []


@pytest.mark.parametrize("path", [URL, FEED])
@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"start": "2026-03-05", "end": "2026-03-04"}, "start: must be before end"),
        ({"start": "1772582400"}, "start"),  # epoch seconds are refused, not misread
        ({"end": "yesterday"}, "end"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_queries_answer_422(api: Api, path: str, params: dict[str, str], detail: str) -> None:
    response = api.client.get(path, params=params, headers=api.staff)
    assert response.status_code == 422, response.text
    assert detail in str(response.json()["detail"])


def test_a_withdrawal_needs_a_reason(api: Api) -> None:
    made = add(api)
    for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}):
        response = api.client.post(f"{URL}/{made['id']}/withdraw", json=bad, headers=api.staff)
        assert response.status_code == 422, (bad, response.text)
    assert api.client.get(f"{URL}/{made['id']}", headers=api.staff).json()["active"]


def test_a_body_over_the_limit_answers_413(api: Api) -> None:
    """The route-wide body limit (256 KiB): a text padded past it is refused before parsing."""
    response = api.client.post(URL, json=body(text="x" * 300_000), headers=api.staff)
    assert response.status_code == 413
