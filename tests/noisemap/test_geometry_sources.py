"""The projection, the source file, and the consistency of the model's lines with the
simulated sensors' stated distances (metres, WGS84 lon/lat)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from noiselab.noisemap.geometry import LocalProjection, distance_to_polyline, grid_around
from noiselab.noisemap.sources import load_sources, parse_sources
from noiselab.sensors_sim.site_specs import load_sites

ROOT = Path(__file__).resolve().parents[2]
PROJ = LocalProjection(12.370, 55.633)


def test_projection_lengths_match_the_textbook_degree_lengths():
    """One degree at φ = 55.633°: meridian ``111132.954 - 559.822·cos 2φ + 1.175·cos 4φ`` and
    parallel ``111412.84·cos φ - 93.5·cos 3φ + 0.118·cos 5φ`` metres (WGS84 series); the
    projection's 0.001° steps agree within 1 mm."""
    phi = math.radians(55.633)
    meridian = 111132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    parallel = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi) + 0.118 * math.cos(5 * phi)
    x, y = PROJ.to_xy([12.371, 12.370], [55.633, 55.634])
    assert x[0] == pytest.approx(parallel / 1000.0, abs=1e-3)
    assert y[1] == pytest.approx(meridian / 1000.0, abs=1e-3)


def test_projection_round_trips():
    lon = np.array([12.32, 12.37, 12.42, 12.35])
    lat = np.array([55.61, 55.633, 55.656, 55.65])
    back = PROJ.to_lonlat(*PROJ.to_xy(lon, lat))
    np.testing.assert_allclose(back[0], lon, atol=1e-10)
    np.testing.assert_allclose(back[1], lat, atol=1e-10)


def test_default_grid_has_300000_cells_and_covers_every_sensor():
    grid = grid_around(12.370, 55.633, 6000.0, 5000.0, 10.0)
    assert grid.size == 300_000 >= 250_000
    west, south, east, north = grid.bounds_lonlat()
    for site in load_sites():
        assert west < site.lon < east, site.id
        assert south < site.lat < north, site.id


def _distance(site, source):
    x, y = PROJ.to_xy(site.lon, site.lat)
    vx, vy = PROJ.to_xy(source.lonlat[:, 0], source.lonlat[:, 1])
    return float(distance_to_polyline(x, y, vx, vy)[0])


def test_every_sensor_is_at_its_stated_distance_from_its_source_line():
    """Road sites from the road line they name, rail sites from the railway: within 3 m of
    ``distance_m`` (a 3 m error at 25 m is 0.5 dB). Negative control: the first hand-drawn
    Holbækmotorvejen (55.6496 N at 12.35 E) put hbm-25m 13 m from the road."""
    sources = {s.name.split(" (")[0]: s for s in load_sources()}
    for site in load_sites():
        if site.source == "background":
            continue
        name = site.road.name if site.source == "road" else "Banen København-Ringsted"
        spec = site.road.distance_m if site.source == "road" else site.rail.distance_m
        assert _distance(site, sources[name]) == pytest.approx(spec, abs=3.0), site.id
    old = sources["Holbækmotorvejen"]
    old_coords = old.lonlat.copy()
    old_coords[2:4] = [[12.3500, 55.6496], [12.3650, 55.6494]]
    hbm25 = next(s for s in load_sites() if s.id == "hbm-25m")
    assert _distance(hbm25, type(old)(old.name, old.group, old.kind, old_coords, old.road)) < 15


def test_background_sensors_hear_their_sources_at_the_lines_distances():
    """Every road and rail entry of the background sites lies within 3 m of the distance from
    the site to the model's line of that name (they were measured on these lines), so the
    simulator and the map put the distant motorways and railway in the same place. Negative
    control: the old file's 900 m to the nearest motorway for Vallensbæk Mose is 165 m off
    the railway and 380 m off Holbækmotorvejen."""
    sources = {s.name.split(" (")[0]: s for s in load_sources()}
    line = {"Copenhagen-Ringsted line": "Banen København-Ringsted"}
    checked = 0
    for site in load_sites():
        if site.source != "background":
            continue
        entries = [(r.name, r.distance_m) for r in site.roads]
        entries += [] if site.rail is None else [(line[site.rail.name], site.rail.distance_m)]
        for name, spec in entries:
            assert _distance(site, sources[name]) == pytest.approx(spec, abs=3.0), (site.id, name)
            checked += 1
    assert checked == 4
    mose = next(s for s in load_sites() if s.id == "bg-vallensbaek-mose")
    for name in ("Banen København-Ringsted", "Holbækmotorvejen"):
        assert abs(_distance(mose, sources[name]) - 900.0) > 3.0


def test_the_public_map_draws_the_model_s_main_lines():
    """lines.geojson's three schematic lines have the model's coordinates."""
    drawn = json.loads((ROOT / "noiselab/api/data/lines.geojson").read_text("utf-8"))
    model = {s.name: s.lonlat for s in load_sources()}
    for feature in drawn["features"]:
        name = feature["properties"]["name"]
        np.testing.assert_array_equal(feature["geometry"]["coordinates"], model[name])


def _collection(**props):
    base = {
        "name": "A",
        "group": "g",
        "kind": "road",
        "aadt": 1000,
        "heavy_share": 0.1,
        "speed_kmh": 50,
        "heavy_speed_kmh": 50,
    }
    base.update(props)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": base,
                "geometry": {"type": "LineString", "coordinates": [[12.3, 55.6], [12.4, 55.6]]},
            }
        ],
    }


def test_source_files_are_validated_naming_the_feature():
    assert parse_sources(_collection())[0].road.aadt == 1000.0
    with pytest.raises(ValueError, match=r"feature 1 \('A'\).*group"):
        parse_sources(_collection(group=""))
    with pytest.raises(ValueError, match="kind"):
        parse_sources(_collection(kind="tram"))
    with pytest.raises(ValueError, match="heavy_share"):
        parse_sources(_collection(heavy_share=1.5))
    with pytest.raises(ValueError, match="FeatureCollection"):
        parse_sources([])


def test_another_municipality_s_file_loads_from_a_path(tmp_path):
    path = tmp_path / "town.geojson"
    path.write_text(json.dumps(_collection(name="High Street", group="local")), "utf-8")
    (source,) = load_sources(path)
    assert source.name == "High Street"
    assert source.group == "local"
