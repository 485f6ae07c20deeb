"""The dashboards against Grafana's own types: ``@grafana/schema`` 12.2.0 (the Grafana image we
deploy), compiled with ``tsc --strict`` (``support.grafana_schema``).

Every ``dashboards/*.json`` type-checks clean. The negative controls are broken copies of them
that must fail, each naming the panel and JSON path that is wrong: a misspelled key, a value of
the wrong type, a string outside an enum, a missing ``schemaVersion``, an unknown panel type and
misspelled options inside a geomap's and a time series' plugin options, and a misspelled key
and a wrongly typed value in an annotation query. All of them compile in
one ``tsc`` run.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.grafana_schema import DASHBOARD, Checked, SchemaError, check_dashboards
from support.grafana_schema import typescript_source as source_of
from support.node_tools import NODE_DIR, node_binary, require
from support.paths import ROOT

DASHBOARDS = ROOT / "dashboards"
FILES = sorted(DASHBOARDS.glob("*.json"))


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
    return loaded


def _panel(model: dict[str, Any], title: str) -> dict[str, Any]:
    [found] = [panel for panel in model["panels"] if panel["title"] == title]
    return found


@dataclass(frozen=True)
class Broken:
    """A dashboard file with one change that Grafana's types refuse at ``panel``/``path``."""

    name: str
    file: str
    panel: str
    path: str
    change: Callable[[dict[str, Any]], None]

    def model(self) -> dict[str, Any]:
        model = copy.deepcopy(_load(self.file))
        self.change(model)
        return model


GEOMAP = "Sensors by LAeq of the last hour"
TABLE = "Levels now"
TIMESERIES = "LAeq per 15 minutes, every sensor (InfluxDB)"
OVERVIEW = "living-lab-overview.json"


