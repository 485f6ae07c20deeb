"""``/api/v1/sensors/{id}/indicators``: Lday, Levening, Lnight, Lden per local date.

``start`` and ``end`` name local dates (``YYYY-MM-DD``), or instants (RFC 3339 with offset, or
epoch milliseconds as Grafana's ``${__from}``/``${__to}`` send) that are mapped to local dates in
the API's zone so the dates returned cover the instants' range: ``start`` becomes the local date
containing it, ``end`` the first local date starting at or after it (an ``end`` at local
midnight is that date, exclusive; any later instant includes its own date).

Computed from the hourly roll-up (exact energy sums; the per-minute one where the zone's local
hours are not whole UTC hours), so a year is answered without reading raw seconds. Periods
and zone follow the API settings (Denmark by default: day 07-19, evening 19-22 with +5 dB,
night 22-07 with +10 dB, weighted 12/3/9 hours).

The sensor's validity is applied (:mod:`noiselab.validity`, docs/staff.md): active staff
corrections (an excluded range left out, an offset added to its levels), excluding staff
annotations and, unless ``weather=include``, the minutes its weather station found outside the
conditions of ISO 1996-2; hours an edge cuts are read per minute. Each date says how many
measured seconds each cause left out, and the answer lists the "calibration uncertain" spans.
The stored readings stay as measured; the ``levels`` of the same sensor apply the same validity
(unless asked ``as_measured``).

Each date's indicators are kept (:class:`~noiselab.api.day_cache.DayCache`) for ``SETTLED_S``
seconds, or ``FRESH_S`` for yesterday and later, per sensor and set of corrections and
exclusion spans (:class:`~noiselab.api.validity_cache.ValidityCache`: a correction or an
annotation made through this API applies at once, one made elsewhere, or a weather span the
ingest merged, within the registry's cache window), and shared by every
caller who may see the sensor (visibility is checked first). An uncached year takes some 65 ms
(docs/benchmarks.md), and a dashboard refreshing a year-long panel recomputes only its last
days.
The encoded answer to an identical request is reused for ``FRESH_S`` too (a year's JSON takes
several milliseconds to build), so an answer may be up to ``FRESH_S`` older than its dates.

The route is ``async``: a repeated request (a kept key, sensor and answer) is answered on the
event loop without a thread hop; only reading and computing go to a worker thread, through
:func:`noiselab.api.read_gate.run_read` (charged by :func:`noiselab.api.cost.indicators_cost`).
Under load the hops, not the work, made the tail (docs/benchmarks.md, "HTTP API under load").
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request, Response

from noiselab.analysis.corrections import EXCLUSION_ORDER, RangeCorrection
from noiselab.analysis.decibels import leq, round_db_or_none
from noiselab.analysis.guidelines import classify
from noiselab.analysis.periods import DayIndicators
from noiselab.api.access import (
    PUBLIC_FRESH_S,
    PUBLIC_SETTLED_S,
    SENSOR_ERRORS,
    cache_headers,
    visible_sensor_async,
)
from noiselab.api.auth import OptionalPrincipal
from noiselab.api.cost import indicators_cost
from noiselab.api.day_cache import DayCache
from noiselab.api.deps import SensorsDep, SettingsDep, StoreDep, ValidityDep
from noiselab.api.params import WeatherParam, parse_instant
from noiselab.api.read_gate import Offload, run_read
from noiselab.api.schemas.errors import ErrorOut
from noiselab.api.schemas.indicators import IndicatorsOut
from noiselab.api.settings import ApiSettings
from noiselab.api.ttl_cache import TtlCache
from noiselab.api.validity_json import validity_json
from noiselab.model import rfc3339
from noiselab.store.base import ReadingStore
from noiselab.validity import SensorValidity
from noiselab.validity.daily import DailyPlan, ValidDay, daily_indicators

__all__ = ["MAX_DAYS", "router"]

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])

MAX_DAYS = 400
"""Dates one request may cover (a year and a bit)."""
FRESH_S = float(PUBLIC_FRESH_S)
"""How long the indicators of yesterday, today and later dates are reused, s."""
ANSWERS_KEPT = 256
"""Encoded answers kept (each for ``FRESH_S``): repeated identical requests are not encoded
again."""
SETTLED_S = float(PUBLIC_SETTLED_S)
"""How long those of earlier dates are reused, s. Both are the ``max-age`` public clients may
already keep such answers for, so late or re-delivered data shows within the same bound."""
DEFAULT_DAYS = 7
GUIDELINE_NOTE = (
    "Guideline values (Miljøstyrelsen) refer to the yearly average Lden and are not binding "
    "limits; over a shorter range the energetic mean of the daily Lden is an indication."
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@router.get(
    "/{sensor_id}/indicators",
    summary="Daily Lden and period levels of one sensor",
    response_model=IndicatorsOut,
    responses={
        **SENSOR_ERRORS,
        422: {"model": ErrorOut, "description": "A bad start or end."},
    },
)
async def get_indicators(
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
            description="First local date, YYYY-MM-DD, or an instant (RFC 3339 with offset, or "
            "epoch milliseconds as Grafana's ${__from}) whose local date is the first; "
            "default end - 7 days."
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            description="Local date after the last one, YYYY-MM-DD, or an instant (RFC 3339, "
            "epoch ms): the dates up to and including the one containing it (exclusive at "
            "local midnight); default today."
        ),
    ] = None,
    weather: WeatherParam = "exclude",
) -> Response:
    """Lday, Levening, Lnight, Lden, Ldn and LAeq,24h per local date in [start, end), with
    what was left out for weather, annotations and corrections."""
    sensor = await visible_sensor_async(sensors, sensor_id, principal)
    today = datetime.fromtimestamp(settings.clock(), settings.tz).date()
    last = _date("end", end, settings.tz, ceil=True) if end else today
    first = _date("start", start, settings.tz) if start else last - timedelta(days=DEFAULT_DAYS)
    if first >= last:
        raise HTTPException(422, f"start: must be before end ({first} >= {last})")
    if (last - first).days > MAX_DAYS:
        raise HTTPException(422, f"start: at most {MAX_DAYS} days per request")
    days_cache, bodies = _caches(request, settings)
    valid = await validity.get_async(sensor.id, weather)
    ranges = valid.ranges
    version = hash(ranges)

    def keep_s(day: date) -> float:
        return SETTLED_S if day < today - timedelta(days=1) else FRESH_S

    def work(offload: Offload) -> bytes:
        def compute(lo: date, hi: date) -> list[DayIndicators]:
            return list(offload(_compute, settings, sensor.id, lo, hi, ranges))

        def encode() -> bytes:
            days = days_cache.get((sensor.id, version), first, last, compute, keep_s)
            return _encode(
                settings,
                sensor_id=sensor.id,
                source=sensor.source,
                first=first,
                last=last,
                days=days,
                valid=valid,
            )

        return bodies.get(key, encode)

    key = (sensor.id, sensor.source, first, last, version, weather)
    body = bodies.peek(key)
    if body is None:
        body = await run_read(request, principal, indicators_cost(first, last), store, work)
    response = Response(body, media_type="application/json")
    # The night of the last date ends the next morning: settled once `end` is before today.
    cache_headers(response, principal, settled=last < today)
    return response


def _encode(
    settings: ApiSettings,
    *,
    sensor_id: str,
    source: str | None,
    first: date,
    last: date,
    days: list[DayIndicators],
    valid: SensorValidity,
) -> bytes:
    """The answer's JSON (``IndicatorsOut``)."""
    t0 = datetime(first.year, first.month, first.day, tzinfo=settings.tz).timestamp()
    t1 = datetime(last.year, last.month, last.day, tzinfo=settings.tz).timestamp()
    totals = dict.fromkeys(EXCLUSION_ORDER, 0.0)
    for day in days:
        for cause, seconds in day.excluded_s if isinstance(day, ValidDay) else ():
            totals[cause] += seconds
    body = {
        "sensor_id": sensor_id,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "zone": settings.zone,
        "periods": _periods_json(settings.day, settings.evening, settings.night),
        "guideline": _guideline_json(source, days),
        "days": [_day_json(day, settings.tz) for day in days],
        **validity_json(valid, (t0, t1), totals, valid.weather),
    }
    return msgspec.json.encode(body)


