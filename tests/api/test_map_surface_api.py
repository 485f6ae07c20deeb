"""The living map's routes on real SQLite files: ``/api/v1/map/surface``, ``surface.png`` and
``estimate``. The clock stands at ``NOW`` of ``support.map_data`` (2026-03-02 13:00 UTC)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.lab import ApiLab
from support.map_data import DAY_START, NOW, site
from support.png_decode import decode_palette_png
from support.readings import minutes

from noiselab.api.map_bands import BANDS, band_for
from noiselab.api.schemas.surface import EstimateOut, SurfaceOut
from noiselab.livemap import service as service_module
from noiselab.livemap.service import load_noise_map

SURFACE = "/api/v1/map/surface"
PNG = "/api/v1/map/surface.png"
ESTIMATE = "/api/v1/map/estimate"
KBM = {"lat": 55.6267, "lon": 12.3867}
"""A road sensor about 25 m from Køge Bugt Motorvejen (the demo's kbm-25m)."""


def ready(client: Any) -> Any:
    assert client.app.state.surface.wait_ready(60)
    return client


def one_sensor_lab(root: Path, **settings: Any) -> ApiLab:
    """One public road sensor by Køge Bugt Motorvejen: 66 dB over the last 15 minutes."""
    lab = ApiLab(root, now=NOW, **settings)
    lab.sensors(site("vb-kbm", **KBM))
    lab.write(minutes("vb-kbm", NOW - 900, 15, 66.0), received_at=NOW - 30)
    return lab


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    with one_sensor_lab(tmp_path).client() as c:
        yield ready(c)


@pytest.mark.parametrize("period", ["now", "hour", "24h", "year"])
def test_surface_shape_etag_and_cache_headers(client, period):
    response = client.get(SURFACE, params={"period": period})
    assert response.status_code == 200, response.text
    body = SurfaceOut.model_validate(response.json())
    assert body.indicator == ("lden" if period == "year" else "laeq")
    assert body.image_url.startswith(f"{PNG}?period={period}&v=")
    assert (body.guideline_image_url is not None) == (period == "year")
    assert [b.label for b in body.bands] == [b.label for b in BANDS]
    assert {g.group for g in body.gains} == {"hbm", "kbm", "ringsted", "local"}
    assert response.headers["cache-control"] == "public, max-age=15"
    etag = response.headers["etag"]
    again = client.get(SURFACE, params={"period": period}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_estimate_at_a_sensor_in_the_fit_returns_its_measurement(client):
    """Hand check: one source sensor hears Køge Bugt Motorvejen (share > 0.3), so only that
    group's gain is fitted, and one gain can always make the model meet one measurement: the
    fitted map at the sensor is 66.00 dB (the small ridge of the fit costs under 0.01 dB)."""
    response = client.get(ESTIMATE, params={**KBM, "period": "now"})
    assert response.status_code == 200, response.text
    body = EstimateOut.model_validate(response.json())
    assert body.level_db == pytest.approx(66.0, abs=0.02)
    assert body.dominant.group == "kbm"
    assert body.dominant.name == "Køge Bugt Motorvejen"
    assert body.guideline_db is None  # LAeq: no guideline value
    assert body.nearest[0].id == "vb-kbm"
    assert body.nearest[0].distance_m == pytest.approx(0.0, abs=0.5)
    assert sum(c.share for c in body.contributions) == pytest.approx(1.0, abs=1e-3)
    surface = client.get(SURFACE, params={"period": "now"}).json()
    gains = {g["group"]: g for g in surface["gains"]}
    assert gains["kbm"]["fitted"] is True
    assert gains["hbm"]["fitted"] is False
    assert gains["hbm"]["gain_db"] == 0.0
    (only,) = surface["accuracy"]["per_sensor"]
    assert only["measured_db"] == 66.0
    assert only["modelled_db"] == pytest.approx(66.0, abs=0.02)


def test_lden_of_a_sensor_is_combined_from_its_day_evening_and_night(tmp_path):
    """60 dB through 2026-03-01's day, evening and night (as ``known_readings`` minus the
    evening gap): each period's LAeq is 60 dB, so Lden = 10·log10((12·10^6 + 3·10^6.5 +
    9·10^7)/24) = 66.67 dB (the yearly hours with data are exactly those)."""
    lab = ApiLab(tmp_path, now=NOW)
    lab.sensors(site("vb-kbm", **KBM))
    lab.write(minutes("vb-kbm", DAY_START, 24 * 60, 60.0), received_at=NOW - 30)
    with lab.client() as c:
        body = ready(c).get(SURFACE, params={"period": "year"}).json()
    (only,) = body["accuracy"]["per_sensor"]
    assert only["measured_db"] == 66.67
    assert only["modelled_db"] == pytest.approx(66.67, abs=0.05)
    assert set(body["gains"][1]["by_period"]) == {"day", "evening", "night"}


def test_a_private_sensor_never_appears_nor_changes_the_surface(tmp_path):
    """The same lab with and without a private sensor that measured 80 dB between the two
    motorways: byte-identical surface images and the same JSON apart from nothing."""
    answers = []
    for private in (False, True):
        lab = one_sensor_lab(tmp_path / str(private))
        if private:
            lab.sensors(site("vb-secret", public=False, lat=55.64, lon=12.37))
            lab.write(minutes("vb-secret", NOW - 900, 15, 80.0), received_at=NOW - 30)
        with lab.client() as c:
            ready(c)
            answers.append(
                (
                    c.get(SURFACE).json(),
                    c.get(PNG).content,
                    c.get(ESTIMATE, params={"lat": 55.64, "lon": 12.37}).json(),
                )
            )
    (json_a, png_a, est_a), (json_b, png_b, est_b) = answers
    assert png_a == png_b
    assert json_a["accuracy"] == json_b["accuracy"]
    assert json_a["gains"] == json_b["gains"]
    assert json_a["image_url"] == json_b["image_url"]
    assert est_a == est_b
    assert "vb-secret" not in str(json_b) + str(est_b)


def test_png_pixels_are_georeferenced_and_in_the_estimates_band(client):
    """At the sensor's lon/lat the image's pixel has the band of a grid cell next to that
    point (pixels and cells are both about 10 m, and 25 m from a motorway the level changes by
    over 1 dB per cell); 300 m and 1 km away the band of the point's own cell and of the
    estimate there (the exact model). Outside the grid the image is transparent."""
    surface = client.get(SURFACE).json()
    png = client.get(surface["image_url"])
    assert png.headers["content-type"] == "image/png"
    assert png.headers["cache-control"] == "public, max-age=86400"  # current version token
    indices, palette = decode_palette_png(png.content)
    raster = client.app.state.surface.context().raster
    assert indices.shape == (raster.height, raster.width)
    assert [list(p) for p in surface["bounds"]] == [list(p) for p in raster.bounds]
    colours = {b.colour.lower(): b.label for b in BANDS}
    update = client.app.state.surface.peek("now")
    grid = client.app.state.surface.context().nmap.maps.grid
    points = [(KBM["lat"], KBM["lon"], False), (55.6290, 12.3830, True), (55.640, 12.360, True)]
    for lat, lon, far in points:
        pixel = raster.pixel_of(lon, lat)
        assert pixel is not None
        r, g, b, a = palette[indices[pixel]]
        assert a == 255
        got = colours[f"#{r:02x}{g:02x}{b:02x}"]
        col, row = grid.index_of(*grid.projection.to_xy(lon, lat))
        r0, c0 = round(float(row)), round(float(col))
        around = {
            band_for(float(v)).label
            for v in update.surface[r0 - 1 : r0 + 2, c0 - 1 : c0 + 2].ravel()
        }
        assert got in around, (lat, lon, around, got)  # a pixel is within a cell of the point
        if far:  # where the surface is smooth, exactly the point's own cell
            assert got == band_for(float(update.surface[r0, c0])).label
        level = client.get(ESTIMATE, params={"lat": lat, "lon": lon}).json()["level_db"]
        near_edge = min(abs(level - e) for e in range(35, 85, 5)) < 0.3
        assert not far or got == band_for(level).label or near_edge, (lat, lon, level, got)
    assert (indices[raster.cell < 0] == 0).all()  # outside the grid: transparent
    assert palette[0][3] == 0


def test_guideline_layer_is_for_the_year_only(client):
    bad = client.get(PNG, params={"period": "now", "layer": "guideline"})
    assert bad.status_code == 422
    assert "period=year" in bad.json()["detail"]
    good = client.get(PNG, params={"period": "year", "layer": "guideline"})
    assert good.status_code == 200
    indices, palette = decode_palette_png(good.content)
    assert palette[1][3] > 0
    assert (indices == 1).any()  # right by the motorway Lden is above 58 dB


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"period": "week"}, "period"),
        ({"lat": 95, "lon": 12.38}, "lat"),
        ({"lat": 55.63}, "lon"),
        ({"lat": 55.80, "lon": 12.38}, "outside the noise map"),
        ({"lat": 55.63, "lon": 12.38, "period": "month"}, "period"),
    ],
)
def test_bad_parameters_answer_422(client, params, word):
    path = SURFACE if set(params) == {"period"} else ESTIMATE
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert word in response.json()["detail"]


