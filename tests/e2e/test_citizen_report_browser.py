"""A citizen's report filed through the public map page in a real headless Chromium
(Debian's ``/usr/bin/chromium`` driven by playwright), against a real uvicorn server over real
SQLite files; then the stored row and what staff read about it.

The page is offline (only the test server answers). The report's text is markup on purpose,
``<img src=x onerror=alert(1)>``: it must be stored as those characters, and shown as text on
the page (no element made of it, no script run: no dialog opens), in the staff API's JSON as
a string. Screenshots go to ``test-artifacts/``.

The clock stands at ``NOW`` = 13:00:00 UTC, so the report's time is 13:00:00 and its window
[12:53, 13:08): vb-known measured 60 dB over 12:53-12:55 (120 s) and 70 dB over 12:55-13:00
(300 s), so 10·log10((120·10^6 + 300·10^7) / 420) = 68.71 dB over 420 / 900 = 0.4667.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from support.browser import CHROMIUM, OfflinePage, ServerThread, screenshot
from support.lab import ApiLab, Key
from support.map_data import NOW, populate

from noiselab.api.app import create_app
from noiselab.citizens.intake import VALLENSBAEK
from noiselab.store.metadata import MetadataStore

XSS = "<img src=x onerror=alert(1)>"
TEXT = f"Lastbiler hele tiden {XSS}"

pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
]


class Site:
    """The running server, its lab and a staff key."""

    def __init__(self, server: ServerThread, lab: ApiLab, staff: Key) -> None:
        self.server, self.lab, self.staff = server, lab, staff

    def staff_get(self, path: str) -> Any:
        request = urllib.request.Request(self.server.url + path, headers=self.staff.headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"] == "application/json"
            return json.loads(response.read())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    lab = ApiLab(tmp_path_factory.mktemp("report-browser"), now=NOW, public_rate_per_s=0)
    populate(lab)
    staff = lab.key("staff", "kommune")
    with ServerThread(create_app(lab.settings)) as running:
        yield Site(running, lab, staff)


def test_a_report_filed_on_the_map_is_stored_and_its_text_stays_inert(
    browser: Any, site: Site, record_property: Any
) -> None:
    view = OfflinePage(browser, site.server, viewport={"width": 1280, "height": 800})
    dialogs: list[str] = []
    view.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page = view.open("/")
        assert page.inner_text("#report-open") == "Meld støj"
        assert page.is_hidden("#report")
        page.click("#report-open")
        assert page.is_visible("#report")
        assert page.inner_text("#report-title") == "Meld støj her og nu"
        assert page.inner_text("#report-place") == "Intet sted valgt endnu."
        assert page.get_attribute("#report-text", "maxlength") == "500"

        page.click("#report-send")  # no place yet
        assert page.inner_text("#report-status") == "Klik først på kortet, hvor der er larm."

        marker = page.locator("path.nl-marker-vb-known").bounding_box()
        assert marker is not None
        page.mouse.click(marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] + 60)
        assert page.inner_text("#report-place").startswith("Valgt sted: 55,")
        assert page.locator("path.nl-report-place").count() == 1
        assert page.locator(".nl-estimate").count() == 0  # picking a place is not an estimate

        page.click("#report-send")  # no category yet
        assert page.inner_text("#report-status") == "Vælg, hvad der larmer."
        page.check("#report-form input[value='road']")
        page.fill("#report-text", TEXT)
        page.click("#report-send")
        page.wait_for_selector("body[data-report='sent']", timeout=10_000)

        assert page.inner_text("#report-thanks") == "Tak! Din melding er modtaget (nr. 1)."
        assert "ikke din IP-adresse" in page.inner_text("#report-done")
        assert page.inner_text("#report-echo") == f"Din tekst: {TEXT}"
        assert page.locator("#report img").count() == 0  # shown as text, not parsed
        assert page.locator("img[src='x']").count() == 0
        screenshot(page, "report-da.png", record_property)

        page.click("#lang")
        assert page.inner_text("#report-thanks") == "Thank you! Your report has arrived (no. 1)."
        assert "not your IP address" in page.inner_text("#report-done")
        assert page.inner_text("#report-echo") == f"Your text: {TEXT}"
        page.click("#lang")  # back to Danish
        assert dialogs == []
        assert view.errors == []
    finally:
        view.close()

    with MetadataStore(site.lab.meta_url) as meta:
        [stored] = meta.citizen_reports.find()
    assert (stored.id, stored.category, stored.text, stored.status) == (1, "road", TEXT, "new")
    assert stored.ts == stored.received_at == datetime.fromtimestamp(NOW, UTC)
    assert VALLENSBAEK.contains(stored.lat, stored.lon)
    assert 55.615 < stored.lat < 55.626  # about 60 px (~650 m at zoom 13) south of vb-known

    [row] = site.staff_get("/api/v1/citizen-reports")
    assert row["text"] == TEXT  # a JSON string, the same characters
    assert row["nearest_sensor_id"] == "vb-known"
    assert row["nearest_laeq"] == pytest.approx(68.71, abs=0.005)
    assert row["nearby"][0]["coverage"] == pytest.approx(0.4667, abs=1e-4)
    assert "vb-hidden" not in {n["sensor_id"] for n in row["nearby"]}  # private: never shown


def test_the_report_control_fits_a_phone(browser: Any, site: Site, record_property: Any) -> None:
    width = 390
    view = OfflinePage(
        browser,
        site.server,
        viewport={"width": width, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = view.open("/")
        page.click("#lang")
        assert page.inner_text("#report-open") == "Report noise"
        page.click("#report-open")
        assert page.inner_text("#report-title") == "Report noise here and now"
        card = page.locator("#report").bounding_box()
        assert card is not None
        assert card["x"] >= 0
        assert card["x"] + card["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        send = page.locator("#report-send").bounding_box()
        assert send is not None
        assert send["height"] >= 40  # a finger-sized target
        screenshot(page, "report-phone-en.png", record_property)
        page.click("#report-close")
        assert page.is_hidden("#report")
        page.click("#lang")  # back to Danish
        assert view.errors == []
    finally:
        view.close()
