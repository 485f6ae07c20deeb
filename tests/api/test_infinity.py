"""Every Grafana Infinity query in ``docs/grafana.md`` against the app's real responses.

The queries are parsed out of the document's fenced ``json`` blocks (those with a ``refId``),
so the documentation and this test cannot drift apart. Each query's URL is requested as
Infinity would: the data source's bearer key in ``Authorization``, ``${__from}``/``${__to}``
replaced by epoch milliseconds, the dashboard variable ``${sensor}`` by a sensor id. Then the
root selector must resolve to flat rows (a list of objects, or one object as one row), and every
documented column must be present in every row with a value of its documented type.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from support.grafana import FROM, TO, check_value, select, substitute
from support.lab import ApiLab
from support.openapi import app_openapi, check_target
from support.paths import ROOT
from support.readings import sensor

from noiselab.api.auth import create_key
from noiselab.model import Reading, Rejection
from noiselab.store.metadata import Calibration, CitizenReport, MetadataStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

DOC = ROOT / "docs" / "grafana.md"
COLUMN_TYPES = {"string", "number", "timestamp", "timestamp_epoch", "boolean"}


def documented_queries() -> list[dict[str, Any]]:
    """The Infinity queries of ``docs/grafana.md``: fenced json blocks with a ``refId``."""
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    queries = [json.loads(block) for block in blocks]
    return [query for query in queries if "refId" in query]


QUERIES = documented_queries()


def _ms(instant: datetime) -> str:
    return str(int(instant.timestamp() * 1000))


VARIABLES = {
    "__from": _ms(FROM),
    "__to": _ms(TO),
    "sensor": "vb-road-1",
    "trial": "tr-00000000d3e0",
}
"""Realistic values of the variables, for the checks that need no data."""


@pytest.mark.parametrize("query", QUERIES, ids=[q["refId"] for q in QUERIES])
def test_documented_columns_are_in_the_openapi_schema(query: dict[str, Any]) -> None:
    """Without data: the URL names an operation that declares every query parameter, the root
    selector names an array (or object) of its 200 schema, and each column a property of its
    rows with a matching type (timestamps are ``date-time`` strings); see ``support.openapi``."""
    check_target(app_openapi(), query, VARIABLES)


@dataclass
class Grafana:
    """The app, the data source's staff key and the dashboard variables to substitute."""

    client: TestClient
    key: str
    variables: dict[str, str]


EMPTY_OK = {"alerts"}
"""Queries whose rows the fixture does not make (alerts need the alert engine to run); their
columns are still checked against the OpenAPI schema."""
NULLS_OK = {"trial_summary"}
"""Queries whose numbers may all be null here: the fixture's two days are too few for an
effect (status ``insufficient_data``)."""


