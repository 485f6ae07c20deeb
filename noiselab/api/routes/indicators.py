"""``/api/v1/sensors/{id}/indicators``: Lday, Levening, Lnight, Lden per local date.

Computed from the per-minute roll-up (exact energy sums), so a year is answered without reading
raw seconds. Periods and zone follow the API settings (Denmark by default: day 07-19, evening
19-22 with +5 dB, night 22-07 with +10 dB, weighted 12/3/9 hours).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import msgspec
import numpy as np
from fastapi import APIRouter, HTTPException, Query, Response

from noiselab.analysis.guidelines import classify
from noiselab.analysis.periods import DayIndicators, lden
from noiselab.api.auth import OptionalPrincipal
from noiselab.api.deps import MetaDep, SettingsDep, StoreDep
from noiselab.api.routes.sensors import cache_headers, visible_sensor
from noiselab.api.schemas import ErrorOut, IndicatorsOut

__all__ = ["MAX_DAYS", "router"]

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])

MAX_DAYS = 400
"""Dates one request may cover (a year and a bit)."""
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
        404: {"model": ErrorOut, "description": "Unknown sensor, or one the caller may not see."},
        422: {"model": ErrorOut, "description": "A bad start or end."},
    },
)
def get_indicators(
    sensor_id: str,
    *,
    store: StoreDep,
    meta: MetaDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    start: Annotated[
        str | None, Query(description="First local date, YYYY-MM-DD; default end - 7 days.")
    ] = None,
    end: Annotated[
        str | None, Query(description="Local date after the last one, YYYY-MM-DD; default today.")
    ] = None,
) -> Response:
    """Lday, Levening, Lnight, Lden, Ldn and LAeq,24h per local date in [start, end)."""
    sensor = visible_sensor(meta, sensor_id, principal)
    today = datetime.fromtimestamp(settings.clock(), settings.tz).date()
    last = _date("end", end) if end else today
    first = _date("start", start) if start else last - timedelta(days=DEFAULT_DAYS)
    if first >= last:
        raise HTTPException(422, f"start: must be before end ({first} >= {last})")
    if (last - first).days > MAX_DAYS:
        raise HTTPException(422, f"start: at most {MAX_DAYS} days per request")
    # The night of the last date ends the next morning; LAeq,24h needs whole local days.
    fetch_from = datetime(first.year, first.month, first.day, tzinfo=settings.tz)
    after = last + timedelta(days=1)
    fetch_to = datetime(after.year, after.month, after.day, tzinfo=settings.tz)
    minutes = store.minute_series(sensor_id, fetch_from.astimezone(UTC), fetch_to.astimezone(UTC))
    days = lden(
        minutes.ts,
        minutes.laeq,
        minutes.duration,
        tz=settings.zone,
        day=settings.day,
        evening=settings.evening,
        start=first,
        end=last,
    )
    body = {
        "sensor_id": sensor_id,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "zone": settings.zone,
        "periods": _periods_json(settings.day, settings.evening, settings.night),
        "guideline": _guideline_json(sensor.source, days),
        "days": [_day_json(day) for day in days],
    }
    response = Response(msgspec.json.encode(body), media_type="application/json")
    # The night of the last date ends the next morning: settled once `end` is before today.
    cache_headers(response, principal, settled=last < today)
    return response


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


def _date(name: str, value: str) -> date:
    text = value.strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError("expected YYYY-MM-DD")
        parsed = date.fromisoformat(text)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {value[:40]!r} is not a date ({exc})") from exc
    if not date(1970, 1, 2) <= parsed <= date(2099, 12, 31):
        raise HTTPException(422, f"{name}: {parsed} is outside 1970-01-02..2099-12-31")
    return parsed


def _db(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _guideline_json(source: str | None, days: list[DayIndicators]) -> dict[str, object] | None:
    """The range's mean Lden against the Danish guideline for dwellings of the sensor's source
    (None for a source without one). Guideline values refer to a long-term (yearly) average
    Lden, so one day is never judged alone: the daily values are averaged energetically.
    Wording: "above the guideline value", never "violation"."""
    if source not in ("road", "rail"):
        return None
    values = [day.lden for day in days if day.lden is not None]
    mean = (
        float(10.0 * np.log10(np.mean(np.power(10.0, np.array(values) / 10.0)))) if values else None
    )
    assessment = classify(source, lden=mean)
    if assessment.guideline is None:
        return None
    return {
        "lden_mean": None if mean is None else round(mean, 2),
        "days_with_lden": len(values),
        "lden_db": assessment.guideline.value_db,
        "above": assessment.above_guideline,
        "margin_db": None if assessment.margin_db is None else round(assessment.margin_db, 2),
        "strongly_affected": assessment.strongly_affected,
        "label_en": assessment.label_en,
        "label_da": assessment.label_da,
        "note": GUIDELINE_NOTE,
    }


def _day_json(day: DayIndicators) -> dict[str, object]:
    return {
        "date": day.date.isoformat(),
        "lday": _db(day.lday),
        "levening": _db(day.levening),
        "lnight": _db(day.lnight),
        "lden": _db(day.lden),
        "ldn": _db(day.ldn),
        "laeq24": _db(day.laeq24),
        "coverage": {
            "day": round(day.coverage_day, 4),
            "evening": round(day.coverage_evening, 4),
            "night": round(day.coverage_night, 4),
        },
    }
