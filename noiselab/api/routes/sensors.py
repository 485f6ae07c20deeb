"""``/api/v1/sensors``: the sensor list, one sensor, and its levels.

Visibility follows the caller's key (``noiselab.api.auth``): the public sees public sensors, a
vendor also its own, staff and admin all. A sensor the caller may not see answers 404 like an
unknown one, so its existence is not revealed.

Public callers get aggregated levels only: ``every`` of 15m or coarser (finer answers 403; the
default is 15m for them, 1m for keys allowed finer data). Staff, admin and a vendor on its own
sensors may ask for any ``every``. Cache headers: see :func:`cache_headers`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.analysis.buckets import Every
from noiselab.api.auth import OptionalPrincipal, Principal, visible
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.schemas import (
    PERCENTILES_NOTE,
    ErrorOut,
    LevelsOut,
    SensorDetail,
    SensorOut,
    SensorStatus,
)
from noiselab.api.settings import ApiSettings
from noiselab.model import Sensor
from noiselab.store.base import LevelPoint, SensorActivity
from noiselab.store.metadata import MetadataStore

__all__ = [
    "EARLIEST",
    "LATEST",
    "PUBLIC_EVERY",
    "PUBLIC_FRESH_S",
    "PUBLIC_SETTLED_S",
    "SENSOR_ERRORS",
    "cache_headers",
    "fine_data_allowed",
    "parse_instant",
    "public_sensor",
    "resolve_window",
    "rfc3339",
    "router",
    "sensor_status",
    "visible_sensor",
]

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])

DEFAULT_SPAN = timedelta(hours=24)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest instant a query may name: the Unix epoch (no reading can be older)."""
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The latest instant a query may name (readings can be at most minutes in the future)."""
PUBLIC_FRESH_S = 15
"""``max-age`` of public answers that may still change (the sensor list, recent data)."""
PUBLIC_SETTLED_S = 300
"""``max-age`` of public answers about a range fully in the past."""
PUBLIC_EVERY = frozenset({Every.M15, Every.H1, Every.D1})
"""Bucket widths served without a key (aggregated data only)."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH_MS = re.compile(r"[0-9]{12,15}")  # >= 12 digits: epoch seconds are refused, not misread
_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_TOO_MANY: dict[str, Any] = {
    "model": ErrorOut,
    "description": "Too many requests without a key from this address; see `Retry-After`.",
}
SENSOR_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Unknown sensor, or one the caller may not see."},
    401: {"model": ErrorOut, "description": "A bad or revoked API key."},
    429: _TOO_MANY,
}
"""The errors of every route under /api/v1/sensors/{id}: unknown or hidden sensor, bad key,
rate limit."""


@router.get(
    "",
    summary="List sensors",
    responses={
        401: {"model": ErrorOut, "description": "A bad or revoked API key."},
        429: _TOO_MANY,
    },
)
def list_sensors(
    response: Response,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
) -> list[SensorOut]:
    """The sensors the caller may see (without a key: the public ones) with their status
    (online, stale, offline) and when data was last seen."""
    cache_headers(response, principal, settled=False)
    now = settings.clock()
    seen = {activity.sensor_id: activity for activity in store.activity()}
    return [
        SensorOut(**_sensor_fields(sensor, seen.get(sensor.id), now, settings))
        for sensor in meta.sensors.all()
        if visible(principal, sensor)
    ]


@router.get(
    "/{sensor_id}",
    summary="One sensor",
    responses={**SENSOR_ERRORS, 422: {"model": ErrorOut, "description": "A bad request."}},
)
def get_sensor(
    sensor_id: str,
    *,
    response: Response,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
) -> SensorDetail:
    """One visible sensor with its description, status and when data was last seen."""
    sensor = visible_sensor(meta, sensor_id, principal)
    cache_headers(response, principal, settled=False)
    seen = next((a for a in store.activity() if a.sensor_id == sensor_id), None)
    fields = _sensor_fields(sensor, seen, settings.clock(), settings)
    return SensorDetail(**fields, description=sensor.description)


