"""The Flux of every InfluxDB target of the dashboards, as InfluxDB receives it from Grafana
(``support.grafana_flux``: the dashboard's variables, time range, interval and bucket filled
in), checked by InfluxData's Flux language server (``support.flux_lsp``): zero diagnostics.

It shows that each query parses, names only functions and arguments Flux has, with the right
types, after every substitution Grafana makes. It cannot show that the query returns the data
the panel draws: that needs a Grafana and an InfluxDB (``test_dashboards.py`` checks the
measurements, fields and tags against what the adapter writes).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.flux_lsp import assert_clean, check_flux
from support.grafana_flux import (
    ALL,
    TimeRange,
    Value,
    go_duration,
    grafana_flux,
    grafana_interval,
    relative_range,
    replace_variables,
    rfc3339nano,
)
from support.paths import ROOT

FILES = sorted((ROOT / "dashboards").glob("*.json"))
NOW = datetime(2026, 3, 29, 0, 59, 59, 987_000, tzinfo=UTC)  # the browser's clock, ms
"""An hour before Copenhagen's spring DST change; a range ending on a whole second too."""
INTERVALS = [timedelta(milliseconds=ms) for ms in (200, 1000, 15_000, 60_000, 300_000)] + [
    timedelta(hours=1),
    timedelta(days=1),
]
"""Intervals Grafana's rounding gives (``v.windowPeriod``): 200ms, 1s, 15s, 1m0s ... 24h0m0s."""


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _flux_targets() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``dashboard/panel title/refId``, the target and its dashboard, for every InfluxDB
    target."""
    for path in FILES:
        model = _load(path)
        for panel in model["panels"]:
            for target in panel["targets"]:
                source = target.get("datasource") or panel["datasource"]
                if source["type"] == "influxdb":
                    assert target.get("query"), f"{path.stem}/{panel['title']}: no Flux query"
                    yield f"{path.stem}/{panel['title']}/{target['refId']}", target, model


def _selections(model: dict[str, Any]) -> list[tuple[dict[str, Value], dict[str, Value]]]:
    """Each way of setting the dashboard's variables to realistic values from its templating
    list: every known value alone; all of them when the variable is multi-value; "All" when it
    offers it. Pairs of (selection, what "All" stands for)."""
    choices: list[list[tuple[str, Value]]] = []
    all_values: dict[str, Value] = {}
    for variable in model["templating"]["list"]:
        name, current = variable["name"], variable["current"]["value"]
        known = [current] if isinstance(current, str) else list(current)
        known += [o["value"] for o in variable.get("options", []) if isinstance(o["value"], str)]
        known = [v for v in dict.fromkeys(known) if v != ALL]
        options: list[tuple[str, Value]] = [(name, value) for value in known]
        if variable.get("multi"):
            options.append((name, known))
        if variable.get("includeAll"):
            options.append((name, ALL))
            all_values[name] = variable.get("allValue") or known
        choices.append(options)
    return [(dict(combination), all_values) for combination in itertools.product(*choices)]


def _as_sent() -> dict[str, str]:
    """Every Flux target in every variable selection, range end and interval, by a name that
    says where it is and how it was filled in."""
    sent = {}
    for where, target, model in _flux_targets():
        for number, (selection, all_values) in enumerate(_selections(model)):
            for now in (NOW, NOW.replace(microsecond=0)):
                start, stop = relative_range(model["time"], now)
                for interval in INTERVALS:
                    span = TimeRange(start, stop, interval)
                    case = f"variables #{number}, to {rfc3339nano(stop)}, {go_duration(interval)}"
                    sent[f"{where} [{case}]"] = grafana_flux(
                        target["query"], selection, span, all_values=all_values
                    )
    return sent


@pytest.mark.process
def test_every_flux_target_is_clean_flux_as_grafana_sends_it():
    sent = _as_sent()
    panels = {name.split(" [")[0] for name in sent}
    assert len(panels) >= 5, panels
    assert_clean(sent)


@pytest.mark.process
def test_a_misspelt_argument_in_a_target_fails_naming_the_panel():
    where, target, model = next(
        t for t in _flux_targets() if "aggregateWindow(every: v.windowPeriod" in t[1]["query"]
    )
    broken = target["query"].replace("aggregateWindow(every:", "aggregateWindow(evry:")
    (selection, all_values), *_ = _selections(model)
    span = TimeRange(*relative_range(model["time"], NOW), timedelta(minutes=1))
    queries = {where: grafana_flux(broken, selection, span, all_values=all_values)}
    found = check_flux({**queries, "as stored": target["query"]})
    assert any("evry" in d.message for d in found[where]), found
    # Unsubstituted, Flux reads "${sensor}" as an interpolation and v as undefined.
    messages = {d.message for d in found["as stored"]}
    assert {"undefined identifier sensor", "undefined identifier v"} <= messages
    with pytest.raises(AssertionError, match=re.escape(where) + ":.*evry"):
        assert_clean(queries)


# --------------------------------------------------------------------------- the substitution


SPAN = TimeRange(
    datetime(2026, 3, 3, 8, 0, 0, 120_000, tzinfo=UTC),
    datetime(2026, 3, 3, 9, tzinfo=UTC),
    timedelta(minutes=1),
)


def test_time_and_duration_are_written_as_go_writes_them():
    assert rfc3339nano(SPAN.start) == "2026-03-03T08:00:00.12Z"
    assert rfc3339nano(SPAN.stop) == "2026-03-03T09:00:00Z"
    assert rfc3339nano(datetime(2026, 3, 3, 11, tzinfo=ZoneInfo("Europe/Copenhagen"))) == (
        "2026-03-03T10:00:00Z"
    )
    cases = {
        timedelta(0): "0s",
        timedelta(milliseconds=200): "200ms",
        timedelta(microseconds=1500): "1.5ms",
        timedelta(seconds=1): "1s",
        timedelta(milliseconds=1500): "1.5s",
        timedelta(seconds=20): "20s",
        timedelta(minutes=1): "1m0s",
        timedelta(minutes=90): "1h30m0s",
        timedelta(hours=1): "1h0m0s",
        timedelta(days=1): "24h0m0s",
    }
    assert {d: go_duration(d) for d in cases} == cases
    assert [grafana_interval(d) for d in INTERVALS] == [
        "200ms",
        "1s",
        "15s",
        "1m",
        "5m",
        "1h",
        "1d",
    ]


def test_grafana_variables_in_every_syntax_and_format():
    one = {"sensor": "kbm-25m"}
    text = '"${sensor}" "$sensor" "[[sensor]]" "${sensor:raw}" "${sensor:glob}"'
    assert replace_variables(text, one) == " ".join(['"kbm-25m"'] * 5)
    many = {"sensor": ["kbm-25m", "hbm.50m"]}
    assert replace_variables("${sensor}", many) == "{kbm-25m,hbm.50m}"  # glob, the default
    assert replace_variables("${sensor:regex}", many) == "(kbm-25m|hbm\\.50m)"
    assert replace_variables("${sensor:pipe}", many) == "kbm-25m|hbm.50m"
    assert replace_variables("${sensor:json}", many) == '["kbm-25m","hbm.50m"]'
    assert replace_variables("${sensor:doublequote}", many) == '"kbm-25m","hbm.50m"'
    assert replace_variables("[[sensor:csv]]", many) == "kbm-25m,hbm.50m"
    everything = {"sensor": ["a1", "b2"]}
    assert replace_variables("${sensor:pipe}", {"sensor": ALL}, all_values=everything) == "a1|b2"
    custom = {"sensor": ".*"}
    assert replace_variables("${sensor:regex}", {"sensor": ALL}, all_values=custom) == ".*"
    assert replace_variables("${unknown} $unknown", one) == "${unknown} $unknown"


def test_the_server_fills_in_range_window_and_bucket():
    query = (
        "from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, stop: v.timeRangeStop)"
        " |> aggregateWindow(every: v.windowPeriod, fn: max)"
        ' |> filter(fn: (r) => r.x == "$__interval")'
    )
    assert grafana_flux(query, {}, SPAN) == (
        'from(bucket: "noise") |> range(start: 2026-03-03T08:00:00.12Z, stop: 2026-03-03T09:00:00Z)'
        ' |> aggregateWindow(every: 1m0s, fn: max) |> filter(fn: (r) => r.x == "1m")'
    )


def test_a_variable_left_unsubstituted_is_caught():
    """Grafana passes an unknown variable on unchanged, and Flux would read ``"${sensr}"`` as
    its own interpolation of an identifier: the helper refuses the query instead."""
    query = 'from(bucket: v.defaultBucket) |> filter(fn: (r) => r.sensor_id == "${sensr}")'
    with pytest.raises(AssertionError, match=r"unsubstituted: \['\$\{sensr\}'\]"):
        grafana_flux(query, {"sensor": "kbm-25m"}, SPAN)
    for leftover in ("$sensr", "[[sensr]]", "${sensr:regex}"):
        with pytest.raises(AssertionError, match="unsubstituted"):
            grafana_flux(f'x = "{leftover}"', {"sensor": "kbm-25m"}, SPAN)


def test_every_dashboard_selection_is_realistic():
    """The values the check fills in are the dashboards' own, and cannot break out of the Flux
    string they go into (Grafana inserts them unescaped)."""
    targets = list(_flux_targets())
    assert targets
    for _, _, model in targets:
        for selection, _ in _selections(model):
            assert set(selection) == {v["name"] for v in model["templating"]["list"]}
            for value in selection.values():
                values = [value] if isinstance(value, str) else list(value)
                assert all(re.fullmatch(r"[A-Za-z0-9._-]+", v) for v in values), values