def _caches(request: Request, settings: ApiSettings) -> tuple[DayCache, TtlCache[bytes]]:
    """The app's caches of daily indicators and of encoded answers, made on first use."""
    state = request.app.state
    caches: tuple[DayCache, TtlCache[bytes]] | None = getattr(state, "indicators_caches", None)
    if caches is None:
        caches = (DayCache(settings.clock), TtlCache(FRESH_S, settings.clock, ANSWERS_KEPT))
        state.indicators_caches = caches
    return caches


def _compute(  # noqa: PLR0917 - pickled positionally to a worker process
    store: ReadingStore,
    settings: ApiSettings,
    sensor_id: str,
    first: date,
    last: date,
    ranges: tuple[RangeCorrection, ...] = (),
) -> list[DayIndicators]:
    """The indicators of the local dates ``[first, last)`` with ``ranges`` (the sensor's
    corrections and exclusion spans) applied (:func:`noiselab.validity.daily.daily_indicators`)."""
    plan = DailyPlan(settings.tz, settings.day, settings.evening)
    return list(daily_indicators(store, plan, sensor_id, first, last, ranges))


def _periods_json(
    day: tuple[int, int], evening: tuple[int, int], night: tuple[int, int]
) -> dict[str, str]:
    """Local hours of each period and the Lden weights: the periods' lengths in hours."""
    hours = (day[1] - day[0], evening[1] - evening[0], 24 - (evening[1] - day[0]))
    return {
        "day": f"{day[0]:02d}-{day[1]:02d}",
        "evening": f"{evening[0]:02d}-{evening[1]:02d}",
        "night": f"{night[0]:02d}-{night[1]:02d}",
        "weights": "/".join(str(h) for h in hours),
    }


