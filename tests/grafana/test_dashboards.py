"""The Grafana dashboards, checked without a Grafana (none can run here).

Every dashboard parses and equals what ``dashboards/generate.py`` makes; every data source uid
is provisioned; every Flux query names only measurements, fields and tags the InfluxDB adapter
writes (taken from the adapter's own line protocol); every API panel's URL, with the dashboard's
default variables, resolves to an operation of the app's OpenAPI document that declares its
query parameters and the columns it reads (``support.openapi``), and answers our app with those
rows and columns. Broken copies of a target (a wrong path, an undeclared parameter, a column the
route does not return...) must fail both checks.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from support.grafana import FROM, TO, check_value, select
from support.lab import ApiLab
from support.openapi import TargetMismatchError, app_openapi, check_target
from support.paths import ROOT
from support.readings import sensor

from noiselab.api.auth import create_key
from noiselab.model import Reading, Rejection, Spectrum
from noiselab.store.influx_cells import (
    HOUR_MEASUREMENT,
    HOUR_MS,
    MINUTE_MEASUREMENT,
    activity_lines,
    cell_lines,
    hour_cells,
)
from noiselab.store.influx_lines import reading_lines
from noiselab.store.metadata import Annotation, Calibration, CitizenReport, MetadataStore, Trial
from noiselab.store.sqlite_rollup import MINUTE_MS, Rows, minute_keys, rollup_minutes

DASHBOARDS = ROOT / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", DASHBOARDS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()
FILES = sorted(DASHBOARDS.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _targets() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every query target: the panels' and the dashboard annotation queries' (with their
    data source, as a panel target carries its own)."""
    for path in FILES:
        model = _load(path)
        for panel in model["panels"]:
            for target in panel["targets"]:
                yield f"{path.stem}/{panel['title']}", target
        for annotation in model.get("annotations", {}).get("list", []):
            target = {"datasource": annotation["datasource"], **annotation["target"]}
            yield f"{path.stem}/annotation {annotation['name']}", target


def test_the_four_dashboards_exist_and_match_the_generator():
    assert {path.name for path in FILES} == set(GENERATOR.DASHBOARDS)
    for name, build in GENERATOR.DASHBOARDS.items():
        assert (DASHBOARDS / name).read_text(encoding="utf-8") == GENERATOR.render(build), (
            f"{name} is stale: run python dashboards/generate.py"
        )
    titles = {_load(path)["title"] for path in FILES}
    assert titles == {"Living Lab overview", "Sensor detail", "Trial evaluation", "Alerts & health"}
    uids = [_load(path)["uid"] for path in FILES]
    assert len(set(uids)) == len(uids)


def test_dashboards_over_time_carry_the_staff_annotations():
    """Each dashboard with a panel over time has the annotation query on the feed, filtered to
    its ``${sensor}`` variable when it has one; the sensor dashboard also lists them in a
    table. Negative control: the alerts dashboard, with tables only, has none."""
    over_time = {"timeseries", "barchart", "heatmap"}
    for path in FILES:
        model = _load(path)
        queries = model.get("annotations", {}).get("list", [])
        if not {panel["type"] for panel in model["panels"]} & over_time:
            assert queries == [], path.name
            continue
        [query] = queries
        assert (query["enable"], query["target"]["url"]) == (True, "/api/v1/annotations/feed")
        params = {p["key"]: p["value"] for p in query["target"]["url_options"]["params"]}
        has_sensor = any(v["name"] == "sensor" for v in model["templating"]["list"])
        expected = {"start": "${__from}", "end": "${__to}"}
        assert params == expected | ({"sensor_id": "${sensor}"} if has_sensor else {}), path.name
    assert [name for name, _ in _targets() if name.startswith("alerts-health/annotation")] == []
    sensor_model = _load(DASHBOARDS / "sensor-detail.json")
    [table] = [panel for panel in sensor_model["panels"] if panel["title"] == "Annotations"]
    assert table["type"] == "table"
    assert table["targets"][0]["url"] == "/api/v1/annotations"