@pytest.fixture(scope="module")
def grafana(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grafana]:
    """A road sensor with minute readings over local 2026-03-02 (a diurnal 50/60 dB pattern)
    and 1-s readings over 09:00-10:00Z on 2026-03-03 with a 70-dB pass-by every 10 minutes;
    now is 10:05Z that day. One quarantined reading, one trial (treated: the road sensor,
    control: a private one), a staff annotation of the road sensor (and a withdrawn copy of
    it) and a staff key for the data source."""
    hour = datetime(2026, 3, 3, 9, tzinfo=UTC).timestamp()
    lab = ApiLab(tmp_path_factory.mktemp("infinity"), now=hour + 3900)
    lab.sensors(sensor("vb-road-1"), sensor("vb-private-1", public=False))
    day = range(int(FROM.timestamp()), int(FROM.timestamp()) + 86_400, 60)
    minutes = [
        Reading("vb-road-1", float(t), 60.0 if 7 <= (t // 3600 + 1) % 24 < 19 else 50.0, 60.0)
        for t in day
    ]
    seconds = [
        Reading("vb-road-1", hour + i, (level := 70.0 if i % 600 < 20 else 52.0), lafmax=level + 4)
        for i in range(3600)
    ]
    control = [
        Reading("vb-private-1", r.ts, r.laeq + 5.0, r.duration, r.lafmax) for r in minutes + seconds
    ]
    lab.write(minutes + seconds + control, received_at=hour + 3600)
    with MetadataStore(lab.meta_url) as meta:
        key = create_key(meta, role="staff", name="grafana")[1]
        admin = create_key(meta, role="admin", name="setup")[1]
        rejected = Rejection(
            "noiselab/vb-road-1/levels", "vb-road-1", b'{"laeq": 999}', "laeq: above 160 dB", hour
        )
        meta.quarantine.add([rejected])
        when = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)  # in the 1-s readings of vb-road-1
        report = meta.citizen_reports.add(
            CitizenReport(ts=when, received_at=when, lat=55.6243, lon=12.3881, category="road",
                          text="<img src=x onerror=alert(1)>")
        )  # fmt: skip
        assert report.id is not None
        meta.citizen_reports.handle(report.id, by="kommune", note="Compared with vb-road-1")
        for day, before, after in ((1, 94.6, 94.0), (2, 94.8, None)):
            meta.calibrations.add(
                Calibration(
                    sensor_id="vb-road-1",
                    ts=datetime(2026, 3, day, 10, tzinfo=UTC),
                    kind="field",
                    reference_db=94.0,
                    before_db=before,
                    after_db=after,
                    by="J. Hansen",
                    note="serial 2712",
                )
            )
    with lab.client() as client:
        trial = client.post(
            "/api/v1/trials",
            json={
                "name": "Barrier",
                "vendor": "acme",
                "treated": ["vb-road-1"],
                "control": ["vb-private-1"],
                "before_start": "2026-03-01T23:00:00Z",
                "before_end": "2026-03-02T23:00:00Z",
                "after_start": "2026-03-02T23:00:00Z",
                "after_end": "2026-03-03T23:00:00Z",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert trial.status_code == 201, trial.text
        annotation = client.post(
            "/api/v1/annotations",
            json={
                "start": "2026-03-02T10:00:00Z",
                "end": "2026-03-02T12:00:00Z",
                "sensor_ids": ["vb-road-1"],
                "category": "roadworks",
                "text": "Lane closure on the motorway",
                "exclude": True,
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert annotation.status_code == 201, annotation.text
        withdrawn = client.post(
            f"/api/v1/annotations/{annotation.json()['id']}/withdraw",
            json={"reason": "entered twice"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        annotation = client.post(
            "/api/v1/annotations",
            json={
                "start": "2026-03-02T10:00:00Z",
                "end": "2026-03-02T12:00:00Z",
                "sensor_ids": ["vb-road-1"],
                "category": "roadworks",
                "text": "Lane closure on the motorway",
                "exclude": True,
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert annotation.status_code == 201, annotation.text
        variables = {
            "__from": _ms(FROM),
            "__to": _ms(TO),
            "sensor": "vb-road-1",
            "trial": trial.json()["id"],
        }
        yield Grafana(client, key, variables)


def test_the_document_has_a_query_per_endpoint() -> None:
    urls = {query["url"] for query in QUERIES}
    assert {
        "/api/v1/sensors",
        "/api/v1/sensors/${sensor}/levels",
        "/api/v1/sensors/${sensor}/indicators",
        "/api/v1/sensors/${sensor}/events",
        "/api/v1/map/rows",
        "/api/v1/health/sensors",
        "/api/v1/alerts",
        "/api/v1/quarantine",
        "/api/v1/citizen-reports",
        "/api/v1/sensors/${sensor}/calibrations",
        "/api/v1/trials/${trial}/daily",
        "/api/v1/trials/${trial}/summary",
        "/api/v1/annotations/feed",
        "/api/v1/annotations",
    } <= urls
    assert len({query["refId"] for query in QUERIES}) == len(QUERIES)


@pytest.mark.parametrize("query", QUERIES, ids=[q["refId"] for q in QUERIES])
def test_documented_query_matches_the_response(grafana, query: dict[str, Any]) -> None:
    client, key, variables = grafana.client, grafana.key, grafana.variables
    assert (query["type"], query["source"], query["parser"]) == ("json", "url", "backend")
    assert query["format"] in ("table", "timeseries", "dataframe")
    params = {p["key"]: substitute(p["value"], variables) for p in query["url_options"]["params"]}
    assert query["url_options"]["method"] == "GET"
    response = client.get(
        substitute(query["url"], variables),
        params=params,
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    rows = select(response.json(), query["root_selector"])
    assert rows or query["refId"] in EMPTY_OK, "the fixture should give this query some rows"
    columns = query["columns"]
    assert all(c["type"] in COLUMN_TYPES for c in columns)
    for i, row in enumerate(rows):
        for column in columns:
            assert column["selector"] in row, f"row {i}: no column {column['selector']!r}"
            check_value(column["type"], row[column["selector"]], f"row {i} {column}")
    for column in columns:  # a column that is null in every row would hide a naming mistake
        if rows and query["refId"] not in NULLS_OK:
            assert any(row[column["selector"]] is not None for row in rows), column
    if query["format"] == "timeseries":
        kinds = [c["type"] for c in columns]
        assert kinds[0] == "timestamp"
        assert "number" in kinds
        times = [row[columns[0]["selector"]] for row in rows]
        assert times == sorted(times), "time series rows must be in time order"


def test_time_range_variables_select_the_range(grafana) -> None:
    """${__from}/${__to} as epoch ms give the same answer as the RFC 3339 range."""
    client, key = grafana.client, grafana.key
    headers = {"Authorization": f"Bearer {key}"}
    url = "/api/v1/sensors/vb-road-1/levels"
    by_ms = client.get(
        url, params={"start": _ms(FROM), "end": _ms(TO), "every": "1h"}, headers=headers
    )
    by_text = client.get(
        url,
        params={"start": "2026-03-01T23:00:00Z", "end": "2026-03-03T23:00:00Z", "every": "1h"},
        headers=headers,
    )
    assert by_ms.status_code == 200
    assert by_ms.json() == by_text.json()
    assert by_ms.json()["points"][0]["t"] == "2026-03-01T23:00:00Z"


def test_the_provisioning_example_reads_the_key_from_the_environment() -> None:
    text = DOC.read_text(encoding="utf-8")
    [yaml_block] = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert "type: yesoreyeram-infinity-datasource" in yaml_block
    assert "auth_method: bearerToken" in yaml_block
    assert "bearerToken: ${NOISELAB_GRAFANA_KEY}" in yaml_block
    assert "nl_" not in yaml_block  # no key in the file
