"""The public noise map API on real SQLite files: ``/api/v1/map`` (GeoJSON), its rows, config
and lines, the page at ``/`` and ``/map``, and the static files (Leaflet vendored).

The clock stands at ``NOW`` = 2026-03-02 13:00 UTC (14:00 in Copenhagen, CET = UTC+1), so the
last full local day is 2026-03-01: day 07-19 local = 06:00-18:00 UTC, evening 19-22 local =
18:00-21:00 UTC, night 22-07 local = 21:00 UTC on the 1st to 06:00 UTC on the 2nd.
Expected levels are worked out by hand in each docstring.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.clock import Clock
from support.lab import ApiLab
from support.map_data import NOW, populate
from support.readings import minutes

from noiselab.api.map_bands import BANDS, band_for
from noiselab.api.map_features import last_full_day
from noiselab.api.schemas import map as map_schemas
from noiselab.api.schemas.map import MapConfigOut, MapOut, MapRowOut
from noiselab.api.settings import ApiSettings
from noiselab.api.ttl_cache import TtlCache
from noiselab.errors import ConfigError

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

MAP = "/api/v1/map"


@pytest.fixture
def lab(tmp_path: Path) -> ApiLab:
    lab = ApiLab(tmp_path, now=NOW)
    populate(lab)
    return lab


@pytest.fixture
def client(lab: ApiLab) -> Iterator[TestClient]:
    with lab.client() as client:
        yield client


def features(response: Any) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in response.json()["features"]}


# --------------------------------------------------------------------------- content


def test_map_values_are_energetic_means_worked_out_by_hand(client):
    """15 min: 600 s at 60 dB and 300 s at 70 dB: 10·log10((600·10^6 + 300·10^7)/900)
    = 10·log10(4·10^6) = 66.02 dB, coverage 1. 1 h: plus 1800 s at 50 dB:
    10·log10((1800·10^5 + 3.6·10^9)/2700) = 10·log10(1.4·10^6) = 61.46 dB, coverage 2700/3600
    = 0.75. Lden of 2026-03-01: 60 dB in each period (the evening measured 90 of 180 min):
    10·log10((12·10^6 + 3·10^6.5 + 9·10^7)/24) = 66.67 dB; least-covered period 0.5."""
    response = client.get(MAP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    MapOut.model_validate(response.json())
    known = features(response)["vb-known"]
    assert known["geometry"] == {"type": "Point", "coordinates": [12.3867, 55.6267]}
    props = known["properties"]
    assert props["laeq_15min"] == round(10 * math.log10(4e6), 2) == 66.02
    assert props["coverage_15min"] == 1.0
    assert props["laeq_1h"] == round(10 * math.log10(1.4e6), 2) == 61.46
    assert props["coverage_1h"] == 0.75
    lden = 10 * math.log10((12 * 1e6 + 3 * 10**6.5 + 9 * 1e7) / 24)
    assert props["lden_yesterday"] == round(lden, 2) == 66.67
    assert props["lden_date"] == "2026-03-01"
    assert props["coverage_lden"] == 0.5
    assert (props["band"], props["colour"]) == ("65-70", "#FF0909")
    assert props["guideline_lden_db"] == 58.0
    assert props["status"] == "online"
    assert props["last_seen"] == "2026-03-02T13:00:00Z"
    assert (props["id"], props["name"], props["source"]) == ("vb-known", "Site vb-known", "road")


def test_sensor_without_data_or_position(client):
    """No data: every level null, coverage 0, grey, offline; the rail guideline is 64 dB. A
    sensor without a position has a null geometry (RFC 7946, 3.2)."""
    found = features(client.get(MAP))
    quiet = found["vb-quiet"]["properties"]
    assert [quiet[k] for k in ("laeq_15min", "laeq_1h", "lden_yesterday", "band")] == [None] * 4
    assert [quiet[k] for k in ("coverage_15min", "coverage_1h", "coverage_lden")] == [0.0] * 3
    assert (quiet["colour"], quiet["status"], quiet["last_seen"]) == ("#9E9E9E", "offline", None)
    assert quiet["guideline_lden_db"] == 64.0
    nowhere = found["vb-nowhere"]
    assert nowhere["geometry"] is None
    assert nowhere["properties"]["guideline_lden_db"] is None


def test_private_sensors_only_with_a_key_that_sees_them(lab, client):
    assert "vb-hidden" not in features(client.get(MAP))
    assert "vb-hidden" not in {r["id"] for r in client.get(f"{MAP}/rows").json()}
    staff = client.get(MAP, headers=lab.key("staff").headers)
    assert staff.status_code == 200
    hidden = features(staff)["vb-hidden"]["properties"]
    assert (hidden["laeq_15min"], hidden["band"], hidden["colour"]) == (80.0, ">=80", "#1C0054")
    owner = features(client.get(MAP, headers=lab.key("vendor", sensors=("vb-hidden",)).headers))
    assert "vb-hidden" in owner
    other = features(client.get(MAP, headers=lab.key("vendor", sensors=("vb-known",)).headers))
    assert "vb-hidden" not in other
    assert "vb-known" in other
    # the public answer is still the public one after the keys' answers were cached
    assert "vb-hidden" not in features(client.get(MAP))


def test_bad_key_is_401_not_a_silent_public_map(client):
    response = client.get(MAP, headers={"Authorization": "Bearer nl_0123456789abcdef_" + "x" * 30})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_band_edges_follow_the_rounded_level(client):
    """59.99 dB is in 55-60 (orange-yellow), 60.00 dB in 60-65."""
    found = features(client.get(MAP))
    low, high = found["vb-edge-low"]["properties"], found["vb-edge-high"]["properties"]
    assert (low["laeq_15min"], low["band"], low["colour"]) == (59.99, "55-60", "#FECC5C")
    assert (high["laeq_15min"], high["band"], high["colour"]) == (60.0, "60-65", "#FD8D3C")


@pytest.mark.parametrize(
    ("level", "label"),
    [
        (0.0, "<35"),
        (34.99, "<35"),
        (34.994, "<35"),
        (34.996, "35-40"),
        (35.0, "35-40"),
        (64.99, "60-65"),
        (65.0, "65-70"),
        (79.99, "75-80"),
        (80.0, ">=80"),
        (160.0, ">=80"),
    ],
)
def test_band_for_classifies_by_5_db(level, label):
    band = band_for(level)
    assert band is not None
    assert band.label == label


def test_bands_cover_every_level_once():
    assert band_for(None) is None
    for step in range(0, 16001):
        level = step / 100
        assert sum(band.holds(level) for band in BANDS) == 1, level


def test_rows_are_flat_for_grafana(client):
    response = client.get(f"{MAP}/rows")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    for row in rows:
        MapRowOut.model_validate(row)
    known = next(r for r in rows if r["id"] == "vb-known")
    assert (known["lat"], known["lon"], known["laeq_15min"]) == (55.6267, 12.3867, 66.02)
    assert all(not isinstance(v, dict | list) for row in rows for v in row.values())


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-03-02T06:59:59+01:00", "2026-02-28"),  # the night of 03-01 is not over yet
        ("2026-03-02T07:00:00+01:00", "2026-03-01"),
        ("2026-03-29T07:00:00+02:00", "2026-03-28"),  # summer time began that night
        ("2026-10-25T06:59:00+01:00", "2026-10-23"),  # winter time began that night
    ],
)
def test_last_full_day_is_the_last_local_date_whose_night_ended(lab, local, expected):
    now = datetime.fromisoformat(local).timestamp()
    assert last_full_day(now, lab.settings).isoformat() == expected


# --------------------------------------------------------------------------- caching


class CountingStore:
    """The app's store, counting the calls that reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name: str) -> Any:
        self.calls += 1
        return getattr(self.inner, name)


