"""What Grafana does to a dashboard's Flux query before InfluxDB sees it, for checking the
dashboards' Flux without a Grafana.

Two steps, as Grafana takes them:

1. The browser (the InfluxDB data source's ``applyTemplateVariables`` in Flux mode) replaces
   dashboard variables with ``templateSrv.replace`` and no format: ``$name``, ``${name}``,
   ``${name:format}``, ``[[name]]`` and ``[[name:format]]``; a multi-value selection takes the
   default ``glob`` format (``{a,b}``), "All" the variable's custom all value or every option.
   Values are inserted as they are, with no Flux escaping. A variable Grafana does not know is
   left in the text as it was.
2. The server (``pkg/tsdb/influxdb/flux/macros.go``) replaces, wherever ``<word>.<name>``
   appears, ``timeRangeStart``/``timeRangeStop`` with the range as RFC 3339 (Go's
   ``RFC3339Nano``: UTC, trailing zeros of the fraction dropped), ``windowPeriod`` with the
   query interval as a Go duration (``1m0s``), ``defaultBucket``, ``bucket`` and
   ``organization`` with the data source's settings in double quotes; then ``$__interval_ms``
   and ``$__interval``.

``grafana_flux`` does both and fails when anything that looks like a Grafana variable is left,
since Flux would read a leftover ``${name}`` inside a string as its own interpolation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "ALL",
    "TimeRange",
    "go_duration",
    "grafana_flux",
    "grafana_interval",
    "leftover_variables",
    "relative_range",
    "replace_variables",
    "rfc3339nano",
]

ALL = "$__all"
"""The value Grafana stores for an "All" selection."""

VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}", re.ASCII
)
"""Grafana's ``variableRegex`` (``$name``, ``[[name:format]]``, ``${name.path:format}``)."""
_MACRO = re.compile(r"([a-zA-Z]+)\.([a-zA-Z]+)")
"""The server's ``fluxVariableFilterExp``: any ``<word>.<name>``, not only ``v.``."""

Value = str | Sequence[str]


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's absolute range and the query interval Grafana computed for a panel."""

    start: datetime
    stop: datetime
    interval: timedelta


