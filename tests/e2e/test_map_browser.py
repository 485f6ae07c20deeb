"""The noise map page in a real headless Chromium (Debian's ``/usr/bin/chromium`` driven by
playwright), loaded from a real uvicorn server on a free port over real SQLite files with data.

The browser is offline on purpose: every request not for the test server is aborted, so the
tile layer fails like it does without internet and the bundled lines and markers must carry
the map. Screenshots go to ``test-artifacts/`` at the repository root; their paths are printed.

Expected numbers are those worked out in ``test_map_api``: vb-known reads 66.02 dB now and
Lden 66.67 dB on 2026-03-01, shown with one decimal and the language's separator.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api
from support.browser import CHROMIUM, OfflinePage, ServerThread, screenshot
from support.lab import ApiLab
from support.map_data import NOW, populate, site
from support.readings import minutes

from noiselab.api.app import create_app

PUBLIC_MARKERS = {"vb-known", "vb-quiet", "vb-edge-low", "vb-edge-high", "vb-rich"}

pytestmark = [
    pytest.mark.process,
    # The test command installs chromium; only a bare `pytest` elsewhere may lack it. Under CI
    # a missing browser must fail, not skip.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
]


def rich_history(sensor_id: str) -> list[Any]:
    """30 days of hourly readings with a daily swing (for the charts): 62 + 6·sin dB."""
    start = NOW - 30 * 86_400
    return [
        reading
        for hour in range(30 * 24)
        for reading in minutes(
            sensor_id, start + hour * 3600, 60, 62.0 + 6.0 * math.sin(hour * math.pi / 12)
        )
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    lab = ApiLab(tmp_path_factory.mktemp("map-browser"), now=NOW, public_rate_per_s=0)
    populate(lab)
    lab.sensors(site("vb-rich", lat=55.6495, lon=12.3570))
    lab.write(rich_history("vb-rich"), received_at=NOW - 30)
    with ServerThread(create_app(lab.settings)) as running:
        yield running


def marker_ids(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all(
            "path.nl-marker", "nodes => nodes.map(n => n.getAttribute('data-sensor'))"
        )
    )


def test_desktop_map_shows_markers_legend_lines_and_a_panel(browser, server, record_property):
    view = OfflinePage(browser, server, viewport={"width": 1280, "height": 800})
    try:
        page = view.open("/map")
        assert page.evaluate("document.documentElement.lang") == "da"
        assert marker_ids(page) == PUBLIC_MARKERS
        fill = page.get_attribute("path.nl-marker-vb-known", "fill")
        assert fill is not None
        assert fill.upper() == "#FF0909"
        assert page.get_attribute("path.nl-marker-vb-quiet", "fill") == "#9E9E9E"
        assert page.locator("path.nl-line").count() == 3
        legend = page.locator("#legend li")
        assert legend.count() == 12
        assert "60-65 dB" in page.inner_text("#legend")
        assert any("tile.openstreetmap.org" in url for url in view.aborted)

        page.click("path.nl-marker-vb-known")
        page.wait_for_selector("#chart-24h svg path.line")
        assert page.is_visible("#panel")
        assert "nl-selected" in (page.get_attribute("path.nl-marker-vb-known", "class") or "")
        assert page.inner_text("#panel-name") == "Site vb-known"
        assert page.inner_text("#v-now").startswith("66,0 dB")
        assert page.inner_text("#v-hour").startswith("61,5 dB")
        assert page.inner_text("#v-lden").startswith("66,7 dB")
        assert "58 dB" in page.inner_text("#v-guide")
        assert "over vejledende grænseværdi" in page.inner_text("#v-guide")
        assert page.locator("#chart-30d rect.bar").count() == 1
        assert "Miljøstyrelsen" in page.inner_text("#panel .explain")

        page.select_option("#sensor-select", "vb-edge-low")
        assert page.inner_text("#v-now").startswith("59,99 dB")  # not "60,0": it is 55-60
        page.select_option("#sensor-select", "vb-rich")
        # a locator, not wait_for_function: the page's CSP forbids evaluating strings
        sync_api.expect(page.locator("#chart-30d rect.bar")).to_have_count(30, timeout=10_000)
        assert page.locator("#chart-30d line.guide").count() == 1
        shot = screenshot(page, "map-desktop.png", record_property)
        assert shot.stat().st_size > 10_000
        assert view.errors == []
    finally:
        view.close()


def test_english_switch_is_remembered_and_uses_decimal_points(browser, server):
    view = OfflinePage(browser, server, viewport={"width": 1280, "height": 800})
    try:
        page = view.open("/#vb-known")
        page.wait_for_selector("#chart-24h svg")
        assert page.inner_text("#v-now").startswith("66,0 dB")
        page.click("#lang")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.inner_text("#v-now").startswith("66.0 dB")
        assert page.inner_text("#lang") == "Dansk"
        assert "above the guideline value" in page.inner_text("#v-guide")
        assert "LAeq, last 15 min" in page.inner_text("#legend")
        assert page.inner_text("#updated").startswith("Updated ")
        page.reload()
        page.wait_for_selector("body[data-ready='true']")
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.inner_text("h1") == "Vallensbæk noise map"
        assert view.errors == []
    finally:
        view.close()


def test_phone_viewport_fits_and_opens_the_panel(browser, server, record_property):
    width = 390
    view = OfflinePage(
        browser,
        server,
        viewport={"width": width, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = view.open("/")
        assert marker_ids(page) == PUBLIC_MARKERS
        assert page.get_attribute("#legend", "open") is None  # folded away on a phone
        assert page.locator("#legend li").count() == 12
        page.select_option("#sensor-select", "vb-known")
        page.wait_for_selector("#chart-30d svg")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        panel = page.locator("#panel").bounding_box()
        assert panel is not None
        assert panel["width"] <= width
        assert panel["y"] > 200  # a bottom sheet: the map stays visible above it
        close = page.locator("#close").bounding_box()
        assert close is not None
        assert min(close["width"], close["height"]) >= 44  # a finger-sized target
        assert page.inner_text("#v-now").startswith("66,0 dB")
        screenshot(page, "map-phone.png", record_property)
        page.click("#close")
        assert page.is_hidden("#panel")
        assert view.errors == []
    finally:
        view.close()


def test_chromium_is_the_debian_one():
    assert shutil.which("chromium") == str(CHROMIUM)


def test_page_refreshes_itself_and_shows_names_as_text(browser, tmp_path):
    """With map_refresh_s = 5, new data and a new sensor appear without a reload; a name that
    looks like markup is shown as text, never parsed."""
    lab = ApiLab(tmp_path, now=NOW, public_rate_per_s=0, map_refresh_s=5, map_cache_s=1)
    populate(lab)
    with ServerThread(create_app(lab.settings)) as running:
        view = OfflinePage(browser, running, viewport={"width": 1024, "height": 700})
        try:
            page = view.open("/")
            assert page.get_attribute("path.nl-marker-vb-quiet", "fill") == "#9E9E9E"
            tricky = '<img src=x class="injected"> & <b>co</b>'
            lab.sensors(site("vb-new", name=tricky, lat=55.635, lon=12.38))
            lab.write(minutes("vb-quiet", NOW - 900, 15, 72.0), received_at=NOW - 5)
            lab.clock.now = NOW + 2  # past the 1 s cache
            sync_api.expect(page.locator("path.nl-marker-vb-quiet")).to_have_attribute(
                "fill", "#B30622", timeout=15_000
            )
            assert "vb-new" in marker_ids(page)
            page.select_option("#sensor-select", "vb-new")
            assert page.inner_text("#panel-name") == tricky
            assert page.locator(".injected").count() == 0
            assert page.locator("#panel b").count() == 0
            assert view.errors == []
        finally:
            view.close()


def test_living_surface_overlay_controls_and_click_estimate(browser, server, record_property):
    """The surface image lies under the markers at the API's bounds; the opacity slider, the
    period switch and the guideline shading work; a click gives the estimate popup in Danish,
    then in English."""
    view = OfflinePage(browser, server, viewport={"width": 1280, "height": 800})
    try:
        page = view.open("/")
        page.wait_for_selector("body[data-surface='now']", timeout=30_000)
        overlay = page.locator("img.nl-surface")
        assert overlay.count() == 1
        sync_api.expect(overlay).to_have_js_property("complete", True)
        assert overlay.evaluate("img => img.naturalWidth") > 500  # the PNG decoded
        src = overlay.get_attribute("src") or ""
        assert src.startswith("/api/v1/map/surface.png?period=now&v=")
        # under the markers: its pane is below the overlay pane holding the SVG markers
        assert page.evaluate(
            "Number(getComputedStyle(document.querySelector('.leaflet-surface-pane')).zIndex)"
        ) < page.evaluate(
            "Number(getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex)"
        )
        assert "Kort og målere: LAeq" in page.inner_text("#legend")
        accuracy = page.inner_text("#surface-accuracy")
        assert accuracy.startswith("Ved målerne rammer kortet inden for"), accuracy
        page.locator("#surface-opacity").fill("30")
        assert overlay.evaluate("img => img.style.opacity") == "0.3"
        assert page.is_disabled("#surface-guideline")  # the shading is for Lden only

        page.mouse.click(560, 330)  # on the map, away from markers and controls
        popup = page.locator(".nl-estimate .estimate-head")
        sync_api.expect(popup).to_contain_text("Her: omkring", timeout=10_000)
        assert " dB LAeq" in popup.inner_text()
        assert ", mest " in popup.inner_text()
        screenshot(page, "surface-now-da.png", record_property)

        page.click("#period-year")
        page.wait_for_selector("body[data-surface='year']", timeout=30_000)
        sync_api.expect(overlay).to_have_attribute("src", re.compile(r"period=year&v="))
        assert "Kort: Lden" in page.inner_text("#legend")
        page.check("#surface-guideline")
        shading = page.locator("img.nl-shading")
        assert shading.count() == 1
        assert "layer=guideline" in (shading.get_attribute("src") or "")
        page.click("#lang")
        assert page.inner_text("#period-year") == "Lden of the year"
        page.mouse.click(600, 560)
        sync_api.expect(popup).to_contain_text("Here: about", timeout=10_000)
        assert "dB Lden" in popup.inner_text()
        assert "guideline value" in page.inner_text(".nl-estimate")
        assert "the map is within" in page.inner_text("#surface-accuracy")
        screenshot(page, "surface-year-en.png", record_property)
        page.click("#lang")  # back to Danish for the other tests
        assert view.errors == []
    finally:
        view.close()
