"""The map page's "Report noise / Meld støj" control, read from its files and the map's
configuration: every text it uses exists in Danish and English, its script never writes
markup (``textContent`` only), the text field is limited to 500 characters, and the page knows
the area a report may be placed in. Its behaviour in a browser:
``tests/e2e/test_citizen_report_browser.py``."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from starlette.exceptions import StarletteDeprecationWarning
from support.lab import ApiLab

from noiselab.api.routes.public_map import STATIC_DIR
from noiselab.citizens.intake import VALLENSBAEK

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)

SCRIPT = (STATIC_DIR / "report.js").read_text(encoding="utf-8")
PAGE = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
TEXTS = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
MARKUP_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")


def _keys(language: str) -> set[str]:
    """The text keys of one language block of i18n.js."""
    block = re.search(rf"\n  {language}: \{{(.*?)\n  \}}", TEXTS, re.S)
    assert block is not None, language
    return set(re.findall(r"^    (\w+):", block.group(1), re.M))


def test_every_text_of_the_control_exists_in_danish_and_english() -> None:
    used = set(re.findall(r'(?:t|setStatus)\("(report\w+)"', SCRIPT))
    used |= set(re.findall(r'data-i18n="(report\w+)"', PAGE))
    assert len(used) >= 20
    for language in ("da", "en"):
        assert used <= _keys(language), (language, sorted(used - _keys(language)))
    assert {k for k in _keys("da") if k.startswith("report")} == {
        k for k in _keys("en") if k.startswith("report")
    }


def test_the_script_sets_text_only() -> None:
    for sink in MARKUP_SINKS:
        assert sink not in SCRIPT, sink
    assert "textContent" in SCRIPT
    # negative control: the check sees a sink
    assert any(sink in 'node.innerHTML = "x";' for sink in MARKUP_SINKS)


def test_the_form_limits_the_text_and_loads_the_script_before_the_map() -> None:
    assert re.search(r'<textarea id="report-text"[^>]* maxlength="500"', PAGE)
    assert PAGE.index("/static/report.js") < PAGE.index("/static/map.js")
    assert "innerHTML" not in (STATIC_DIR / "map.js").read_text(encoding="utf-8")


def test_the_map_configuration_names_the_report_area(tmp_path: Path) -> None:
    with ApiLab(tmp_path).client() as client:
        config = client.get("/api/v1/map/config").json()
    box = VALLENSBAEK
    assert config["report_area"] == [[box.south, box.west], [box.north, box.east]]
