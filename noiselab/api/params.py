"""Request parameters shared by every route: the time range and row ids.

Times in a query (``start``, ``end``) are RFC 3339 with an offset, a bare date (local midnight
in the API's zone) or Unix epoch milliseconds (Grafana's ``${__from}``); a bad one answers 422
naming the parameter. Row ids in paths are 64-bit integers (:data:`RowId`). Answers format
times with :func:`noiselab.model.rfc3339` (UTC, ``Z``) and round levels with
:func:`noiselab.analysis.decibels.round_db`: both are used beyond the API, so they live there.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Path, Query

from noiselab.model import rfc3339

__all__ = [
    "DEFAULT_SPAN",
    "EARLIEST",
    "LATEST",
    "MAX_ID",
    "RowId",
    "WeatherParam",
    "parse_instant",
    "resolve_window",
]

WeatherParam = Annotated[
    Literal["exclude", "include"],
    Query(
        description="exclude (default, as ISO 1996-2 asks): data measured in wind above 5 m/s "
        "at the microphone or in rain is left out; include: kept."
    ),
]
"""The ``weather`` choice of every answer that applies a sensor's validity."""

DEFAULT_SPAN = timedelta(hours=24)
"""The range of a query that names no ``start``: the 24 h before ``end``."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest instant a query may name: the Unix epoch (no reading can be older)."""
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The latest instant a query may name (readings can be at most minutes in the future)."""
MAX_ID = 2**63 - 1
"""Ids are 64-bit integers; larger numbers answer 422, not a database error."""
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A database row id in a path (alerts, rules, quarantine entries)."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH_MS = re.compile(r"[0-9]{12,15}")  # >= 12 digits: epoch seconds are refused, not misread
_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _bad(name: str, problem: str) -> HTTPException:
    return HTTPException(status_code=422, detail=f"{name}: {problem}")


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def parse_instant(name: str, value: str, zone: ZoneInfo) -> datetime:
    """An aware instant from an RFC 3339 time with offset (``Z`` or ``+01:00``), a bare date
    (local midnight in ``zone``) or Unix epoch **milliseconds** as 12 to 15 digits (what
    Grafana's ``${__from}`` and ``${__to}`` expand to; 10-digit epoch seconds are refused).
    Anything else raises a 422 ``HTTPException`` naming ``name``."""
    text = value.strip()
    try:
        if _EPOCH_MS.fullmatch(text):
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        match = _INSTANT.fullmatch(text)
        if match is None:
            raise _bad(
                name,
                f"{_shown(value)} is not an RFC 3339 time (2026-03-29T12:00:00Z), "
                "a date (2026-03-29) or epoch milliseconds (1774785600000)",
            )
        if match["offset"] is None:
            raise _bad(name, f"{_shown(value)} has no UTC offset: add Z or e.g. +01:00")
        offset = "+00:00" if match["offset"] in "Zz" else match["offset"]
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}{offset}")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise _bad(name, f"{_shown(value)} is not a valid time ({exc})") from exc


def resolve_window(
    start: str | None, end: str | None, now: float, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC from the query strings: ``end`` defaults to ``now`` (Unix s),
    ``start`` to ``end - 24 h``; empty means absent. ``start`` must be before ``end``, and both
    within ``[EARLIEST, LATEST]``."""
    last = parse_instant("end", end, zone) if end else datetime.fromtimestamp(now, UTC)
    _check_served("end", last)
    first = parse_instant("start", start, zone) if start else last - DEFAULT_SPAN
    _check_served("start", first)
    if first >= last:
        raise _bad("start", f"must be before end ({rfc3339(first)} >= {rfc3339(last)})")
    return first, last


def _check_served(name: str, instant: datetime) -> None:
    if not EARLIEST <= instant <= LATEST:
        raise _bad(name, f"{rfc3339(instant)} is outside {rfc3339(EARLIEST)}..{rfc3339(LATEST)}")
