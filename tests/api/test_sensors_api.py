"""``/api/v1/sensors`` and ``/api/v1/sensors/{id}`` on real SQLite files: which sensors are
listed, their status and last-seen time as the clock moves, and 404 for unknown or private ones.
"""

from __future__ import annotations

from urllib.parse import quote

from support.levels_api import T0, rfc3339
from support.readings import sensor, steady

# --------------------------------------------------------------------------- sensors


def test_list_shows_public_sensors_with_status_and_last_seen(lab):
    """Now = T0 + 3600 s; stale after 120 s, offline after 3600 s."""
    names = ["fresh", "edge", "stale", "gone", "never"]
    lab.sensors(*(sensor(f"vb-{n}") for n in names), sensor("vb-hidden", public=False))
    now = lab.clock.now
    lab.write(steady("vb-fresh", now - 30, 10, 50.0), received_at=now - 10)
    lab.write(steady("vb-edge", now - 200, 10, 50.0), received_at=now - 120)
    lab.write(steady("vb-stale", now - 700, 10, 50.0), received_at=now - 600)
    lab.write(steady("vb-gone", now - 9000, 10, 50.0), received_at=now - 7200)
    lab.write(steady("vb-hidden", now - 30, 10, 50.0), received_at=now - 10)
    with lab.client() as client:
        response = client.get("/api/v1/sensors")
    assert response.status_code == 200
    by_id = {s["id"]: s for s in response.json()}
    assert sorted(by_id) == sorted(f"vb-{n}" for n in names)
    assert {k: s["status"] for k, s in by_id.items()} == {
        "vb-fresh": "online",
        "vb-edge": "online",
        "vb-stale": "stale",
        "vb-gone": "offline",
        "vb-never": "offline",
    }
    assert by_id["vb-fresh"]["last_seen"] == rfc3339(now - 20)  # end of the latest reading
    assert by_id["vb-gone"]["last_seen"] == rfc3339(now - 8990)
    assert by_id["vb-never"]["last_seen"] is None
    assert by_id["vb-fresh"] | {"status": None, "last_seen": None} == {
        "id": "vb-fresh",
        "name": "Sensor vb-fresh",
        "lat": 55.6242,
        "lon": 12.388,
        "source": "road",
        "status": None,
        "last_seen": None,
    }


def test_status_follows_the_clock(lab):
    lab.sensors(sensor("vb-road-1"))
    lab.write(steady("vb-road-1", T0, 1, 50.0), received_at=T0)
    with lab.client() as client:
        statuses = []
        for age in (0, 120, 121, 3600, 3601):
            lab.clock.now = T0 + age
            statuses.append(client.get("/api/v1/sensors/vb-road-1").json()["status"])
    assert statuses == ["online", "online", "stale", "stale", "offline"]


def test_one_sensor_and_404s(levels_lab):
    response = levels_lab.get("/api/v1/sensors/vb-road-1")
    assert response.status_code == 200
    assert response.json()["description"] == ""
    assert response.json()["last_seen"] == rfc3339(T0 + 120)
    for path in ("nope", "vb-private-1", "UPPER", "x", quote("a/b", safe=""), "%00"):
        response = levels_lab.get(f"/api/v1/sensors/{path}")
        assert response.status_code == 404, path
    assert levels_lab.get("/api/v1/sensors/x").json() == {"detail": "unknown sensor 'x'"}
    assert levels_lab.get("/api/v1/sensors/vb-private-1/levels").status_code == 404
    assert levels_lab.get("/api/v1/sensors/nope/levels?every=1h").json() == {
        "detail": "unknown sensor 'nope'"
    }