def _date(name: str, value: str, zone: ZoneInfo, *, ceil: bool = False) -> date:
    """The local date a ``start``/``end`` value names: a ``YYYY-MM-DD`` date as is; an instant
    (anything else :func:`parse_instant` takes) as the local date in ``zone`` containing it,
    or with ``ceil`` the first local date starting at or after it."""
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            parsed = date.fromisoformat(text)
        except ValueError as exc:
            raise HTTPException(422, f"{name}: {value[:40]!r} is not a date ({exc})") from exc
    else:
        instant = parse_instant(name, text, zone).astimezone(zone)
        parsed = instant.date()
        if ceil and instant.time() != time(0):
            parsed += timedelta(days=1)
    if not date(1970, 1, 2) <= parsed <= date(2099, 12, 31):
        raise HTTPException(422, f"{name}: {parsed} is outside 1970-01-02..2099-12-31")
    return parsed


def _guideline_json(source: str | None, days: list[DayIndicators]) -> dict[str, object] | None:
    """The range's mean Lden against the Danish guideline for dwellings of the sensor's source
    (None for a source without one). Guideline values refer to a long-term (yearly) average
    Lden, so one day is never judged alone: the daily values are averaged energetically.
    Wording: "above the guideline value", never "violation"."""
    if source not in ("road", "rail"):
        return None
    values = [day.lden for day in days if day.lden is not None]
    mean = leq(values) if values else None
    assessment = classify(source, lden=mean)
    if assessment.guideline is None:
        return None
    return {
        "lden_mean": round_db_or_none(mean),
        "days_with_lden": len(values),
        "lden_db": assessment.guideline.value_db,
        "above": assessment.above_guideline,
        "margin_db": round_db_or_none(assessment.margin_db),
        "strongly_affected": assessment.strongly_affected,
        "label_en": assessment.label_en,
        "label_da": assessment.label_da,
        "note": GUIDELINE_NOTE,
    }


def _day_json(day: DayIndicators, zone: ZoneInfo) -> dict[str, object]:
    """A row as ``DayIndicatorsOut`` describes it: ``t`` is the local date's midnight in UTC
    (a time column for Grafana), and coverage is given both nested and as flat fields (flat
    rows suit table parsers such as Grafana Infinity's)."""
    midnight = datetime(day.date.year, day.date.month, day.date.day, tzinfo=zone)
    coverage = {
        "day": round(day.coverage_day, 4),
        "evening": round(day.coverage_evening, 4),
        "night": round(day.coverage_night, 4),
    }
    return {
        "date": day.date.isoformat(),
        "t": rfc3339(midnight),
        "lday": round_db_or_none(day.lday),
        "levening": round_db_or_none(day.levening),
        "lnight": round_db_or_none(day.lnight),
        "lden": round_db_or_none(day.lden),
        "ldn": round_db_or_none(day.ldn),
        "laeq24": round_db_or_none(day.laeq24),
        "coverage": coverage,
        **{f"coverage_{period}": value for period, value in coverage.items()},
        **_excluded_json(day),
    }


def _excluded_json(day: DayIndicators) -> dict[str, object]:
    excluded = dict(day.excluded_s) if isinstance(day, ValidDay) else {}
    rounded = {cause: round(excluded.get(cause, 0.0), 3) for cause in EXCLUSION_ORDER}
    return {"excluded_s": rounded, "excluded_weather_s": rounded["weather"]}
