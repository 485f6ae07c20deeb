"""``/api/v1/sensors``: the sensor list, one sensor, and its levels.

Visibility follows the caller's key (:mod:`noiselab.api.access`): the public sees public sensors, a
vendor also its own, staff and admin all. A sensor the caller may not see answers 404 like an
unknown one, so its existence is not revealed.

Public callers get aggregated levels only: ``every`` of 15m or coarser (finer answers 403; the
default is 15m for them, 1m for keys allowed finer data). Staff, admin and a vendor on its own
sensors may ask for any ``every``. Cache headers: see
:func:`noiselab.api.access.cache_headers`.

What the levels leave out. By default a sensor's levels are the data the platform stands
behind, the same the daily indicators are computed from (:mod:`noiselab.validity`,
docs/staff.md): active staff corrections apply (an offset added, an excluded range left out),
and the minutes of excluding annotations and of the sensor's weather outside the conditions of
ISO 1996-2 are left out of each bucket's LAeq, LAFmax, L10/L50/L90 and coverage. A level
plotted beside the Lden it enters is then the same data, and rain does not pass for traffic. A
bucket says how many measured seconds it lost (``excluded_s``), so a dashboard tells an
exclusion from an outage, and the answer gives them per cause with the annotations that
excluded and the "calibration uncertain" spans, as the indicators do. ``weather=include`` keeps
the weather (to see what the rain did); ``as_measured=true`` gives the stored levels untouched,
nothing corrected or left out (to check a sensor, or compare with a meter on site).

``levels`` is ``async`` and reads through :func:`noiselab.api.read_gate.run_read`: charged by
:func:`noiselab.api.cost.levels_cost` to the caller's budget (with the minutes of the hours a
correction or exclusion edge cuts, read per minute), and run in the heavy pool when costly (a
day of ``1s`` buckets is ~1 M units).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request, Response

from noiselab.analysis.buckets import Every
from noiselab.analysis.corrections import partial_buckets
from noiselab.analysis.decibels import round_db, round_db_or_none
from noiselab.api.access import (
    PUBLIC_EVERY,
    SENSOR_ERRORS,
    cache_headers,
    fine_data_allowed,
    visible,
    visible_sensor,
    visible_sensor_async,
)
from noiselab.api.auth import OptionalPrincipal
from noiselab.api.cost import Cost, levels_cost
from noiselab.api.deps import MetaDep, SensorsDep, SettingsDep, StoreDep, ValidityDep
from noiselab.api.params import WeatherParam, resolve_window
from noiselab.api.read_gate import Offload, run_read
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.sensors import (
    LEFT_OUT_NOTE,
    OFFSET_NOTE,
    PERCENTILES_NOTE,
    LevelsOut,
    SensorDetail,
    SensorOut,
)
from noiselab.api.settings import ApiSettings
from noiselab.api.status import sensor_status
from noiselab.api.validity_json import validity_json
from noiselab.model import Sensor, rfc3339
from noiselab.store.base import LevelPoint, ReadingStore, SensorActivity
from noiselab.store.level_buckets import MAX_POINTS
from noiselab.validity import SensorValidity, WeatherChoice

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])


@router.get(
    "",
    summary="List sensors",
    responses={401: SENSOR_ERRORS[401], 429: SENSOR_ERRORS[429]},
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
    sensors: SensorsDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
) -> SensorDetail:
    """One visible sensor with its description, status and when data was last seen."""
    sensor = visible_sensor(sensors, sensor_id, principal)
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
        422: {
            "model": ErrorOut,
            "description": "A bad start, end or every, or a read over the caller's budget.",
        },
        503: {"model": ErrorOut, "description": "Too many costly reads; see `Retry-After`."},
    },
)
async def get_levels(
    sensor_id: str,
    *,
    request: Request,
    store: StoreDep,
    sensors: SensorsDep,
    validity: ValidityDep,
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
    weather: WeatherParam = "exclude",
    as_measured: Annotated[
        bool,
        Query(
            description="true: the stored levels as measured, no staff correction applied and "
            "nothing left out (weather does not apply); false (default): the sensor's "
            "corrections, excluding annotations and the weather choice apply."
        ),
    ] = False,
) -> Response:
    """Energetic LAeq, LAFmax, L10/L50/L90 and coverage in buckets of `every` over [start, end),
    with the weather (unless weather=include), excluding annotations and corrections left out
    and the seconds each cause removed (as_measured=true: the levels as stored)."""
    sensor = await visible_sensor_async(sensors, sensor_id, principal)
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
    chosen = every
    valid = None if as_measured else await validity.get_async(sensor.id, weather)
    asked = _LevelsRequest(sensor.id, (first, last), chosen, weather, _near(valid, first, last))

    def work(offload: Offload) -> bytes:
        return bytes(offload(_encode_levels, settings.tz, asked))

    cost = levels_cost(first, last, every, cut_hours=_cut_hours(asked.valid, first, last, every))
    if cost.points > MAX_POINTS + 1:
        cost = Cost(0, 0)  # the store refuses it (400) before reading anything: not charged
    body = await run_read(request, principal, cost, store, work)
    response = Response(body, media_type="application/json")
    width = every.seconds or 86_400
    cache_headers(response, principal, settled=last.timestamp() <= now - width)
    return response


# --------------------------------------------------------------------------- helpers

_NEAR_S = 2 * 86_400.0
"""How far beyond a levels request the validity is kept (s): its whole buckets reach at most a
(25-hour) day beyond it."""


@dataclass(frozen=True, slots=True)
class _LevelsRequest:
    """What a levels answer is computed from (sent to a worker process when heavy): the
    sensor, ``[first, last)``, the bucket width, the weather choice and the sensor's validity
    (``None``: as measured)."""

    sensor_id: str
    span: tuple[datetime, datetime]
    every: Every
    weather: WeatherChoice
    valid: SensorValidity | None


def _near(valid: SensorValidity | None, first: datetime, last: datetime) -> SensorValidity | None:
    """``valid`` with only what overlaps ``[first, last)`` widened by two days (the whole
    buckets at both ends reach at most a day beyond it): a sensor's history of spans need not
    go to a worker process, nor be searched, for a week of levels."""
    if valid is None:
        return None
    lo, hi = first.timestamp() - _NEAR_S, last.timestamp() + _NEAR_S
    return SensorValidity(
        tuple(r for r in valid.ranges if r.end > lo and r.start < hi),
        tuple(valid.exclusions(lo, hi)),
        tuple(valid.flags(lo, hi)),
        valid.weather,
    )


def _cut_hours(valid: SensorValidity | None, first: datetime, last: datetime, every: Every) -> int:
    """The hours of ``[first, last)`` that an edge of the validity's ranges cuts: read per minute
    in buckets of an hour or more (finer buckets read minutes anyway)."""
    if valid is None or not valid.ranges or (every.seconds or 86_400) < 3600:
        return 0
    return int(partial_buckets(valid.ranges, first.timestamp(), last.timestamp(), 3600.0).size)


def _encode_levels(store: ReadingStore, zone: ZoneInfo, asked: _LevelsRequest) -> bytes:
    """The answer's JSON (``LevelsOut``) of the request's buckets."""
    first, last = asked.span
    ranges = () if asked.valid is None else asked.valid.ranges
    found = store.valid_levels(asked.sensor_id, first, last, asked.every, zone, ranges=ranges)
    points = found.points
    left_out = sum(found.excluded_s.values())
    nulls = sum(p.l10 is None for p in points)
    notes = [
        *([PERCENTILES_NOTE] if nulls > found.offset_cut else []),
        *([OFFSET_NOTE] if found.offset_cut else []),
        *([LEFT_OUT_NOTE] if left_out > 0 else []),
    ]
    body = {
        "sensor_id": asked.sensor_id,
        "every": asked.every.value,
        "start": rfc3339(first),
        "end": rfc3339(last),
        "as_measured": asked.valid is None,
        **validity_json(
            asked.valid, (first.timestamp(), last.timestamp()), found.excluded_s, asked.weather
        ),
        "points": [_point_json(point) for point in points],
        "notes": notes,
    }
    # Encoded directly: up to 100,000 points, ~5x faster than building pydantic models.
    # LevelsOut documents the shape (tests check the body against it).
    return msgspec.json.encode(body)


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


def _point_json(point: LevelPoint) -> dict[str, object]:
    """A point as ``LevelPointOut`` describes it: dB to 0.01, coverage to 0.0001, UTC ``Z``."""
    return {
        "t": rfc3339(point.t),
        "laeq": round_db(point.laeq),
        "lafmax": round_db_or_none(point.lafmax),
        "l10": round_db_or_none(point.l10),
        "l50": round_db_or_none(point.l50),
        "l90": round_db_or_none(point.l90),
        "coverage": round(point.coverage, 4),
        "excluded_s": round(point.excluded_s, 3),
    }