def test_public_callers_are_rate_limited(tmp_path):
    with one_sensor_lab(tmp_path, public_rate_per_s=0.001, public_burst=2).client() as c:
        ready(c)
        assert c.get(SURFACE).status_code == 200
        assert c.get(ESTIMATE, params=KBM).status_code == 200
        limited = c.get(PNG)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1


def test_503_with_retry_after_until_the_maps_are_ready(tmp_path, monkeypatch):
    release = threading.Event()

    def slow(cache_dir: Path, sources: str) -> Any:
        assert release.wait(30)
        return load_noise_map(cache_dir, sources)

    monkeypatch.setattr(service_module, "load_noise_map", slow)
    with one_sensor_lab(tmp_path).client() as c:
        for path, params in [(SURFACE, {}), (PNG, {}), (ESTIMATE, KBM)]:
            response = c.get(path, params=params)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "2"
            assert "prepared" in response.json()["detail"]
        release.set()
        assert c.app.state.surface.wait_ready(60)
        assert c.get(SURFACE).status_code == 200


def test_a_failed_load_answers_503_not_500(tmp_path, monkeypatch):
    def broken(cache_dir: Path, sources: str) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(service_module, "load_noise_map", broken)
    with one_sensor_lab(tmp_path).client() as c:
        assert c.app.state.surface.wait_ready(30)
        response = c.get(SURFACE)
        assert response.status_code == 503
        assert "could not be built" in response.json()["detail"]
        assert c.get("/api/v1/map").status_code == 200  # the rest of the map still works


