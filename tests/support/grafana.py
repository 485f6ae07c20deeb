"""What Grafana does with a dashboard query, for checking queries against the app without a
Grafana: the dashboard's time range, ``${variable}`` interpolation, an Infinity root selector
and the type check of an Infinity column's cells."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")
FROM = datetime(2026, 3, 2, tzinfo=CPH)
TO = datetime(2026, 3, 4, tzinfo=CPH)
"""The dashboard's time range: two local days."""
_RFC3339_Z = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")


def substitute(text: str, variables: dict[str, str]) -> str:
    """Grafana's variable interpolation for ``${name}``; an unknown name fails the test."""

    def one(match: re.Match[str]) -> str:
        assert match[1] in variables, f"undefined Grafana variable {match[0]}"
        return variables[match[1]]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", one, text)


def select(body: Any, selector: str) -> list[dict[str, Any]]:
    """The rows a root selector names: a dotted path; "" is the body itself. A list must hold
    objects; an object is one row."""
    node = body
    for part in filter(None, selector.split(".")):
        assert isinstance(node, dict), f"root selector {selector!r}: {part!r} is not in an object"
        assert part in node, f"root selector {selector!r} not found"
        node = node[part]
    if isinstance(node, dict):
        return [node]
    assert isinstance(node, list), f"root selector {selector!r} is neither list nor object"
    assert all(isinstance(row, dict) for row in node), "rows must be objects"
    return node


def check_value(kind: str, value: Any, where: str) -> None:
    """A cell of an Infinity column of type ``kind``; ``null`` is a missing value."""
    if value is None:
        return
    if kind == "number":
        assert isinstance(value, int | float), where
        assert not isinstance(value, bool), where
    elif kind == "boolean":
        assert isinstance(value, bool), where
    elif kind == "string":
        assert isinstance(value, str), where
    elif kind == "timestamp_epoch":  # Infinity's "Time (UNIX ms)": 2000-01-01..2100-01-01
        assert isinstance(value, int), where
        assert not isinstance(value, bool), where
        assert 946_684_800_000 <= value <= 4_102_444_800_000, where
    else:  # timestamp: RFC 3339 in UTC with Z
        assert isinstance(value, str), where
        assert _RFC3339_Z.fullmatch(value), where
