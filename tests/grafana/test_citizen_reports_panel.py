"""The "Citizens' reports" table of the staff dashboard shows a citizen's words as text: its
Infinity query reads them as a plain ``string`` column, the panel sets no cell type that would
render markup (Grafana's ``markdown`` cell renders Markdown and HTML, ``image`` loads a URL),
and the answer the query reads carries the text unchanged as a JSON string, so a report like
``<img src=x onerror=alert(1)>`` reaches the table as those characters."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning
from support.grafana import FROM, TO, select
from support.lab import ApiLab
from support.paths import ROOT

from noiselab.store.metadata import CitizenReport

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)

XSS = "<img src=x onerror=alert(1)>"
MARKUP_CELLS = {"markdown", "image", "json-view", "html"}


def _panel() -> dict[str, Any]:
    model = json.loads((ROOT / "dashboards" / "alerts-health.json").read_text(encoding="utf-8"))
    [panel] = [p for p in model["panels"] if p["title"] == "Citizens' reports"]
    return panel


def _cell_types(node: Any) -> list[str]:
    """Every cell type set anywhere under ``node``: ``cellOptions.type`` in the defaults, an
    override's ``custom.cellOptions`` property, and the legacy ``displayMode``."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("id") == "custom.cellOptions" and isinstance(node.get("value"), dict):
            found.append(str(node["value"].get("type")))  # an override's property
        for key, value in node.items():
            if key == "cellOptions" and isinstance(value, dict) and "type" in value:
                found.append(str(value["type"]))
            if key == "displayMode":
                found.append(str(value))
            found += _cell_types(value)
    elif isinstance(node, list):
        for item in node:
            found += _cell_types(item)
    return found


def test_the_panel_reads_the_text_as_a_plain_string_column() -> None:
    panel = _panel()
    assert panel["type"] == "table"
    [target] = panel["targets"]
    assert target["url"] == "/api/v1/citizen-reports"
    columns = {c["selector"]: c["type"] for c in target["columns"]}
    assert columns["text"] == "string"
    assert not set(_cell_types(panel)) & MARKUP_CELLS
    # negative control: the check sees a markup cell where one is set
    broken = json.loads(json.dumps(panel))
    broken["fieldConfig"]["overrides"] = [
        {"matcher": {"id": "byName", "options": "text"},
         "properties": [{"id": "custom.cellOptions", "value": {"type": "markdown"}}]}
    ]  # fmt: skip
    assert "markdown" in _cell_types(broken)


def test_the_table_data_carries_the_text_unchanged(tmp_path: Path) -> None:
    now = datetime(2026, 3, 3, 10, tzinfo=UTC)
    lab = ApiLab(tmp_path, now=now.timestamp())
    with lab.meta() as meta:
        meta.citizen_reports.add(
            CitizenReport(ts=now, received_at=now, lat=55.63, lon=12.38, category="other",
                          text=XSS)
        )  # fmt: skip
        key = lab.key("staff", "grafana")
    [target] = _panel()["targets"]
    params = {"start": str(int(FROM.timestamp() * 1000)), "end": str(int(TO.timestamp() * 1000))}
    with lab.client() as client:
        answer = client.get(target["url"], params=params, headers=key.headers)
    assert answer.headers["Content-Type"] == "application/json"
    assert b'"text":"<img src=x onerror=alert(1)>"' in answer.content
    [row] = select(answer.json(), target["root_selector"])
    assert row["text"] == XSS