def test_second_call_within_the_ttl_does_not_touch_the_store(lab, client):
    """Cached for map_cache_s = 15 s of the API clock; after that, new data shows."""
    counting = CountingStore(client.app.state.store)
    client.app.state.store = counting
    first = client.get(MAP)
    computed = counting.calls
    assert computed > 0
    lab.write(minutes("vb-quiet", NOW - 900, 15, 45.0), received_at=NOW - 10)
    lab.clock.now = NOW + 14.9
    again = client.get(MAP)
    assert counting.calls == computed
    assert again.content == first.content
    lab.clock.now = NOW + 15.0
    fresh = features(client.get(MAP))
    assert counting.calls > computed
    assert fresh["vb-quiet"]["properties"]["laeq_15min"] == 45.0


def test_cache_headers_and_etag(lab, client):
    response = client.get(MAP)
    assert response.headers["cache-control"] == "public, max-age=15"
    assert response.headers["vary"] == "Authorization"
    etag = response.headers["etag"]
    same = client.get(MAP, headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    keyed = client.get(MAP, headers=lab.key("staff").headers)
    assert keyed.headers["cache-control"] == "private, no-store"
    config = client.get(f"{MAP}/config")
    assert config.headers["cache-control"] == "public, max-age=15"


def test_ttl_cache_computes_once_for_concurrent_callers():
    clock = Clock(1000.0)
    cache: TtlCache[int] = TtlCache(15.0, clock)
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return len(calls)

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (calls, results) == ([1], [1] * 8)
    clock.now += 15.0
    assert cache.get("k", slow) == 2


def test_ttl_cache_keeps_a_value_shorter_when_ttl_of_says_so():
    """An answer no sensor measured yet (the living map right after a start) is kept 5 s, not
    the period's TTL; ``ttl_of`` never lengthens the TTL."""
    clock = Clock(1000.0)
    cache: TtlCache[int] = TtlCache(60.0, clock)
    values = iter([0, 7, 8])
    short = {"ttl_of": lambda v: 5.0 if v == 0 else 600.0}
    assert cache.get("k", lambda: next(values), **short) == 0
    clock.now += 5.0
    assert cache.get("k", lambda: next(values), **short) == 7
    clock.now += 59.0
    assert cache.get("k", lambda: next(values), **short) == 7
    clock.now += 1.0
    assert cache.get("k", lambda: next(values), **short) == 8


def test_ttl_cache_serves_the_old_value_while_one_caller_refreshes():
    clock = Clock(1000.0)
    cache: TtlCache[str] = TtlCache(15.0, clock)
    assert cache.get("k", lambda: "old") == "old"
    clock.now += 15.0
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "new"

    refresher = threading.Thread(target=lambda: cache.get("k", slow))
    refresher.start()
    assert started.wait(5)
    assert cache.get("k", lambda: "never") == "old"  # at once, not computing again
    release.set()
    refresher.join()
    assert cache.get("k", lambda: "never") == "new"


def test_ttl_cache_with_ttl_0_computes_every_time():
    cache: TtlCache[int] = TtlCache(0.0, Clock(0.0))
    calls = iter(range(1, 10))
    assert [cache.get("k", lambda: next(calls)) for _ in range(3)] == [1, 2, 3]


def test_ttl_cache_keeps_no_failure():
    cache: TtlCache[int] = TtlCache(15.0, Clock(0.0))

    def boom() -> int:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        cache.get("k", boom)
    assert cache.get("k", lambda: 7) == 7


def test_map_is_rate_limited_without_a_key(tmp_path):
    lab = ApiLab(tmp_path, now=NOW, public_rate_per_s=0.001, public_burst=2)
    populate(lab)
    staff = lab.key("staff").headers
    with lab.client() as client:
        assert [client.get(MAP).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get(f"{MAP}/rows").headers["retry-after"]
        assert client.get(MAP, headers=staff).status_code == 200


# --------------------------------------------------------------------------- config and page


def test_config_names_tiles_bands_and_guidelines(client):
    response = client.get(f"{MAP}/config")
    assert response.status_code == 200
    config = MapConfigOut.model_validate(response.json())
    assert config.tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert config.tile_attribution == "© OpenStreetMap contributors"
    assert config.refresh_s == 60.0
    assert config.guidelines_lden_db == {"road": 58.0, "rail": 64.0}
    assert [b.label for b in config.bands][6] == "60-65"
    assert config.periods == {"day": "07-19", "evening": "19-22", "night": "22-07"}


def test_map_settings_are_validated(tmp_path):
    base = {"store_url": f"sqlite:///{tmp_path / 'a.db'}", "meta_url": "sqlite://"}
    with pytest.raises(ConfigError, match="tile URL"):
        ApiSettings(**base, tile_url="https://example.org/tiles.png")
    with pytest.raises(ConfigError, match="map refresh"):
        ApiSettings(**base, map_refresh_s=1)
    with pytest.raises(ConfigError, match="map cache"):
        ApiSettings(**base, map_cache_s=-1)
    assert ApiSettings(**base, tile_url="").tile_url == ""


def test_lines_are_named_geojson(client):
    response = client.get(f"{MAP}/lines")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    lines = response.json()["features"]
    assert {(f["properties"]["kind"], f["geometry"]["type"]) for f in lines} == {
        ("motorway", "LineString"),
        ("railway", "LineString"),
    }
    names = " ".join(f["properties"]["name"] for f in lines)
    assert all(n in names for n in ("Holbækmotorvejen", "Køge Bugt Motorvejen", "Ringsted"))
    for feature in lines:
        for lon, lat in feature["geometry"]["coordinates"]:
            assert 12.3 < lon < 12.43
            assert 55.6 < lat < 55.66


@pytest.mark.parametrize("path", ["/", "/map"])
def test_page_is_danish_html_using_local_leaflet(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="da">' in html
    assert 'name="viewport"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/vendor/leaflet/leaflet.css" in html
    assert "unpkg" not in html
    assert "cdn" not in html.lower()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("vendor/leaflet/leaflet.js", "text/javascript; charset=utf-8"),
        ("vendor/leaflet/leaflet.css", "text/css; charset=utf-8"),
        ("vendor/leaflet/images/marker-icon.png", "image/png"),
        ("vendor/leaflet/images/layers.png", "image/png"),
        ("vendor/leaflet/LICENSE", "text/plain; charset=utf-8"),
        ("map.js", "text/javascript; charset=utf-8"),
        ("i18n.js", "text/javascript; charset=utf-8"),
        ("map.css", "text/css; charset=utf-8"),
    ],
)
def test_static_files_have_their_type(client, path, content_type):
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    age = 86_400 if path.startswith("vendor/") else 300
    assert response.headers["cache-control"] == f"public, max-age={age}"


def test_leaflet_is_the_unmodified_1_9_4_release(client):
    script = client.get("/static/vendor/leaflet/leaflet.js").text
    assert script.startswith("/* @preserve\n * Leaflet 1.9.4")
    licence = client.get("/static/vendor/leaflet/LICENSE").text
    assert "BSD 2-Clause License" in licence
    assert "Volodymyr Agafonkin" in licence


@pytest.mark.parametrize(
    "path",
    ["nothing.js", "../routes/public_map.py", "..%2F..%2Fsettings.py", "vendor", "%00.js"],
)
def test_static_outside_or_missing_is_404(client, path):
    response = client.get(f"/static/{path}")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_openapi_documents_the_map(client):
    spec = client.get("/openapi.json").json()
    geo = spec["paths"]["/api/v1/map"]["get"]
    assert geo["security"] == [{"HTTPBearer": []}]
    assert geo["responses"]["200"]["content"] == {
        "application/geo+json": {"schema": {"$ref": "#/components/schemas/MapOut"}}
    }
    for status in ("401", "429"):
        assert list(geo["responses"][status]["content"]) == ["application/json"]
    assert {"MapOut", "MapRowOut", "MapConfigOut", "ErrorOut"} <= set(spec["components"]["schemas"])
    for path in ("/api/v1/map/rows", "/api/v1/map/config", "/api/v1/map/lines", "/", "/map"):
        assert "get" in spec["paths"][path]
    assert not any(path.startswith("/static") for path in spec["paths"])


@pytest.mark.parametrize(
    "model",
    [
        map_schemas.BandOut,
        map_schemas.MapConfigOut,
        map_schemas.MapFeatureOut,
        map_schemas.MapOut,
        map_schemas.MapPropertiesOut,
        map_schemas.MapRowOut,
        map_schemas.PointOut,
    ],
    ids=lambda m: m.__name__,
)
def test_every_map_model_has_a_valid_example(model):
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)


MAP_ROUTES = {
    # path: (status with a bad key, status for every valid caller and the public)
    MAP: 401,
    f"{MAP}/rows": 401,
    f"{MAP}/config": 401,
    f"{MAP}/lines": 200,
    "/": 200,
    "/map": 200,
    "/static/map.js": 200,
}


def test_every_map_route_by_role(lab, client):
    """Data routes check a presented key (401 when bad) like every public endpoint; the page,
    its files and the bundled lines are the same for everybody and ignore keys."""
    headers = {
        "public": {},
        "bad_key": {"Authorization": "Bearer nl_0123456789abcdef_" + "x" * 43},
        "vendor": lab.key("vendor", sensors=("vb-hidden",)).headers,
        "other_vendor": lab.key("vendor").headers,
        "staff": lab.key("staff").headers,
        "admin": lab.key("admin").headers,
    }
    got = {
        (path, role): client.get(path, headers=header).status_code
        for path in MAP_ROUTES
        for role, header in headers.items()
    }
    expected = {
        (path, role): bad if role == "bad_key" else 200
        for path, bad in MAP_ROUTES.items()
        for role in headers
    }
    assert got == expected