def test_surface_is_recomputed_after_its_ttl(tmp_path):
    lab = one_sensor_lab(tmp_path)
    with lab.client() as c:
        ready(c)
        first = c.get(SURFACE).json()
        assert lab.clock is not None
        lab.write(minutes("vb-kbm", NOW - 900, 15, 72.0), received_at=NOW - 10)
        assert c.get(SURFACE).json() == first  # cached for 60 s
        lab.clock.now = NOW + 61
        later = c.get(SURFACE).json()
    assert later["updated_at"] != first["updated_at"]
    assert later["image_url"] != first["image_url"]


def test_without_any_located_public_sensor_the_map_is_the_model_alone(tmp_path):
    """A private sensor and a public one without a position: nothing to fit, so zero gains,
    accuracy n = 0 and no uncertainty, but an answer (this was a 500 once)."""
    lab = ApiLab(tmp_path, now=NOW)
    lab.sensors(site("vb-nowhere", lat=None, lon=None), site("vb-secret", public=False))
    with lab.client() as c:
        ready(c)
        for period in ("now", "year"):
            body = c.get(SURFACE, params={"period": period}).json()
            assert body["accuracy"] == {
                "n": 0,
                "median_abs_db": None,
                "p90_abs_db": None,
                "per_sensor": [],
            }
            assert all(g["gain_db"] == 0.0 for g in body["gains"])
            assert body["uncertainty_db"] is None
        estimate = c.get(ESTIMATE, params=KBM).json()
        assert estimate["nearest"] == []
        assert estimate["uncertainty_db"] is None