def rfc3339nano(instant: datetime) -> str:
    """Go's ``time.RFC3339Nano`` of an aware ``instant`` in UTC: ``2026-03-03T09:00:00.12Z``."""
    utc = instant.astimezone(UTC)
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def go_duration(duration: timedelta) -> str:
    """Go's ``time.Duration.String``: ``200ms``, ``20s``, ``1m0s``, ``1h0m0s``, ``1.5s``."""
    micro = round(duration / timedelta(microseconds=1))
    if micro == 0:
        return "0s"
    sign, micro = ("-", -micro) if micro < 0 else ("", micro)
    if micro < 1_000_000:
        unit, size = ("µs", 1) if micro < 1000 else ("ms", 1000)
        return sign + _decimal(micro, size) + unit
    hours, rest = divmod(micro, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    text = _decimal(rest, 1_000_000) + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _decimal(amount: int, unit: int) -> str:
    whole, fraction = divmod(amount, unit)
    digits = f"{fraction:0{len(str(unit)) - 1}d}".rstrip("0") if unit > 1 else ""
    return f"{whole}.{digits}" if digits else str(whole)


def grafana_interval(interval: timedelta) -> str:
    """``$__interval`` as the server writes it (``gtime.FormatInterval``): ``200ms``, ``20s``,
    ``5m``, ``1h``, ``1d``, ``1y``, each rounded down."""
    ms = int(interval / timedelta(milliseconds=1))
    for unit, size in (("y", 31_536_000_000), ("d", 86_400_000), ("h", 3_600_000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    if ms >= 60_000:
        return f"{ms // 60_000}m"
    return f"{ms // 1000}s" if ms >= 1000 else f"{ms}ms"


_RELATIVE = re.compile(r"now(?:-(\d+)([smhdw]))?")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def relative_range(time: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """A dashboard's ``time`` (``{"from": "now-6h", "to": "now"}``) as absolute instants."""

    def absolute(text: str) -> datetime:
        match = _RELATIVE.fullmatch(text)
        assert match, f"dashboard time {text!r} is not modelled (now or now-<n><smhdw>)"
        if match[1] is None:
            return now
        return now - timedelta(**{_UNITS[match[2]]: int(match[1])})

    return absolute(time["from"]), absolute(time["to"])


def _format(value: Value, fmt: str) -> str:
    """A variable's value in one of Grafana's formats (``formatRegistry``)."""
    values = [value] if isinstance(value, str) else list(value)
    if fmt == "glob":
        return "{" + ",".join(values) + "}" if len(values) > 1 else ",".join(values)
    if fmt == "regex":
        escaped = [re.sub(r"[.*+?^${}()|\[\]\\/]", lambda m: "\\" + m[0], v) for v in values]
        return "(" + "|".join(escaped) + ")" if len(values) > 1 else escaped[0]
    simple = {
        "raw": ",".join,
        "csv": ",".join,
        "pipe": "|".join,
        "json": lambda vs: json.dumps(
            value if isinstance(value, str) else vs, ensure_ascii=False, separators=(",", ":")
        ),
        "doublequote": lambda vs: ",".join('"' + v.replace('"', '\\"') + '"' for v in vs),
        "singlequote": lambda vs: ",".join("'" + v.replace("'", "\\'") + "'" for v in vs),
        "sqlstring": lambda vs: ",".join("'" + v.replace("'", "''") + "'" for v in vs),
    }
    assert fmt in simple, f"Grafana variable format {fmt!r} is not modelled here"
    return simple[fmt](values)


def replace_variables(
    text: str,
    variables: Mapping[str, Value],
    *,
    all_values: Mapping[str, Value] | None = None,
) -> str:
    """Step 1: ``templateSrv.replace(text, scopedVars)`` with no format. ``variables`` holds the
    selected value of each variable (a list for a multi-value selection, ``ALL`` for "All");
    ``all_values[name]`` what "All" stands for (the custom all value, inserted as it is, or the
    list of every option). Unknown names are left as they are, as Grafana does."""
    all_values = all_values or {}

    def one(match: re.Match[str]) -> str:
        name = match[1] or match[2] or match[4]
        fmt = match[3] or match[6]
        if name not in variables:
            return match[0]
        value = variables[name]
        if value == ALL:
            value = all_values[name]
            if isinstance(value, str):  # a custom all value is not formatted
                return value
        return _format(value, fmt or "glob")

    return VARIABLE.sub(one, text)


def _macros(text: str, span: TimeRange, bucket: str, organization: str) -> str:
    """Step 2, the server's ``interpolate``."""
    values = {
        "timeRangeStart": rfc3339nano(span.start),
        "timeRangeStop": rfc3339nano(span.stop),
        "windowPeriod": go_duration(span.interval),
        "bucket": f'"{bucket}"',
        "defaultBucket": f'"{bucket}"',
        "organization": f'"{organization}"',
    }
    for match in _MACRO.finditer(text):
        if match[2] in values:
            text = text.replace(match[0], values[match[2]])
    ms = str(int(span.interval / timedelta(milliseconds=1)))
    text = text.replace("$__interval_ms", ms)
    return text.replace("$__interval", grafana_interval(span.interval))


def leftover_variables(text: str) -> list[str]:
    """Whatever still looks like a Grafana variable (``$name``, ``${...}``, ``[[name]]``)."""
    return [match[0] for match in VARIABLE.finditer(text)]


def grafana_flux(
    query: str,
    variables: Mapping[str, Value],
    span: TimeRange,
    *,
    bucket: str = "noise",
    organization: str = "vallensbaek",
    all_values: Mapping[str, Value] | None = None,
) -> str:
    """``query`` as InfluxDB receives it from Grafana; fails the test if a variable is left
    (a misspelt or undefined one, which Grafana would pass on unchanged)."""
    text = _macros(
        replace_variables(query, variables, all_values=all_values), span, bucket, organization
    )
    left = leftover_variables(text)
    assert not left, f"Grafana variables left unsubstituted: {left} in\n{text}"
    return text