@router.get(
    "/{sensor_id}/levels",
    summary="Levels of one sensor",
    response_model=LevelsOut,
    responses={
        **SENSOR_ERRORS,
        400: {"model": ErrorOut, "description": "Too many buckets: narrow the range."},
        403: {
            "model": ErrorOut,
            "description": "Buckets finer than 15m without a key allowed them.",
        },
        422: {"model": ErrorOut, "description": "A bad start, end or every."},
    },
)
def get_levels(
    sensor_id: str,
    *,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    start: Annotated[
        str | None,
        Query(
            description="RFC 3339 time with offset (2026-03-29T12:00:00Z), a date "
            "(2026-03-29 = local midnight) or epoch milliseconds (Grafana's ${__from}); "
            "default end - 24 h."
        ),
    ] = None,
    end: Annotated[str | None, Query(description="Like start, exclusive; default now.")] = None,
    every: Annotated[
        Every | None,
        Query(
            description="Bucket width; 1d is aligned to local midnight. Without a key only "
            "15m, 1h and 1d (default 15m); with staff/admin keys or a vendor key on its own "
            "sensor any (default 1m)."
        ),
    ] = None,
) -> Response:
    """Energetic LAeq, LAFmax, L10/L50/L90 and coverage in buckets of `every` over [start, end)."""
    sensor = visible_sensor(meta, sensor_id, principal)
    fine = fine_data_allowed(principal, sensor)
    if every is None:
        every = Every.M1 if fine else Every.M15
    if not fine and every not in PUBLIC_EVERY:
        raise HTTPException(
            403,
            "public access serves 15m buckets or coarser; use an API key for finer data"
            if principal is None
            else f"this key may read 15m buckets or coarser of {sensor_id!r}; "
            "finer data needs a staff key or the sensor's vendor key",
        )
    now = settings.clock()
    first, last = resolve_window(start, end, now, settings.tz)
    points = store.levels(sensor_id, first, last, every, settings.tz)
    body = {
        "sensor_id": sensor_id,
        "every": every.value,
        "start": rfc3339(first),
        "end": rfc3339(last),
        "points": [_point_json(point) for point in points],
        "notes": [PERCENTILES_NOTE] if any(p.l10 is None for p in points) else [],
    }
    # Encoded directly: up to 100,000 points, ~5x faster than building pydantic models.
    # LevelsOut documents the shape (tests check the body against it).
    response = Response(msgspec.json.encode(body), media_type="application/json")
    width = every.seconds or 86_400
    cache_headers(response, principal, settled=last.timestamp() <= now - width)
    return response


# --------------------------------------------------------------------------- helpers


def fine_data_allowed(principal: Principal | None, sensor: Sensor) -> bool:
    """Whether ``principal`` may read ``sensor`` in buckets finer than 15 minutes: staff and
    admin always, a vendor on its own sensors, the public never."""
    if principal is None:
        return False
    return principal.sees_all or principal.owns(sensor.id)


def cache_headers(response: Response, principal: Principal | None, *, settled: bool) -> None:
    """``Cache-Control`` of a successful GET: ``private, no-store`` when a key was presented;
    for the public ``public, max-age=300`` when the answer covers a range fully in the past
    (``settled``), else ``max-age=15``. ``Vary: Authorization`` keeps shared caches from
    handing a public answer to a key holder or the reverse."""
    if principal is not None:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        age = PUBLIC_SETTLED_S if settled else PUBLIC_FRESH_S
        response.headers["Cache-Control"] = f"public, max-age={age}"
    response.headers["Vary"] = "Authorization"


def sensor_status(
    activity: SensorActivity | None, now: float, settings: ApiSettings
) -> SensorStatus:
    """``online`` when data arrived within ``stale_after_s`` of ``now`` (Unix s), ``stale``
    within ``offline_after_s``, else (or never) ``offline``."""
    if activity is None:
        return "offline"
    age = now - activity.last_received
    if age <= settings.stale_after_s:
        return "online"
    return "stale" if age <= settings.offline_after_s else "offline"


def _sensor_fields(
    sensor: Sensor, activity: SensorActivity | None, now: float, settings: ApiSettings
) -> dict[str, Any]:
    return {
        "id": sensor.id,
        "name": sensor.name,
        "lat": sensor.lat,
        "lon": sensor.lon,
        "source": sensor.source,
        "status": sensor_status(activity, now, settings),
        "last_seen": None if activity is None else datetime.fromtimestamp(activity.last_ts, UTC),
    }


def visible_sensor(meta: MetadataStore, sensor_id: str, principal: Principal | None) -> Sensor:
    """The registered sensor ``sensor_id`` if ``principal`` (``None``: the public) may see it,
    else a 404 ``HTTPException`` that reads the same as for an unknown sensor."""
    sensor = meta.sensors.get(sensor_id)
    if sensor is None or not visible(principal, sensor):
        raise HTTPException(status_code=404, detail=f"unknown sensor {sensor_id!r}")
    return sensor


def public_sensor(meta: MetadataStore, sensor_id: str) -> Sensor:
    """The registered public sensor ``sensor_id``, or a 404 ``HTTPException``."""
    return visible_sensor(meta, sensor_id, None)


def _point_json(point: LevelPoint) -> dict[str, object]:
    """A point as ``LevelPointOut`` describes it: dB to 0.01, coverage to 0.0001, UTC ``Z``."""
    return {
        "t": rfc3339(point.t),
        "laeq": round(point.laeq, 2),
        "lafmax": None if point.lafmax is None else round(point.lafmax, 2),
        "l10": rounded(point.l10),
        "l50": rounded(point.l50),
        "l90": rounded(point.l90),
        "coverage": round(point.coverage, 4),
    }


def rounded(level: float | None) -> float | None:
    """A level in dB to 0.01, ``None`` kept."""
    return None if level is None else round(level, 2)


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


def rfc3339(instant: datetime) -> str:
    """``instant`` as RFC 3339 in UTC with ``Z`` (microseconds only when there are some)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