def test_every_data_source_is_provisioned():
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "noiselab.yaml").read_text())
    uids = {source["uid"]: source["type"] for source in provisioned["datasources"]}
    assert uids == {
        "noiselab-influxdb": "influxdb",
        "noiselab-api": "yesoreyeram-infinity-datasource",
    }
    for path in FILES:
        model = _load(path)
        used = [panel["datasource"] for panel in model["panels"]]
        used += [target["datasource"] for _, target in _targets()]
        used += [variable["datasource"] for variable in model["templating"]["list"]]
        used += [query["datasource"] for query in model.get("annotations", {}).get("list", [])]
        for source in used:
            assert uids.get(source["uid"]) == source["type"], (path.name, source)
    secrets = provisioned["datasources"]
    assert all(
        re.fullmatch(r"\$\{[A-Z_]+\}", value)
        for source in secrets
        for value in source.get("secureJsonData", {}).values()
    )
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "noiselab.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/noiselab"


def _written_schema() -> dict[str, set[str]]:
    """Measurement -> field and tag names, read off the adapter's own line protocol."""
    spectrum = Spectrum((100.0, 1000.0), (50.0, 60.0))
    reading = Reading("s-1", 60.0, 60.0, 1.0, 63.0, 55.0, spectrum, 7)
    rows = Rows(*_rows_of(reading))
    rollup = rollup_minutes(rows, minute_keys(rows.code, rows.ts_ms, rows.end_ms))
    lines = reading_lines(reading, "road")
    hours = hour_cells(rollup, rollup.keys // 60)  # sensor code 0: keys are Unix minutes
    lines += cell_lines(MINUTE_MEASUREMENT, rollup, ["s-1"], MINUTE_MS).decode().split("\n")
    lines += cell_lines(HOUR_MEASUREMENT, hours, ["s-1"], HOUR_MS).decode().split("\n")
    lines += activity_lines([reading], 61.0).decode().split("\n")
    schema: dict[str, set[str]] = {}
    for line in lines:
        head, fields, _ = line.split(" ")
        measurement, *tags = head.split(",")
        names = {tag.split("=")[0] for tag in tags} | {f.split("=")[0] for f in fields.split(",")}
        schema.setdefault(measurement, set()).update(names)
    return schema


def _rows_of(reading: Reading) -> tuple[Any, ...]:
    import numpy as np

    return (
        np.array([0], np.int64),
        np.array([round(reading.ts * 1000)], np.int64),
        np.array([round((reading.ts + reading.duration) * 1000)], np.int64),
        np.array([reading.laeq]),
        np.array([reading.lafmax]),
        np.array([reading.lafmin]),
    )


FLUX_COLUMNS = {"_time", "_value", "_field", "_measurement", "_start", "_stop"}
"""Columns every Flux table has (and the joined ``_field_e``/``_value_e``/``_value_d``)."""


def test_flux_queries_use_only_what_the_adapter_writes():
    schema = _written_schema()
    assert {"noise", "noise_1m", "noise_spectrum", "noise_activity"} <= set(schema)
    flux = [(where, t["query"]) for where, t in _targets() if "query" in t]
    assert len(flux) >= 5
    for where, query in flux:
        measurements = re.findall(r'r\._measurement == "([^"]+)"', query)
        assert measurements, where
        assert set(measurements) <= set(schema), (where, measurements)
        known = set().union(*(schema[m] for m in measurements))
        for field in re.findall(r'r\._field (?:==|!=) "([^"]+)"', query):
            assert field in known, (where, field)
        for prefix in re.findall(r'hasPrefix\(v: r\._field, prefix: "([^"]+)"\)', query):
            assert any(name.startswith(prefix) for name in known), (where, prefix)
        for column in re.findall(r"\br\.(\w+)", query):
            joined = re.fullmatch(r"_(?:field|value)_[ed]", column)
            assert column in known | FLUX_COLUMNS or joined, (where, column)
        assert "v.timeRangeStart" in query, where  # follows the dashboard's time range
        assert "mean(" not in query, f"{where}: dB must be averaged energetically"


T0 = datetime(2026, 3, 3, 9, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The dashboards' default sensor and trial, with data over the test's time range."""
    lab = ApiLab(tmp_path_factory.mktemp("dashboards"), now=T0 + 3900)
    default_sensor, control = GENERATOR.DEFAULT_SENSOR, "kbm-control"
    lab.sensors(sensor(default_sensor), sensor(control))
    start = int(FROM.timestamp())
    minutes = [
        Reading(default_sensor, float(t), 55.0 + (t // 3600) % 10, 60.0, 70.0)
        for t in range(start, start + 2 * 86_400, 60)
    ]
    passby = [
        Reading(default_sensor, T0 + i, 72.0 if i % 600 < 15 else 52.0, 1.0, 75.0)
        for i in range(3600)
    ]
    others = [Reading(control, r.ts, r.laeq + 1.0, r.duration) for r in minutes]
    lab.write(minutes + passby + others, received_at=T0 + 3600)
    with MetadataStore(lab.meta_url) as meta:
        key = create_key(meta, role="staff", name="grafana")[1]
        topic = f"noiselab/{default_sensor}/levels"
        meta.quarantine.add([Rejection(topic, default_sensor, b'{"laeq": 999}', "laeq: > 160", T0)])
        reported = datetime.fromtimestamp(T0 + 1800, UTC)
        meta.citizen_reports.add(
            CitizenReport(ts=reported, received_at=reported, lat=55.6243, lon=12.3881,
                          category="road", text="Lastbiler <b>hele</b> tiden")
        )  # fmt: skip
        meta.calibrations.add(
            Calibration(
                sensor_id=default_sensor,
                ts=datetime(2026, 3, 1, 10, tzinfo=UTC),
                kind="field",
                reference_db=94.0,
                before_db=94.3,
                after_db=94.0,
                by="J. Hansen",
            )
        )
        roadworks = Annotation(
            start=datetime(2026, 3, 2, 10, tzinfo=UTC),
            end=datetime(2026, 3, 2, 12, tzinfo=UTC),
            category="roadworks",
            text="Lane closure",
            exclude=True,
            created_by="kommune",
            sensor_ids=(default_sensor,),
        )
        gone = meta.annotations.add(roadworks)
        assert gone.id is not None
        meta.annotations.withdraw(gone.id, by="kommune", reason="entered twice")
        meta.annotations.add(roadworks)
        day = datetime(2026, 3, 1, 23, tzinfo=UTC)
        meta.trials.create(
            Trial(
                id=GENERATOR.DEFAULT_TRIAL,
                name="Barrier",
                vendor="acme",
                treated=(default_sensor,),
                control=(control,),
                before_start=day,
                before_end=day + timedelta(days=1),
                after_start=day + timedelta(days=1),
                after_end=day + timedelta(days=2),
            )
        )
    with lab.client() as client:
        yield client, key


def _variables(model: dict[str, Any]) -> dict[str, str]:
    values = {v["name"]: v["current"]["value"] for v in model["templating"]["list"]}
    ms = {"__from": str(int(FROM.timestamp() * 1000)), "__to": str(int(TO.timestamp() * 1000))}
    return values | ms


def _api_requests() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for path in FILES:
        model = _load(path)
        for panel in model["panels"]:
            for target in panel["targets"]:
                if target["datasource"]["uid"] == "noiselab-api":
                    yield f"{path.stem}/{target['refId']}", target, _variables(model)
        for query in model.get("annotations", {}).get("list", []):
            assert query["datasource"]["uid"] == "noiselab-api", path.name
            yield f"{path.stem}/annotations/{query['name']}", query["target"], _variables(model)
        for variable in model["templating"]["list"]:
            query = variable["query"]["infinityQuery"]
            yield f"{path.stem}/${variable['name']}", query, _variables(model)


API_REQUESTS = list(_api_requests())


@pytest.mark.parametrize(
    ("where", "query", "variables"), API_REQUESTS, ids=[r[0] for r in API_REQUESTS]
)
def test_api_targets_match_the_openapi_document(where, query, variables):
    """Without data: path, method, parameters, root selector and columns as declared."""
    route = check_target(app_openapi(), query, variables)
    assert route.method == "GET", where


def _answer_rows(
    client: Any, key: str, path: str, params: dict[str, str], query: dict[str, Any], where: str
) -> list[dict[str, Any]]:
    """Request ``path`` as Infinity would; the rows of the answer, each checked to carry the
    query's columns with values of their types."""
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, (where, response.status_code, response.text)
    rows = select(response.json(), query["root_selector"])
    for i, row in enumerate(rows):
        for column in query["columns"]:
            assert column["selector"] in row, f"{where} row {i}: no column {column['selector']!r}"
            check_value(column["type"], row[column["selector"]], f"{where} row {i}")
    return rows


@pytest.mark.parametrize(
    ("where", "query", "variables"), API_REQUESTS, ids=[r[0] for r in API_REQUESTS]
)
def test_api_panels_answer_with_their_columns(app, where, query, variables):
    client, key = app
    route = check_target(app_openapi(), query, variables)
    rows = _answer_rows(client, key, route.path, route.params, query, where)
    if "/alerts" not in query["url"]:  # no alert engine runs here: an empty list is right
        assert rows, where


def _levels_target() -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of the sensor dashboard's levels target, and its variables."""
    [(query, variables)] = [(q, v) for w, q, v in API_REQUESTS if w == "sensor-detail/levels"]
    return copy.deepcopy(query), variables


def _param(key: str, value: str) -> Callable[[dict[str, Any]], None]:
    return lambda query: query["url_options"]["params"].append({"key": key, "value": value})


def _column(selector: str, kind: str) -> Callable[[dict[str, Any]], None]:
    def change(query: dict[str, Any]) -> None:
        query["columns"] = [c for c in query["columns"] if c["selector"] != selector]
        query["columns"].append({"selector": selector, "text": selector, "type": kind})

    return change


BROKEN_TARGETS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "wrong_path": (
        lambda query: query.update(url="/api/v1/sensor/${sensor}/levels"),
        "no path of the OpenAPI document matches /api/v1/sensor/kbm-25m/levels",
    ),
    "wrong_method": (
        lambda query: query["url_options"].update(method="POST"),
        "has no POST operation",
    ),
    "undeclared_parameter": (_param("from", "${__from}"), "declares no query parameter from"),
    "parameter_in_the_url": (
        lambda query: query.update(url=query["url"] + "?bucket=15m"),
        "declares no query parameter bucket",
    ),
    "value_outside_the_enum": (_param("every", "15min"), "every='15min' is not one of"),
    "column_not_returned": (_column("laeq_1h", "number"), "the rows have no 'laeq_1h'"),
    "column_of_another_type": (_column("laeq", "string"), "column 'laeq' is .* not string"),
    "epoch_column_on_a_date_time": (
        _column("t", "timestamp_epoch"),
        "column 't' is .* not timestamp_epoch",
    ),
    "wrong_root_selector": (
        lambda query: query.update(root_selector="point"),
        "root selector 'point': no 'point' in the answer",
    ),
}


@pytest.mark.parametrize(("change", "says"), BROKEN_TARGETS.values(), ids=BROKEN_TARGETS.keys())
def test_a_broken_target_fails_the_openapi_check(change, says):
    """The negative controls of ``check_target``, each a one-change copy of a real target."""
    query, variables = _levels_target()
    check_target(app_openapi(), query, variables)
    change(query)
    with pytest.raises(TargetMismatchError, match=says):
        check_target(app_openapi(), query, variables)


def test_a_required_parameter_must_be_given():
    """No route of the app requires a query parameter yet: a one-route document stands in."""
    rows = {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "number"}}}}
    operation = {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
        ],
        "responses": {"200": {"content": {"application/json": {"schema": rows}}}},
    }
    spec = {"paths": {"/x/{id}": {"get": operation}}}
    target: dict[str, Any] = {
        "url": "/x/${v}",
        "url_options": {"method": "GET", "params": []},
        "root_selector": "",
        "columns": [{"selector": "a", "type": "number"}],
    }
    with pytest.raises(TargetMismatchError, match="requires the query parameter q"):
        check_target(spec, target, {"v": "1"})
    target["url_options"]["params"] = [{"key": "q", "value": "z"}]
    assert check_target(spec, target, {"v": "1"}).path == "/x/1"


@pytest.mark.parametrize(
    ("path", "column", "says"),
    [("/api/v1/sensor/kbm-25m/levels", None, "404"), (None, "laeq_1h", "no column 'laeq_1h'")],
    ids=["wrong_path", "column_not_returned"],
)
def test_a_broken_target_fails_against_the_app(app, path, column, says):
    """The negative controls of the request to the app: a wrong path is not answered, and a
    column the rows lack is found missing (the unbroken target passes first)."""
    client, key = app
    query, variables = _levels_target()
    route = check_target(app_openapi(), query, variables)
    _answer_rows(client, key, route.path, route.params, query, "levels")
    if column is not None:
        _column(column, "number")(query)
    with pytest.raises(AssertionError, match=says):
        _answer_rows(client, key, path or route.path, route.params, query, "levels")
