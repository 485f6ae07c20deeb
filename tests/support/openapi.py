"""A Grafana Infinity query against the app's OpenAPI document, without data.

``check_target(spec, target, variables)`` does what Infinity does with a query's URL
(``${variable}`` substitution with the given values, query parameters from the URL and from
``url_options.params``) and then requires of the app's OpenAPI document ``spec``:

- an operation whose path template matches the URL (``{name}`` is one path segment; a literal
  segment wins over a parameter) with the query's method;
- every query parameter declared by that operation, every required one present, and a value in
  the declared ``enum`` where there is one;
- the query's ``root_selector`` naming an array (or object) of the operation's 200 JSON answer,
  and each column's ``selector`` a property of its rows, of the column's type (``timestamp``:
  a ``date-time`` string; ``timestamp_epoch``: an integer of epoch milliseconds).

A mismatch raises :class:`TargetMismatchError` (an ``AssertionError``, so it fails a test) saying
what does not match. The returned :class:`Route` holds the URL and parameters to request, so a
test can also ask the real app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from noiselab.api.app import create_app
from noiselab.api.settings import ApiSettings
from support.grafana import substitute

__all__ = ["Route", "TargetMismatchError", "app_openapi", "check_target", "resolve"]

_JSON_TYPES = {
    "number": {"number", "integer"},
    "string": {"string"},
    "boolean": {"boolean"},
    "timestamp_epoch": {"integer"},
}
"""The JSON Schema types an Infinity column type reads (``timestamp``: see ``_check_column``;
``timestamp_epoch``, Infinity's "Time (UNIX ms)", an integer of epoch milliseconds)."""


class TargetMismatchError(AssertionError):
    """An Infinity query asks for something the app's OpenAPI document does not declare."""


@dataclass(frozen=True)
class Route:
    """The operation a query resolved to, and the request Infinity would make."""

    template: str
    """The OpenAPI path, e.g. ``/api/v1/sensors/{sensor_id}/levels``."""
    method: str
    """Upper case, e.g. ``GET``."""
    path: str
    """The URL's path with the variables substituted."""
    params: dict[str, str]
    """The query parameters, substituted."""
    row: dict[str, Any]
    """The schema of one row the root selector names (an object schema)."""


@cache
def app_openapi() -> dict[str, Any]:
    """The app's OpenAPI document, built once (building it opens no database; do not change
    the shared answer)."""
    spec: dict[str, Any] = create_app(
        ApiSettings(store_url="sqlite:///unused.db", meta_url="sqlite://")
    ).openapi()
    return spec


def resolve(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with ``$ref`` followed and a nullable ``anyOf`` reduced to its non-null part."""
    node = dict(schema)
    while True:
        if "$ref" in node:
            node = dict(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                return node
            node = dict(options[0])
        else:
            return node


def check_target(
    spec: Mapping[str, Any], target: Mapping[str, Any], variables: Mapping[str, str]
) -> Route:
    """The route of Infinity query ``target`` with Grafana variables ``variables``, checked
    against ``spec`` as the module's docstring says."""
    url = urlsplit(substitute(target["url"], dict(variables)))
    options = target.get("url_options", {})
    method = str(options.get("method", "GET")).upper()
    params = dict(parse_qsl(url.query))
    params |= {p["key"]: substitute(p["value"], dict(variables)) for p in options.get("params", [])}
    template, operation = _operation(spec, url.path, method)
    where = f"{method} {template}"
    _check_params(spec, operation, params, where)
    row = _row_schema(spec, operation, target.get("root_selector", ""), where)
    for column in target.get("columns", []):
        _check_column(spec, row, column, where)
    return Route(template, method, url.path, params, row)


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def _operation(spec: Mapping[str, Any], path: str, method: str) -> tuple[str, dict[str, Any]]:
    """The path template matching ``path`` and its ``method`` operation; of several matching
    templates the one with the fewest parameters (``/map/rows`` before ``/map/{id}``)."""
    matches = sorted(
        (template.count("{"), template)
        for template in spec["paths"]
        if _template_pattern(template).fullmatch(path)
    )
    if not matches:
        raise TargetMismatchError(f"no path of the OpenAPI document matches {path}")
    template = matches[0][1]
    operation = spec["paths"][template].get(method.lower())
    if operation is None:
        raise TargetMismatchError(f"{template} has no {method} operation")
    return template, operation


def _check_params(
    spec: Mapping[str, Any], operation: Mapping[str, Any], params: Mapping[str, str], where: str
) -> None:
    declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
    undeclared = sorted(set(params) - set(declared))
    if undeclared:
        raise TargetMismatchError(f"{where} declares no query parameter {', '.join(undeclared)}")
    missing = sorted(n for n, p in declared.items() if p.get("required") and n not in params)
    if missing:
        raise TargetMismatchError(f"{where} requires the query parameter {', '.join(missing)}")
    for name, value in params.items():
        allowed = resolve(spec, declared[name].get("schema", {})).get("enum")
        if allowed is not None and value not in allowed:
            raise TargetMismatchError(f"{where}: {name}={value!r} is not one of {allowed}")


def _row_schema(
    spec: Mapping[str, Any], operation: Mapping[str, Any], selector: str, where: str
) -> dict[str, Any]:
    """The object schema of the rows ``selector`` names in the operation's 200 JSON answer."""
    try:
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    except KeyError:
        raise TargetMismatchError(f"{where} declares no 200 JSON answer") from None
    node = resolve(spec, answer)
    for part in filter(None, selector.split(".")):
        properties = node.get("properties", {})
        if part not in properties:
            problem = f"root selector {selector!r}: no {part!r} in the answer"
            raise TargetMismatchError(f"{where}: {problem}")
        node = resolve(spec, properties[part])
    if node.get("type") == "array":
        node = resolve(spec, node["items"])
    if "properties" not in node:
        raise TargetMismatchError(f"{where}: root selector {selector!r} names no rows of objects")
    return node


def _check_column(
    spec: Mapping[str, Any], row: Mapping[str, Any], column: Mapping[str, Any], where: str
) -> None:
    selector, kind = column["selector"], column["type"]
    if selector not in row["properties"]:
        raise TargetMismatchError(
            f"{where}: the rows have no {selector!r} (they have {', '.join(row['properties'])})"
        )
    prop = resolve(spec, row["properties"][selector])
    if kind == "timestamp":
        fits = prop.get("format") == "date-time"
    else:
        fits = prop.get("type") in _JSON_TYPES.get(kind, set())
    if not fits:
        problem = f"column {selector!r} is {prop} in the answer, not {kind}"
        raise TargetMismatchError(f"{where}: {problem}")