def _set(panel: str, path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the dotted ``path`` of ``panel`` to ``value``."""

    def change(model: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = _panel(model, panel)
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value

    return change


def _rename(panel: str, path: str, new: str) -> Callable[[dict[str, Any]], None]:
    """Rename the key at the dotted ``path`` of ``panel`` to ``new``."""

    def change(model: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = _panel(model, panel)
        for part in parents:
            node = node[part]
        node[new] = node.pop(last)

    return change


BROKEN = [
    Broken(
        "misspelled_key",
        OVERVIEW,
        TABLE,
        "fieldConfig.defaults.decimal",
        _rename(TABLE, "fieldConfig.defaults.decimals", "decimal"),
    ),
    Broken("wrong_value_type", OVERVIEW, TABLE, "gridPos.w", _set(TABLE, "gridPos.w", "12")),
    Broken(
        "bad_enum_string",
        OVERVIEW,
        GEOMAP,
        "fieldConfig.defaults.thresholds.mode",
        _set(GEOMAP, "fieldConfig.defaults.thresholds.mode", "absolut"),
    ),
    Broken(
        "missing_schema_version",
        OVERVIEW,
        DASHBOARD,
        "",
        lambda model: model.pop("schemaVersion"),
    ),
    Broken("unknown_panel_type", OVERVIEW, TIMESERIES, "type", _set(TIMESERIES, "type", "graph2")),
    Broken(
        "misspelled_geomap_option",
        OVERVIEW,
        GEOMAP,
        "options.view.zom",
        _rename(GEOMAP, "options.view.zoom", "zom"),
    ),
    Broken(
        "bad_geomap_layer_enum",
        OVERVIEW,
        GEOMAP,
        "options.layers[0].location.mode",
        _set(GEOMAP, "options.layers.0.location.mode", "coord"),
    ),
    Broken(
        "misspelled_timeseries_option",
        OVERVIEW,
        TIMESERIES,
        "options.legend.showLegnd",
        _set(TIMESERIES, "options.legend.showLegnd", True),
    ),
    Broken(
        "misspelled_annotation_key",
        OVERVIEW,
        DASHBOARD,
        "annotations.list[0].iconColour",
        lambda model: model["annotations"]["list"][0].update(
            iconColour=model["annotations"]["list"][0].pop("iconColor")
        ),
    ),
    Broken(
        "annotation_enable_not_boolean",
        OVERVIEW,
        DASHBOARD,
        "annotations.list[0].enable",
        lambda model: model["annotations"]["list"][0].update(enable="yes"),
    ),
    Broken(
        "misspelled_timeseries_field_option",
        OVERVIEW,
        TIMESERIES,
        "fieldConfig.defaults.custom.lineWidht",
        _set(TIMESERIES, "fieldConfig.defaults.custom.lineWidht", 2),
    ),
]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    """The dashboards (by file stem) and the broken copies (by name), compiled in one run."""
    models = {path.stem: _load(path.name) for path in FILES}
    models |= {f"broken_{broken.name}": broken.model() for broken in BROKEN}
    return check_dashboards(models, tmp_path_factory.mktemp("grafana-schema"))


def _report(errors: list[SchemaError]) -> str:
    return "\n".join(str(error) for error in errors)


@pytest.mark.process
@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_each_dashboard_type_checks_clean(checked: Checked, path: Path) -> None:
    errors = checked.errors[path.stem]
    assert not errors, f"{path.name} does not match @grafana/schema:\n{_report(errors)}"


@pytest.mark.process
@pytest.mark.parametrize("broken", BROKEN, ids=[broken.name for broken in BROKEN])
def test_a_broken_dashboard_fails_naming_its_panel(checked: Checked, broken: Broken) -> None:
    """The negative controls: each change is refused, and every error is in the changed panel
    (or the dashboard itself), one at the changed path."""
    errors = checked.errors[f"broken_{broken.name}"]
    assert errors, f"{broken.name}: tsc accepted it"
    assert {error.panel for error in errors} == {broken.panel}, _report(errors)
    assert broken.path in {error.path for error in errors}, _report(errors)
    assert all(error.dashboard == "Living Lab overview" for error in errors)


@pytest.mark.process
def test_one_tsc_run_checks_them_all_quickly(checked: Checked) -> None:
    """About a second here; the bound only catches a check that has become far slower."""
    assert len(checked.errors) == len(FILES) + len(BROKEN)
    assert checked.seconds < 60, f"tsc took {checked.seconds:.1f} s"


@pytest.mark.process
def test_schema_version_is_what_grafana_writes() -> None:
    """Grafana 12.2's new dashboards (``defaultDashboard`` of its schema package) carry the
    schemaVersion ours do, so Grafana runs no migration over them."""
    require("@grafana/schema")
    script = "console.log(require('@grafana/schema').defaultDashboard.schemaVersion)"
    done = subprocess.run(
        [node_binary(), "-e", script], capture_output=True, text=True, cwd=NODE_DIR, check=True
    )
    version = int(done.stdout)
    assert version == 42  # @grafana/schema 12.2.0
    for path in FILES:
        assert _load(path.name)["schemaVersion"] == version, path.name


def test_each_line_of_the_typescript_knows_its_panel_and_path() -> None:
    """Without a compiler: the module's lines map back to panels and JSON paths (the first
    panel is the geomap)."""
    source = source_of(_load(OVERVIEW))
    lines = source.text.splitlines()
    assert len(lines) == len(source.places)

    def first(line: str) -> tuple[str, str]:
        return source.places[lines.index(line)]

    assert first("const panel_1: DashboardPanel = {") == (GEOMAP, "")
    assert first('        "mode": "absolute",') == (GEOMAP, "fieldConfig.defaults.thresholds.mode")
    assert first('      "zoom": 12') == (GEOMAP, "options.view.zoom")
    assert first('          "color": {') == (GEOMAP, "options.layers[0].config.color")
    assert first('  "schemaVersion": 42,') == (DASHBOARD, "schemaVersion")
    assert first('  "panels": [panel_1, panel_2, panel_3]') == (DASHBOARD, "panels")
    quoted = source_of({"title": "t", "panels": [{"type": "text", "options": {"a b": 1}}]})
    line = quoted.text.splitlines().index('    "a b": 1')
    assert quoted.places[line] == ("panel #1", 'options["a b"]')


def test_an_error_reads_dashboard_panel_path() -> None:
    error = SchemaError("Sensor detail", "Daily indicators (API)", "options.xField", "Type 'x'")
    assert str(error) == "Sensor detail / Daily indicators (API) / options.xField: Type 'x'"
    assert str(SchemaError("D", DASHBOARD, "", "m")) == "D / (dashboard) / (root): m"
